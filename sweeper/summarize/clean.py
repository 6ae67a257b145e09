"""Free the disk of a sweep: ``sweeper clean DIR [--dry-run]``.

A trial folder holds its latest ``G_/D_`` pair and its ``best/`` pair three times: in each of
Ray's two checkpoint folders and in the trainer's ``run/``. For a trial that has ended (in
the study and in Ray's run state) only its newest ``checkpoint_*`` is read again: it is where
:func:`~sweeper.summarize.collect.find_checkpoint` looks first (summarize, export-best,
--evaluate), and Ray never restores a trial it has TERMINATED. So the ``*.pth`` files of its
older checkpoint folders and of ``run/`` go; logs, event files, configs and the folders stay
(summarize reads ``run/``'s event files). A trial with a best step is cleaned only when that
newest folder holds an intact ``G_<best step>.pth``, the file summarize names (one with none,
no finite value, has no best G to protect); any other trial is left as it is, with the reason.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from optuna.trial import FrozenTrial

from sweeper.config import SweepConfig
from sweeper.errors import InputError
from sweeper.summarize.collect import (
    UNREADABLE,
    checkpoint_problem,
    find_checkpoint,
    open_study,
)
from sweeper.tune._lock import DriverLock, driver_running
from sweeper.tune._resume import load_sweep_dir
from sweeper.tune._table import row_of
from sweeper.tune._trainable import RUN

ENDED = ("COMPLETE", "PRUNED", "FAIL")  # Optuna states a trial never leaves
CHECKPOINTS = "checkpoint_*"  # Ray's checkpoint folders; the names sort by age
_CHECKPOINT = re.compile(r"[GD]_(\d+)\.pth")  # a generator's or discriminator's step


@dataclass
class TrialClean:
    """What ``clean`` does with one trial folder: the files to delete, or why none."""

    folder: Path
    number: int | None  # Optuna's trial number (None: a folder the study does not know)
    state: str
    kept: Path | None = None  # the newest checkpoint folder, kept whole
    best: Path | None = None  # the best G summarize names (in ``kept``)
    files: list[Path] = field(default_factory=list)  # G_/D_<step>.pth to delete
    deleted: int = 0  # how many of ``files`` were deleted (or would be, in a dry run)
    freed: int = 0  # bytes the deletion frees (hard links to kept files free nothing)
    reason: str | None = None  # why the trial is left untouched (None: cleaned)
    failed: list[str] = field(default_factory=list)  # files that could not be deleted

    @property
    def label(self) -> str:
        number = "#?" if self.number is None else f"#{self.number}"
        return f"{number} {self.folder.name}"


@dataclass
class CleanPlan:
    folder: Path
    trials: list[TrialClean]
    dry_run: bool

    @property
    def freed(self) -> int:
        return sum(t.freed for t in self.trials)

    @property
    def cleaned(self) -> list[TrialClean]:
        """Trials with files to delete (some may have resisted: ``failed``)."""
        return [t for t in self.trials if t.reason is None and t.files]


def ray_unfinished(folder: Path) -> dict[str, str] | None:
    """Trial id -> status, for each trial Ray's newest run state has not TERMINATED (a
    resume restores those from their checkpoints: ERROR ones too, ``resume_errored``);
    None when it cannot be read."""
    states = sorted(folder.glob("experiment_state-*.json"))
    if not states:
        return {}  # no run state: Ray restores nothing (status and summarize need none)
    try:
        data = json.loads(states[-1].read_text(encoding="utf-8"))
        trials = [json.loads(entry[0]) for entry in data["trial_data"]]
        return {
            t["trial_id"]: str(t.get("status"))
            for t in trials
            if t.get("status") != "TERMINATED"
        }
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _pth_files(place: Path) -> list[Path]:
    """Regular ``*.pth`` files under ``place`` (a link is no copy: deleting it frees nothing)."""
    return sorted(p for p in place.rglob("*.pth") if p.is_file() and not p.is_symlink())


def freed_bytes(stats: list[os.stat_result]) -> int:
    """Bytes deleting the files of ``stats`` gives back: a file's size counts once its last
    hard link goes (the so-vits-svc trainer hard-links best/G; a copy made with hard links
    frees nothing)."""
    gone: Counter[tuple[int, int]] = Counter((st.st_dev, st.st_ino) for st in stats)
    first: dict[tuple[int, int], os.stat_result] = {}
    for st in stats:  # the first stat of an inode: taken before any of its links went
        first.setdefault((st.st_dev, st.st_ino), st)
    return sum(first[k].st_size for k, n in gone.items() if n >= first[k].st_nlink)


def _plan_trial(trial: FrozenTrial, folder: Path, unfinished: dict[str, str]) -> TrialClean:
    row = row_of(trial)
    plan = TrialClean(folder / f"trial_{row.ray_id}", row.number, row.state)
    if row.state not in ENDED:
        plan.reason = f"not ended ({row.state}): a resume goes on from its checkpoints"
    elif row.ray_id in unfinished:
        plan.reason = (
            f"Ray lists it as {unfinished[row.ray_id]}: a resume would restart it from its "
            "checkpoints"
        )
    if plan.reason is not None:
        return plan
    newest = sorted(p for p in plan.folder.glob(CHECKPOINTS) if p.is_dir())
    if not newest:
        plan.reason = "no checkpoint_* folder, the copy clean would keep; left as it is"
        return plan
    plan.kept = newest[-1]
    kept = _pth_files(plan.kept)
    damaged = next(filter(None, map(_damage, kept)), None)
    if not kept:  # (a trial with no best step would be left with no weights at all)
        plan.reason = f"its newest checkpoint {plan.kept.name}/ holds no .pth file; left as it is"
    elif damaged is not None:
        plan.reason = (
            f"{damaged} in {plan.kept.name}/; fix: copy an intact one over it (run/ or an "
            "older checkpoint_* may hold one) and clean again, or leave this trial as it is"
        )
    if plan.reason is not None:
        return plan
    if row.best_step is None:  # no finite value (diverged at once): no best G to protect
        return _add_files(plan, newest[:-1], kept)
    best = find_checkpoint(plan.folder, row.best_step)
    name = f"G_{row.best_step}.pth"
    if best is None:
        plan.reason = f"its best checkpoint {name} is missing (summarize says so too)"
    elif plan.kept not in best.parents:
        where = best.parent.relative_to(plan.folder)
        plan.reason = f"its best checkpoint {name} is only in {where}/, not in {plan.kept.name}/"
    if plan.reason is not None:
        return plan
    plan.best = best
    return _add_files(plan, newest[:-1], kept)


def _damage(path: Path) -> str | None:
    """Why a kept torch checkpoint is damaged, or None. Every kept file is read whole: its
    copies are about to go, and ``checkpoint_problem`` (enough for summarize) checks only
    the zip's directory and its pickle - a file zeroed inside passed it (a probe)."""
    problem = checkpoint_problem(path)  # not a torch file at all (no data.pkl), or cut
    if problem is not None:
        return problem
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # every member's CRC-32: torch.save writes them
    except UNREADABLE as err:
        return f"{path.name} is corrupt ({type(err).__name__}: {err})"
    return None if bad is None else f"{path.name} is corrupt ({bad} fails its CRC check)"


