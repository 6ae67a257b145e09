"""Read one so-vits-svc run from a train.log, an event file, or a run folder (logs/44k)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from sweeper.errors import InputError
from sweeper.logs._merge import last_step as _last_step
from sweeper.logs._merge import merge as _merge
from sweeper.logs._series import RunLog
from sweeper.logs._textlog import read_train_log
from sweeper.logs._tfevents import (
    is_tfevents_name,
    looks_like_tfevents,
    read_tfevents,
    runlog_from_events,
)

_G_CHECKPOINT = re.compile(r"^G_(\d+)\.pth$")
_LIGHTNING = "lightning_logs"  # where PyTorch Lightning's TensorBoardLogger writes
_DIFFUSION = "diffusion"  # so-vits-svc 4.1's shallow-diffusion logs, inside logs/44k


def read_run(path: str | Path) -> RunLog:
    """Read a run from ``path``: a ``train.log``, an ``events.out.tfevents.*`` file, or a folder.

    A folder's event files (and those of its ``eval/`` subfolder and of
    ``lightning_logs/version_*``) and its ``train.log`` are merged tag by tag, TensorBoard
    winning where both hold a tag; a train.log going on past the event files extends the
    tags whose shared steps agree (:func:`sweeper.logs._merge.merge`). The ``G_<n>.pth``
    files beside the logs (for a so-vits-svc-fork run: in the folder holding
    ``lightning_logs``) are listed in ``RunLog.checkpoints``; ``RunLog.checkpoint_unit``
    says whether ``n`` counts steps.

    Raises:
        InputError: the path is missing, empty, or holds no so-vits-svc log.

    Example:
        >>> run = read_run("logs/44k")  # doctest: +SKIP
        >>> run.series["loss/g/mel"].steps[-1], run.checkpoints[-1]  # doctest: +SKIP
        (20000, 20000)
    """
    path = Path(path)
    try:
        return _read_run(path)
    except PermissionError as err:  # Python 3.11's is_dir/is_file raise it, iterdir too
        where = Path(err.filename) if err.filename else path
        shut = _shut_folder(where)
        why = "" if shut is None else f" (cannot enter {shut})"
        raise InputError(
            f"cannot read {where}: {err.strerror or 'Permission denied'}{why}; check the "
            "permissions (ls -ld) or run as a user who may read it"
        ) from None


def _read_run(path: Path) -> RunLog:
    if path.is_dir():
        run = _read_folder(path)
        folder = path
    elif path.is_file():
        is_events = is_tfevents_name(path) or looks_like_tfevents(path)
        run = _read_events_file(path) if is_events else read_train_log(path)
        folder = _run_folder_of(path, run) if is_events else path.parent
    elif str(path) == "-" and not path.exists():
        raise InputError(
            "cannot read '-' (standard input): the log is read from a file; save it "
            "(e.g. > train.log) and pass the path of that file, or of its run folder"
        )
    elif path.exists():
        raise InputError(
            f"{path} is not a file or a folder (a pipe or a device?); save the log to a file "
            "and pass the path of that file"
        )
    else:
        raise InputError(
            f"no such file or folder: {path}; pass a so-vits-svc train.log, an "
            "events.out.tfevents.* file or a run folder such as logs/44k"
        )
    lightning = _lightning_model_dir(path)
    if lightning is None:
        run.checkpoints = list_checkpoints(folder)
        run.save_every = _eval_interval(folder / "config.json")
        run.kept_best = list_checkpoints(folder / BEST)
        if not run.kept_best and folder.parent.name == "logs":  # a so-vits-svc sweep trial:
            run.kept_best = list_checkpoints(folder.parent.parent / BEST)  # run/logs/44k
            run.best_dir = f"../../{BEST}"
    else:
        folder = lightning
        run.checkpoints = list_checkpoints(folder)
        run.checkpoint_unit = _fork_checkpoint_unit(run)
        if run.checkpoint_unit == "epoch" and run.checkpoints:
            run.notes.append(
                f"so-vits-svc-fork run: the G_<n>.pth files in {folder} are numbered by epoch, "
                "so a step names no file; set train.ckpt_name_by_step: true to number them by step"
            )
    return run


def _read_events_file(path: Path) -> RunLog:
    try:
        return read_tfevents(path)
    except InputError as err:
        # so-vits-svc's own eval/ files hold audio and images only: say where the losses are.
        hint = _in_run_hint(path.parent) if path.parent.name == "eval" else None
        if hint is None or "no scalar summaries" not in str(err):
            raise
        raise InputError(f"{path} holds no scalars: {hint}") from None


def _run_folder_of(path: Path, run: RunLog) -> Path:
    """The run folder of one event file: so-vits-svc writes eval/ inside it, and keeps the
    checkpoints beside the main file, so a file in eval/ looks one level up for them. A main
    file whose eval/ holds event files it cannot see gets a note to pass the folder."""
    folder = path.parent
    if folder.name == "eval":
        if _event_files_in(folder.parent):
            run.notes.append(
                f"{folder.parent} holds the run's training losses: pass that folder to read "
                "them with this file"
            )
        return folder.parent
    held_out = folder / "eval"
    beside = _event_files_in(held_out) if held_out.is_dir() else []
    if beside and not any(name.startswith("val/") for name in run.series):
        run.notes.append(
            f"{held_out} holds {len(beside)} event file(s) this file does not include: pass "
            f"the folder {folder} to read any held-out scalars (val/*) they hold with it "
            "(so-vits-svc's own eval writes only audio and mel images there; a sweep trial "
            "writes val/mel)"
        )
    return folder


def _event_files_in(folder: Path) -> list[Path]:
    try:
        return [e for e in folder.iterdir() if e.is_file() and is_tfevents_name(e)]
    except OSError:
        return []


def _eval_interval(config: Path) -> int | None:
    """``train.eval_interval`` of a so-vits-svc config.json, or None (absent or unreadable:
    it only refines the checkpoint advice, so it never fails the read)."""
    try:
        every = json.loads(config.read_text(encoding="utf-8"))["train"]["eval_interval"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return every if isinstance(every, int) and not isinstance(every, bool) and every > 0 else None


def _shut_folder(where: Path) -> Path | None:
    """The outermost folder above ``where`` that we may not enter, if that is why it failed."""
    for folder in reversed(where.parents):
        if not os.access(folder, os.X_OK):  # os.access never raises
            return folder
    return None


def _lightning_model_dir(path: Path) -> Path | None:
    """The model folder of a so-vits-svc-fork run read from inside or above its lightning_logs."""
    resolved = path.resolve()
    for where in (resolved, *resolved.parents):
        if where.name == _LIGHTNING:
            return where.parent
    if path.is_dir() and (path / _LIGHTNING).is_dir():
        return path
    return None


def _fork_checkpoint_unit(run: RunLog) -> str:
    # so-vits-svc-fork names G_<n>.pth by epoch unless train.ckpt_name_by_step is true; an
    # epoch count is far below the steps logged, a step count reaches near the last one.
    by_step = bool(run.checkpoints) and 2 * max(run.checkpoints) >= _last_step(run)
    return "step" if by_step else "epoch"


BEST = "best"  # sovits-sweeper's trainers keep a trial's best G here (a rolling G_ is not it)


def list_checkpoints(folder: Path) -> tuple[int, ...]:
    """Steps of the ``G_<step>.pth`` files in ``folder``, sorted."""
    try:
        names = [entry.name for entry in folder.iterdir()]
    except OSError:
        return ()
    steps = (_G_CHECKPOINT.match(name) for name in names)
    return tuple(sorted(int(m.group(1)) for m in steps if m is not None))


def event_files(folder: Path) -> list[Path]:
    """Event files of a run folder, its ``eval/`` and its Lightning versions, oldest first.

    so-vits-svc writes them into the run folder (``logs/44k``) and ``eval/``; its Lightning
    fork (voicepaw/so-vits-svc-fork) into ``logs/44k/lightning_logs/version_0``, one version
    folder that a resumed run appends to.
    """
    found = [
        entry
        for where in _event_folders(folder)
        for entry in where.iterdir()
        if entry.is_file() and is_tfevents_name(entry)
    ]
    return sorted(found, key=_written_at)


def _event_folders(folder: Path) -> list[Path]:
    lightning = folder if folder.name == _LIGHTNING else folder / _LIGHTNING
    versions = sorted(lightning.iterdir()) if lightning.is_dir() else []
    candidates = [folder, folder / "eval", *versions]
    return [where for where in candidates if where.is_dir()]


def _written_at(path: Path) -> tuple[int, str]:
    # Writers name files events.out.tfevents.<unix seconds>.<host>...; a restart writes anew.
    parts = path.name.split(".")
    stamp = parts[3] if len(parts) > 3 else ""
    return (int(stamp) if stamp.isdigit() else 0, str(path))


def _read_folder(folder: Path) -> RunLog:
    events = event_files(folder)
    log: Path | None = folder / "train.log"
    if not log.is_file():
        log = None
    elif looks_like_tfevents(log):  # an event file saved under that name
        events, log = sorted([*events, log], key=_written_at), None
    if not events and log is None:
        runs = _runs_below(folder)
        # so-vits-svc 4.1 writes its shallow-diffusion model's logs into <run>/diffusion:
        # no so-vits tags there, so never suggest it as the run.
        diffusion = [r for r in runs if r.name == _DIFFUSION]
        runs = [r for r in runs if r.name != _DIFFUSION]
        if runs:
            hint = f"pass one of the run folders inside it: {', '.join(str(r) for r in runs[:5])}"
        elif diffusion:
            hint = (
                f"{diffusion[0]} holds shallow-diffusion logs, which diagnose does not judge; "
                "pass the so-vits-svc run folder that holds its train.log or loss/g/* events"
            )
        elif logs := sorted(p for p in folder.glob("*.log") if p.is_file()):
            # a console capture (`python train.py ... > out.log`) reads like train.log
            hint = f"pass the log file itself: {', '.join(str(p) for p in logs[:3])}"
        else:
            hint = _in_run_hint(folder) or "pass a so-vits-svc run folder such as logs/44k"
        raise InputError(
            f"{folder} holds neither a train.log nor events.out.tfevents.* files; {hint}"
        )
    tensorboard = runlog_from_events(folder, events) if events else None
    text: RunLog | None = None
    text_error: InputError | None = None
    if log is not None:
        try:
            text = read_train_log(log)
        except InputError as err:
            text_error = err
    if tensorboard is None or not tensorboard.series:
        if text is None:
            hint = _in_run_hint(folder)
            hint = hint or "pass the run folder of a run that has logged at least one step"
            raise text_error or InputError(
                f"no loss values found in {folder}: its {len(events)} event file(s) hold no "
                f"scalars and it has no train.log; {hint}"
            )
        if events:
            text.notes.insert(0, f"the event files in {folder} hold no scalars; used train.log")
        return text
    if text is None:
        if text_error is not None:
            tensorboard.notes.append(f"train.log not used: {text_error}")
        return tensorboard
    return _merge(folder, tensorboard, text)


def _in_run_hint(folder: Path) -> str | None:
    """How to reach the losses from an eval/ folder or a folder of checkpoints only."""
    if folder.name == "eval" and (
        (folder.parent / "train.log").is_file() or _event_files_in(folder.parent)
    ):
        return (
            f"{folder} is so-vits-svc's eval folder (held-out audio and mel images); the "
            f"losses are logged in the run folder above it: pass {folder.parent}"
        )
    steps = list_checkpoints(folder)
    if not steps:
        return None
    shown = ", ".join(f"G_{s}.pth" for s in steps[:3]) + (", ..." if len(steps) > 3 else "")
    return (
        f"it holds checkpoints ({shown}), but diagnose reads the losses from the logs "
        "training writes beside them: copy that run's train.log (or its events.out.tfevents.* "
        "files) here, or pass the folder that holds them"
    )


def _runs_below(folder: Path) -> list[Path]:
    """Subfolders one level down that hold a run (``logs/`` given for ``logs/44k``)."""
    try:
        children = sorted(entry for entry in folder.iterdir() if entry.is_dir())
    except OSError:
        return []
    return [
        child
        for child in children
        if (child / "train.log").is_file() or event_files(child)
    ]
