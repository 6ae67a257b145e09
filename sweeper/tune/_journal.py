"""Reading a sweep's study journal as it was left: loaded, never created; a journal cut
short (trial folders it does not know), torn (a partial last line) or damaged (a bad line).

A partial last line comes from a crash or a full disk mid-append: Optuna's reader skips it
silently, so a winner's COMPLETE record lost that way made another trial the winner, and a
resume appending after it broke the whole file (a line of two half records).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import optuna

from sweeper.config import SweepConfig
from sweeper.errors import InputError
from sweeper.tune._study import FORMER_RAY_IDS, JOURNAL, RAY_ID


def open_existing(cfg: SweepConfig, folder: str | Path) -> optuna.Study:
    """The study of the sweep folder ``folder``, loaded, never created: status, summarize,
    export-best and resume must not start an empty study where the journal went missing
    (and status only reads, so a read-only folder is fine)."""
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    from sweeper.tune.storage import open_study_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if cfg.storage is None or "://" not in cfg.storage:
        # The folder's own journal; a storage: path was resolved from the sweep's working
        # directory, which a reader on another machine may not have: try the folder first.
        path = Path(folder) / JOURNAL
        if not path.is_file() and cfg.storage is not None:
            path = Path(cfg.storage)
        if not path.is_file():
            named = JOURNAL if cfg.storage is None else f"{JOURNAL}, nor storage: {cfg.storage}"
            raise InputError(
                f"{str(folder)!r} has no study journal ({named}); fix: give the folder "
                "`sweeper run` made (its journal may still be on the machine that ran it), "
                "or restore the journal from a backup"
            )
        try:  # reads; opens nothing to write
            storage = JournalStorage(JournalFileBackend(str(path)))
        except json.JSONDecodeError as err:
            raise _damaged(path, err) from None
        # Valid JSON that is not an operation Optuna can replay (a field missing or of the
        # wrong type: a cut write that still parses, an edit): was "internal error: KeyError".
        except (KeyError, TypeError, IndexError, AttributeError) as err:
            raise InputError(
                f"{path} holds a line Optuna cannot replay ({type(err).__name__}: {err}): a "
                "write was cut or the file was edited; fix: restore the journal from a backup "
                "(a `study.journal.torn-*` copy beside it?)"
            ) from None
    else:
        file = cfg.storage.split(":///", 1)[1] if cfg.storage.startswith("sqlite:///") else ""
        if file not in ("", ":memory:") and not Path(file).expanduser().is_file():
            # Opening it would create an empty database (status only reads).
            raise InputError(
                f"the sweep's study database {file!r} (storage: {cfg.storage}) does not exist; "
                "fix: run this where that file is, or restore it from a backup"
            )
        storage = open_study_storage(cfg.storage)
    from sweeper.tune._study import study_name

    name = study_name(cfg, folder)  # before any Path(): an s3:// URI is not a local path
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        trials = [] if "://" in str(folder) else list(Path(folder).glob("trial_*/result.json"))
        if trials and (cfg.storage is None or "://" not in cfg.storage):
            raise _lost_study(Path(folder), name, len(trials)) from None
        raise InputError(
            f"the study of {str(folder)!r} holds no study named {name!r}; fix: run the "
            "sweep first (`sweeper run`), or check storage: in sweep.yaml"
        ) from None
    return study


def _lost_study(folder: Path, name: str, trials: int) -> InputError:
    """A journal emptied (or another sweep's) beside trials with results: "run the sweep
    first" and run's "already holds a sweep; resume it" sent the user in a circle."""
    path = folder / JOURNAL
    what = "is empty" if path.is_file() and path.stat().st_size == 0 else f"has no {name!r}"
    return InputError(
        f"{path} {what}, while {trials} trial folder(s) there hold results: the study was "
        "lost; fix: restore the journal from a backup (or the machine that ran the sweep), "
        f"or run the space anew under another name (`sweeper run {folder / 'sweep.yaml'} "
        f"--name {folder.name}-2 --storage {folder.parent}`); the trial folders keep their "
        "checkpoints either way"
    )


def _damaged(path: Path, err: json.JSONDecodeError) -> InputError:
    """A journal line that is not JSON, found by line (Optuna skips only a bad last one)."""
    number = 0
    with path.open("rb") as handle:
        for line in handle:
            number += 1
            try:
                json.loads(line)
            except ValueError:
                break
    where = f"{err.msg} column {err.colno}" if err.msg.endswith(" at") else err.msg
    return InputError(
        f"{path} line {number} is damaged ({where}): two writes ran into each other or one "
        "was cut; fix: restore the journal from a backup (a `study.journal.torn-*` copy "
        "beside it?), or delete that line and check `sweeper status`"
    )


def warn_gaps(study: optuna.Study, folder: Path) -> None:
    """Read on, but say on stderr when what follows misses trials (see journal_gaps) or a
    trial's last change (a partial last line, see torn_warning)."""
    gaps = journal_gaps(study, folder)
    if gaps is not None:  # (resume's refusal says what follows from it instead)
        gaps += "; the trials, ranking and best below miss them"
    for warning in (gaps, torn_warning(Path(folder) / JOURNAL, folder)):
        if warning is not None:
            print(f"warning: {warning}", file=sys.stderr)


def journal_gaps(study: optuna.Study, folder: Path) -> str | None:
    """Trial folders the study does not know: a journal cut short (a full disk, a copy taken
    mid-write) reads as a smaller sweep, whose winner and table are then wrong in silence."""
    trials = study.get_trials(deepcopy=False)
    known = {t.user_attrs.get(RAY_ID) for t in trials}
    known |= {old for t in trials for old in t.user_attrs.get(FORMER_RAY_IDS, ())}
    lost = sorted(
        p.name for p in Path(folder).glob("trial_*") if p.is_dir() and p.name[6:] not in known
    )
    if not lost:
        return None
    return (
        f"{folder / JOURNAL} knows {len(known)} trial(s) but {len(lost)} trial folder(s) are "
        f"not in it ({', '.join(lost[:3])}{', ...' if len(lost) > 3 else ''}): the journal "
        "was cut short or is another sweep's"
    )


def torn_tail(path: Path) -> int:
    """Bytes of the journal's last line when it is no whole record (0 when it is, or the
    file is missing): a line cut by a crash, or one that ends in a newline but is not JSON
    (a record cut and then ended, text added). Optuna skips a bad last line without a word;
    a resume then appended behind it, and every reader after refused the file (a probe)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - 65536))
            tail = handle.read()
    except OSError:
        return 0
    if not tail:
        return 0
    if not tail.endswith(b"\n"):
        cut = tail.rfind(b"\n")
        return len(tail) - cut - 1 if cut >= 0 else len(tail)
    last = tail[:-1].rsplit(b"\n", 1)[-1]
    if len(last) == len(tail) - 1 and size > len(tail):
        return 0  # a last line longer than the tail read: not judged
    try:
        whole = isinstance(json.loads(last), dict)
    except ValueError:
        whole = False
    return 0 if whole else len(last) + 1


def torn_warning(path: Path, folder: Path) -> str | None:
    """What readers should say of a torn journal, or None."""
    torn = torn_tail(path)
    if not torn:
        return None
    return (
        f"{path} ends in a partial line ({torn} bytes: a write cut by a crash or a full "
        "disk, or text added): the study's last change, most likely a trial's end, is "
        f"missing, so that trial shows unfinished; fix: `sweeper resume {folder}` repairs the "
        "journal and ends it again"
    )


def repair_journal(path: Path) -> str | None:
    """Cut a partial last line off the journal, keeping the whole file beside it first; the
    note to print, or None when there was nothing to cut."""
    torn = torn_tail(path)
    if not torn:
        return None
    backup = path.with_name(f"{path.name}.torn-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.copy2(path, backup)
    with path.open("r+b") as handle:
        handle.truncate(handle.seek(0, 2) - torn)
    return f"{path} ended in a partial line ({torn} bytes): cut off (the whole file: {backup})"