def _add_files(plan: TrialClean, older: list[Path], kept: list[Path]) -> TrialClean:
    """The ``G_/D_<step>.pth`` files of the older checkpoint folders and of ``run/``, to
    delete (another ``.pth`` is not ours); in ``run/`` not one saved after the latest of
    ``kept`` (so-vits-svc's train.py saves on its own, maybe after Ray's last checkpoint)."""
    latest = max((k for k in map(_step, kept) if k is not None), default=None)
    for place in [*older, plan.folder / RUN]:
        for path in _pth_files(place) if place.is_dir() else []:
            step = _step(path)
            newer = place.name == RUN and latest is not None and (step or 0) > latest
            if step is not None and not newer:
                plan.files.append(path)
    plan.freed = freed_bytes([p.stat() for p in plan.files])
    plan.deleted = len(plan.files)
    return plan


def _step(path: Path) -> int | None:
    found = _CHECKPOINT.fullmatch(path.name)
    return None if found is None else int(found.group(1))


def _open(sweep_dir: str | Path) -> tuple[Path, SweepConfig]:
    """The sweep folder and its space; refused in an object store or while a driver runs."""
    folder, cfg = load_sweep_dir(sweep_dir)
    if not isinstance(folder, Path):
        raise InputError(
            f"{folder!r} is in an object store, where clean cannot delete files; fix: clean "
            "a local or mounted copy, or delete old checkpoint_* objects with the store's tools"
        )
    holder = driver_running(folder)
    if holder is not None and holder.get("command") == "sweeper clean":
        raise InputError(
            f"{str(folder)!r} is being cleaned by another `sweeper clean` (pid "
            f"{holder.get('pid', '?')} on {holder.get('host', '?')}); fix: let it end, then "
            "run clean again if you need to"
        )
    if holder is not None:
        raise InputError(
            f"{str(folder)!r} is being run by `{holder.get('command', 'a sweeper driver')}` "
            f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')}): its trials still "
            "need their checkpoints; fix: run clean after the driver ends"
        )
    return folder, cfg


