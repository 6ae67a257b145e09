"""A sovits-sweeper trial folder as a run to diagnose, with the held-out values it was judged on.

A trial folder (``trial_<id>/``: Ray's ``result.json``, the trainer's ``run/``) holds its logs
in ``run/`` (reference trainer: train.log and event files there) or ``run/logs/<model>/``
(so-vits-svc trainer). so-vits-svc logs no validation loss, so the ``val/*`` values the sweep
judged the trial on are only in ``result.json`` (a probe, 2026-12-07: on ``run/logs/44k``
diagnose said "overfitting: cannot be judged — no val/* signal" beside them, and on the
trial folder or its ``run/`` that it "holds neither a train.log nor events.out.tfevents.*").
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

from sweeper.logs import RunLog, Series, list_checkpoints, read_results

RESULTS = "result.json"  # Ray's: one JSON object per report, "step" and the metrics
RUN = "run"  # the trainer's output folder inside a trial folder
_LOGS = ("train.log", "events.out.tfevents.*")


def _has_logs(folder: Path) -> bool:
    return any(any(folder.glob(pattern)) for pattern in _LOGS)


def trial_of(path: str | Path) -> Path | None:
    """The trial folder ``path`` (a file or folder) lies in or is, or None."""
    here = Path(path).resolve()
    folder = here if here.is_dir() else here.parent
    for candidate in (folder, *list(folder.parents)[:4]):
        if (candidate / RESULTS).is_file() and (candidate / RUN).is_dir():
            return candidate
    return None


def run_path(path: str | Path) -> Path:
    """The folder holding a trial's logs when ``path`` is a trial folder or its ``run/``
    (``run/`` itself for the reference trainer, ``run/logs/<model>`` for so-vits-svc's);
    any other ``path`` unchanged, for :func:`sweeper.logs.read_run` to read or refuse."""
    given = Path(path)
    try:
        if not given.is_dir() or _has_logs(given):
            return given
        trial = trial_of(given)
        if trial is None or given.resolve() not in (trial, trial / RUN):
            return given
        run = trial / RUN
        if _has_logs(run):
            return run
        models = [d for d in sorted((run / "logs").glob("*")) if d.is_dir() and _has_logs(d)]
    except OSError:  # a folder that cannot be entered: read_run names it in one line
        return given
    return models[0] if len(models) == 1 else given


def held_out(trial: Path) -> dict[str, Series]:
    """``val/*`` by step from the trial's ``result.json`` (the last report of a step wins:
    a resumed trial reports a step again). NaN is left out: the evaluation writes it where a
    metric is undefined (f0 error with no voiced frame, at step 0), not for a blow-up."""
    points: dict[str, dict[int, float]] = {}
    for row in read_results(trial / RESULTS):
        for name, value in row.items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if name.startswith("val/") and number and not math.isnan(value):
                points.setdefault(name, {})[row["step"]] = float(value)
    return {
        name: Series(sorted(by_step), [by_step[s] for s in sorted(by_step)])
        for name, by_step in sorted(points.items())
        if by_step
    }


def with_held_out(run: RunLog) -> RunLog:
    """``run`` with its trial's ``val/*`` values where its own logs hold none, and a note."""
    if any(name.startswith("val/") for name in run.series):
        return run
    trial = trial_of(run.source)
    found = held_out(trial) if trial is not None else {}
    if not found:
        return run
    note = (
        f"{', '.join(found)}: the held-out values the sweep judged this trial on, read from "
        f"{trial / RESULTS} (so-vits-svc's own logs hold no validation loss)"
    )
    return dataclasses.replace(run, series={**run.series, **found}, notes=[*run.notes, note])


def with_kept_checkpoints(run: RunLog) -> RunLog:
    """``run`` with its trial's newest Ray checkpoint as the place of the checkpoints its
    logs' folder lacks (``sweeper clean`` deletes a trial's copies in ``run/``): that
    checkpoint's ``best/`` where no best/ is listed, its latest pair where no G_*.pth is."""
    if run.kept_best:
        return run
    trial = trial_of(run.source)
    if trial is None:
        return run
    newest = sorted(p for p in trial.glob("checkpoint_*") if p.is_dir())
    logs = (run.source if run.source.is_dir() else run.source.parent).resolve()
    try:
        mirror = newest[-1] / logs.relative_to((trial / RUN).resolve())
    except (IndexError, ValueError):  # no checkpoint folder, or logs outside run/
        return run
    best = newest[-1] / "best"
    relative = os.path.relpath(best, logs)
    found = dataclasses.replace(run, kept_best=list_checkpoints(best), best_dir=relative)
    if not run.checkpoints:  # (clean keeps run/'s G_ saved after the checkpoint's latest)
        found.checkpoints = list_checkpoints(mirror)
        found.checkpoint_dir = os.path.relpath(mirror, logs) + "/"
    return found if found.checkpoints or found.kept_best else run
