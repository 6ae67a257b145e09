"""Read a sweep folder: the study's trials, each trial's reported curves, its best checkpoint.

Only the folder is read (the study journal, ``trial_<id>/result.json``, the checkpoint
folders), so a summary works from any machine that mounts it, with no Ray running. A study
in a database (``storage: postgresql://...``) is read from there.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial

from sweeper.config import Lines, SweepConfig, load_yaml_with_lines
from sweeper.logs import read_results
from sweeper.tune._journal import open_existing, warn_gaps
from sweeper.tune._resume import load_sweep_dir
from sweeper.tune._run import SWEEP_FILE
from sweeper.tune._table import row_of

RESULT = "result.json"  # one JSON line per report (Ray's JsonLoggerCallback)
# Ray's own fields in each result line: not metrics of the trainer.
RAY_FIELDS = frozenset(
    {
        "step", "timestamp", "checkpoint_dir_name", "should_checkpoint", "done",
        "training_iteration", "trial_id", "date", "time_this_iter_s", "time_total_s", "pid",
        "hostname", "node_ip", "config", "time_since_restore", "iterations_since_restore",
    }
)  # fmt: skip
# Outcomes whose best checkpoint is not a candidate (a diverged trial's best is its start).
NOT_RANKED = {"diverged": "diverged", "error": "failed", "removed": "removed"}

Curve = tuple[list[int], list[float]]


@dataclass
class TrialRecord:
    """One trial as the summary sees it; ``problem`` says why it cannot be ranked."""

    number: int  # Optuna's trial number
    ray_id: str | None  # Ray's trial id (folder trial_<id>)
    state: str  # RUNNING, COMPLETE, PRUNED, FAIL
    rule: str | None  # converged, budget, overfitting, cannot_catch_up, diverged, error
    message: str  # the stop reason, one sentence
    steps: int  # the last step it ran (its compute)
    best_step: int | None  # the step of its best checkpoint
    params: dict[str, Any]  # every parameter, fixed ones included
    values: dict[str, float] = field(default_factory=dict)  # metrics at the best step
    curves: dict[str, Curve] = field(default_factory=dict)  # metric -> (steps, values)
    folder: Path | None = None  # trial_<id>
    checkpoint: Path | None = None  # the best G_<step>.pth
    problem: str | None = None  # None = rankable
    evaluation: dict[str, dict] = field(default_factory=dict)  # eval/<name> -> MetricResult dict


@dataclass
class SweepData:
    folder: Path
    cfg: SweepConfig
    lines: Lines  # where each key of sweep.yaml is (errors about summary: name the line)
    trials: list[TrialRecord]
    frozen: list[FrozenTrial]  # the study's trials (importance needs their distributions)


def open_study(cfg: SweepConfig, folder: Path):
    """The sweep's study, loaded (never created: summarize must not write a journal); a
    warning on stderr when trial folders are missing from it (a journal cut short)."""
    study = open_existing(cfg, folder)
    warn_gaps(study, folder)
    return study


def dashboard_storage(sweep_dir: str | Path):
    """``(storage, study name)`` of a sweep folder, for optuna-dashboard: a read-only view of
    the live study (reads go to the journal or database, writes are refused; see
    :mod:`sweeper.summarize.readonly`)."""
    from sweeper.summarize.readonly import ReadOnlyStorage

    folder, cfg = load_sweep_dir(sweep_dir)
    study = open_study(cfg, folder)
    return ReadOnlyStorage(study._storage), study.study_name


def curves_of(rows: list[dict[str, Any]]) -> dict[str, Curve]:
    """metric -> (steps, values), one value per step (a restarted trial's repeat wins)."""
    by_metric: dict[str, dict[int, float]] = {}
    for row in rows:
        for key, value in row.items():
            if key in RAY_FIELDS or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            by_metric.setdefault(key, {})[row["step"]] = float(value)
    return {k: (sorted(v), [v[s] for s in sorted(v)]) for k, v in by_metric.items()}


def values_at(curves: dict[str, Curve], step: int) -> dict[str, float]:
    """Each metric's last report at or before ``step`` (a metric logged at another interval
    than the validation's), left out when that report is NaN or inf: an older finite value
    is not the checkpoint's (a probe saw a NaN at the best step shown and ranked as the
    value of 15 steps before)."""
    out = {}
    for name, (steps, values) in curves.items():
        found = [v for s, v in zip(steps, values, strict=True) if s <= step]
        if found and math.isfinite(found[-1]):
            out[name] = found[-1]
    return out


def _add_study_values(curves: dict[str, Curve], trial: FrozenTrial) -> None:
    """The first objective metric's steps that only the study has: Ray rewrites result.json
    of a trial restored by a driver resume, from its restored checkpoint on."""
    metrics = (trial.user_attrs.get("best") or {}).get("metrics") or []
    if not metrics or not trial.intermediate_values:
        return
    steps, values = curves.get(metrics[0], ([], []))
    merged = {**trial.intermediate_values, **dict(zip(steps, values, strict=True))}
    curves[metrics[0]] = (sorted(merged), [float(merged[s]) for s in sorted(merged)])


def add_run_values(curves: dict[str, Curve], trial_dir: Path, *, lost_tail: bool = False) -> None:
    """Reports that result.json lost, from the trainer's own event files in ``run/``.

    Ray rewrites the result.json of a trial restored by a driver resume from its restored
    checkpoint on, so every metric but the study's first lost its earlier steps (curves
    that start mid-way; a summary metric missing at an early best step). The trainer writes
    each report to TensorBoard as well, and the checkpoint carries those files. Read only
    for a trial started more than once (``run/placement.jsonl``), or whose result.json ends
    before the study's last report (``lost_tail``: a driver killed as the trial ended, which
    a resume ends without Ray; a probe, 2026-12-08); result.json wins where both have a step.
    """
    from sweeper.errors import InputError
    from sweeper.logs import read_run
    from sweeper.logs._run import event_files
    from sweeper.tune._trainable import PLACEMENT, RUN

    run_dir = trial_dir / RUN
    try:
        starts = (run_dir / PLACEMENT).read_text(encoding="utf-8").count("\n")
    except OSError:
        return
    if (starts < 2 and not lost_tail) or not event_files(run_dir):
        return
    try:
        series = read_run(run_dir).series
    except InputError:
        return  # unreadable events: result.json is all there is
    for name in curves.keys() & series.keys():
        steps, values = curves[name]
        logged = series[name]
        merged = dict(zip(logged.steps.tolist(), logged.values.tolist(), strict=True))
        merged.update(zip(steps, values, strict=True))
        curves[name] = (sorted(merged), [float(merged[s]) for s in sorted(merged)])


def find_checkpoint(trial_dir: Path, step: int) -> Path | None:
    """``G_<step>.pth`` of the best step: in the newest Ray checkpoint (synced to the sweep
    folder from any node), else in the trainer's own run folder; best/ folders first."""
    name = f"G_{step}.pth"
    places = [*sorted(trial_dir.glob("checkpoint_*"), reverse=True), trial_dir / "run"]
    for place in places:
        hits = sorted(place.rglob(name), key=lambda p: (p.parent.name != "best", str(p)))
        if hits:
            return hits[0]
    return None


def checkpoint_problem(path: Path) -> str | None:
    """Why a torch checkpoint cannot be read, or None. torch.save writes a zip archive: a
    truncated file has no central directory, and the pickle's CRC is checked (the tensors'
    are not: that would read the whole file; --evaluate loads them for real)."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
            if not pickles:
                return f"{path.name} is not a torch checkpoint (no data.pkl inside)"
            with archive.open(pickles[0]) as f:
                while f.read(1 << 20):
                    pass
    except UNREADABLE as err:
        return f"{path.name} is corrupt ({type(err).__name__}: {err})"
    return None


# What reading a damaged zip raises: a cut file, a bad header, a compression method field
# garbled into one zipfile lacks (NotImplementedError), damaged deflated data (zlib.error).
UNREADABLE = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error, ValueError)


def _record(trial: FrozenTrial, folder: Path) -> TrialRecord:
    row = row_of(trial)
    rec = TrialRecord(
        row.number, row.ray_id, row.state, row.rule, row.message, row.steps, row.best_step,
        row.params,
    )  # fmt: skip
    if row.ray_id is not None:
        rec.folder = folder / f"trial_{row.ray_id}"
        rec.curves = curves_of(read_results(rec.folder / RESULT))
        reported = [s for s, _ in rec.curves.values() if s]
        last_reported = max((max(s) for s in reported), default=-1)
        lost_tail = max(trial.intermediate_values, default=-1) > last_reported
        add_run_values(rec.curves, rec.folder, lost_tail=lost_tail)
        _add_study_values(rec.curves, trial)
        if rec.curves:
            rec.steps = max(rec.steps, max(max(s) for s, _ in rec.curves.values() if s))
    if row.state in ("RUNNING", "WAITING"):
        # Running, or left so by an interrupted driver (summarize cannot tell which; its
        # warning says whether a driver holds the sweep). Its step is the one status shows;
        # the run's own log may be ahead of its last report (it said 115 to status' 110).
        rec.problem = f"unfinished (step {row.steps}"
        rec.problem += f"; its log reaches {rec.steps})" if rec.steps > row.steps else ")"
    elif row.rule in NOT_RANKED:
        rec.problem = row.message or f"{NOT_RANKED[row.rule]} at step {rec.steps}"
        if not rec.problem.startswith(NOT_RANKED[row.rule]):
            rec.problem = f"{NOT_RANKED[row.rule]}: {rec.problem}"
    elif row.state == "FAIL":
        rec.problem = f"failed: {row.message or 'no result'}"
    elif row.best_step is None:
        rec.problem = "no validation result (it stopped before its first evaluation)"
    elif rec.folder is None or not rec.folder.is_dir():
        rec.problem = f"its folder trial_{row.ray_id} is missing from the sweep folder"
    if rec.problem is not None or row.best_step is None or rec.folder is None:
        return rec
    rec.values = values_at(rec.curves, row.best_step)
    best = trial.user_attrs.get("best") or {}
    for name, value in (best.get("values") or {}).items():  # the study's record wins
        if isinstance(value, int | float) and math.isfinite(value):
            rec.values[name] = float(value)
    rec.checkpoint = find_checkpoint(rec.folder, row.best_step)
    if rec.checkpoint is None:
        rec.problem = (
            f"best checkpoint G_{row.best_step}.pth is missing (looked in "
            f"trial_{row.ray_id}/checkpoint_*/ and run/)"
        )
    else:
        rec.problem = checkpoint_problem(rec.checkpoint)
    return rec


def collect(sweep_dir: str | Path) -> SweepData:
    """Everything the summary needs from a sweep folder; one in an object store is read from
    a local mirror (``~/.cache/sweeper/mirror``), where the summary is written too."""
    from sweeper.tune import remote

    if remote.is_uri(sweep_dir):
        sweep_dir = remote.mirror(str(sweep_dir))
    folder, cfg = load_sweep_dir(sweep_dir)
    _, lines = load_yaml_with_lines(folder / SWEEP_FILE)
    study = open_study(cfg, folder)
    frozen = study.get_trials(deepcopy=False)
    trials = [_record(t, folder) for t in frozen]
    return SweepData(folder, cfg, lines, trials, list(frozen))