def _plan(folder: Path, cfg: SweepConfig, dry_run: bool) -> CleanPlan:
    trials = open_study(cfg, folder).get_trials(deepcopy=False)
    unfinished = ray_unfinished(folder)
    if unfinished is None and all(t.state.name in ENDED for t in trials):
        unfinished = {}  # every trial ended: nothing is left to resume (resume says so)
    elif unfinished is None:
        state = sorted(folder.glob("experiment_state-*.json"))[-1]
        raise InputError(
            f"{state} cannot be read, and the sweep has trials that have not ended, so "
            "which checkpoints a resume needs is unknown; fix: restore that file from a "
            "backup, or leave this sweep's checkpoints as they are"
        )
    plans = [_plan_trial(t, folder, unfinished) for t in trials if row_of(t).ray_id is not None]
    plans = [p for p in plans if p.folder.is_dir()]  # (none on disk: nothing to free)
    known = {f"trial_{row_of(t).ray_id}" for t in trials}
    for stray in sorted(p for p in folder.glob("trial_*") if p.is_dir()):
        if stray.name not in known:  # a journal cut short: the study lost its end
            plans.append(TrialClean(stray, None, "?", reason="not in the study: left as it is"))
    plans.sort(key=lambda p: (p.number is None, -1 if p.number is None else p.number))
    return CleanPlan(folder, plans, dry_run)


def plan_clean(sweep_dir: str | Path) -> CleanPlan:
    """What ``clean`` would delete in a sweep folder, trial by trial; deletes nothing."""
    return _plan(*_open(sweep_dir), dry_run=True)


def clean(sweep_dir: str | Path, dry_run: bool = False) -> CleanPlan:
    """Plan, then (unless ``dry_run``) delete. The folder's driver lock is held from before
    the plan to the last deletion: no ``sweeper run``/``resume`` starts on it meanwhile."""
    folder, cfg = _open(sweep_dir)
    if dry_run:
        return _plan(folder, cfg, dry_run)
    lock = DriverLock(folder, "sweeper clean").acquire()
    try:
        plan = _plan(folder, cfg, dry_run)
        for trial in plan.cleaned:
            _delete(trial)
    finally:
        lock.release()
    return plan


def _delete(trial: TrialClean) -> None:
    """Delete the trial's files; one that resists is kept, named, and not counted. Every
    file is stat'ed before any goes: a hard link's count drops as its siblings go."""
    stats = {}
    for path in trial.files:
        try:
            stats[path] = path.stat()
        except FileNotFoundError:
            continue  # gone already
    gone = []
    for path, st in stats.items():
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as err:
            trial.failed.append(f"{path}: {err.strerror or err}")
            continue
        gone.append(st)
    trial.deleted, trial.freed = len(gone), freed_bytes(gone)


def human(n: int) -> str:
    """Bytes in decimal units, as ``du -h --si`` and the docs write them: 94 MB, 1.3 GB."""
    if n < 1000:
        return f"{n} B"
    size = n / 1000
    for unit in ("kB", "MB", "GB"):
        if round(size, 1) < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def report_lines(plan: CleanPlan) -> list[str]:
    """What the command prints: a line per cleaned and per untouched trial, then a total."""
    verb = "would free" if plan.dry_run else "freed"
    lines = []
    for t in plan.cleaned:
        kept = t.kept or t.folder  # (set: a cleaned trial)
        what = "no best step" if t.best is None else str(t.best.relative_to(kept))
        lines.append(
            f"{t.label} {t.state}: {verb} {human(t.freed)} ({_count(t.deleted, '.pth file')}"
            f" in older checkpoints and run/); kept {kept.name}/ ({what})"
        )
        lines += [f"  could not delete {why}" for why in t.failed]
    untouched = [t for t in plan.trials if t.reason is not None]
    lines += [f"{t.label}: untouched, {t.reason}" for t in untouched]
    done = [t for t in plan.trials if t.reason is None]
    if plan.cleaned and not plan.freed and not any(t.deleted for t in plan.cleaned):
        lines.append(f"{verb} 0 B: no file could be deleted")
    elif not plan.cleaned and done:
        lines.append(
            f"{verb} 0 B: nothing left to clean ({len(done)} ended trial(s) already hold only "
            "their newest checkpoint's files)"
        )
    elif not plan.cleaned:
        lines.append(f"{verb} 0 B: no trial can be cleaned")
    else:
        what = f"{verb} {human(plan.freed)} in {len(plan.cleaned)} trial(s)"
        lines.append(f"{what}; kept each trial's newest checkpoint (latest and best pairs)")
    if untouched:
        lines.append(f"{len(untouched)} trial(s) untouched (above: why)")
    failed = sum(len(t.failed) for t in plan.trials)
    if failed:
        lines.append(
            f"{_count(failed, 'file')} could not be deleted (above: why); fix: make them "
            "deletable (permissions, immutable flag) and run clean again"
        )
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


__all__ = ["CleanPlan", "TrialClean", "clean", "human", "plan_clean", "report_lines"]
