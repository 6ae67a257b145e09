"""Read one so-vits-svc run from a train.log, an event file, or a run folder (logs/44k)."""

from __future__ import annotations

import re
from pathlib import Path

from sweeper.errors import InputError
from sweeper.logs._series import RunLog
from sweeper.logs._textlog import read_train_log
from sweeper.logs._tfevents import (
    is_tfevents_name,
    looks_like_tfevents,
    read_tfevents,
    runlog_from_events,
)

_G_CHECKPOINT = re.compile(r"^G_(\d+)\.pth$")


def read_run(path: str | Path) -> RunLog:
    """Read a run from ``path``: a ``train.log``, an ``events.out.tfevents.*`` file, or a folder.

    A folder's event files (and those of its ``eval/`` subfolder) and its ``train.log`` are
    merged tag by tag, TensorBoard winning where both hold a tag. The ``G_<step>.pth`` files
    beside the logs are listed in ``RunLog.checkpoints``.

    Raises:
        InputError: the path is missing, empty, or holds no so-vits-svc log.

    Example:
        >>> run = read_run("logs/44k")  # doctest: +SKIP
        >>> run.series["loss/g/mel"].steps[-1], run.checkpoints[-1]  # doctest: +SKIP
        (20000, 20000)
    """
    path = Path(path)
    if path.is_dir():
        run = _read_folder(path)
        folder = path
    elif path.is_file():
        is_events = is_tfevents_name(path) or looks_like_tfevents(path)
        run = read_tfevents(path) if is_events else read_train_log(path)
        folder = path.parent
    else:
        raise InputError(
            f"no such file or folder: {path}; pass a so-vits-svc train.log, an "
            "events.out.tfevents.* file or a run folder such as logs/44k"
        )
    run.checkpoints = list_checkpoints(folder)
    return run


def list_checkpoints(folder: Path) -> tuple[int, ...]:
    """Steps of the ``G_<step>.pth`` files in ``folder``, sorted."""
    try:
        names = [entry.name for entry in folder.iterdir()]
    except OSError:
        return ()
    steps = (_G_CHECKPOINT.match(name) for name in names)
    return tuple(sorted(int(m.group(1)) for m in steps if m is not None))


def event_files(folder: Path) -> list[Path]:
    """Event files of a run folder and its ``eval/`` subfolder, oldest first."""
    found = [
        entry
        for where in (folder, folder / "eval")
        if where.is_dir()
        for entry in where.iterdir()
        if entry.is_file() and is_tfevents_name(entry)
    ]
    return sorted(found, key=_written_at)


def _written_at(path: Path) -> tuple[int, str]:
    # Writers name files events.out.tfevents.<unix seconds>.<host>...; a restart writes anew.
    parts = path.name.split(".")
    stamp = parts[3] if len(parts) > 3 else ""
    return (int(stamp) if stamp.isdigit() else 0, str(path))


def _read_folder(folder: Path) -> RunLog:
    events = event_files(folder)
    log = folder / "train.log"
    if not events and not log.is_file():
        raise InputError(
            f"{folder} holds neither a train.log nor events.out.tfevents.* files; pass a "
            "so-vits-svc run folder such as logs/44k"
        )
    tensorboard = runlog_from_events(folder, events) if events else None
    text: RunLog | None = None
    text_error: InputError | None = None
    if log.is_file():
        try:
            text = read_train_log(log)
        except InputError as err:
            text_error = err
    if tensorboard is None or not tensorboard.series:
        if text is None:
            raise text_error or InputError(
                f"no loss values found in {folder}: its {len(events)} event file(s) hold no "
                "scalars and it has no train.log; pass the run folder of a run that has "
                "logged at least one step"
            )
        if events:
            text.notes.insert(0, f"the event files in {folder} hold no scalars; used train.log")
        return text
    if text is None:
        if text_error is not None:
            tensorboard.notes.append(f"train.log not used: {text_error}")
        return tensorboard
    return _merge(folder, tensorboard, text)


def _text_notes(text: RunLog, tensorboard: RunLog) -> list[str]:
    # The derived-total caveat is moot when TensorBoard supplies the real loss/g/total.
    moot = "loss/g/total is derived" if "loss/g/total" in tensorboard.series else None
    return [note for note in text.notes if moot is None or not note.startswith(moot)]


def _merge(folder: Path, tensorboard: RunLog, text: RunLog) -> RunLog:
    """TensorBoard scalars win tag by tag; the text log fills the tags TensorBoard lacks."""
    only_text = sorted(set(text.series) - set(tensorboard.series))
    series = {**{tag: text.series[tag] for tag in only_text}, **tensorboard.series}
    merged_note = "TensorBoard scalars used where both logs hold a tag"
    if only_text:
        merged_note += f"; from train.log only: {', '.join(only_text)}"
    return RunLog(
        source=folder,
        series=dict(sorted(series.items())),
        notes=[*tensorboard.notes, *_text_notes(text, tensorboard), merged_note],
        logged_checkpoints=text.logged_checkpoints,
        restarts=max(tensorboard.restarts, text.restarts),
        overwritten=max(tensorboard.overwritten, text.overwritten),
    )
