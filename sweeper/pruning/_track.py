"""What the pruner's process knows of each trial: its feed cursor, smoothed best, detector."""

from __future__ import annotations

import itertools
import math
import os
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from sweeper.detect import BestTracker, ConvergenceDetector, Reason, Verdict, relative_scale

TRAIN_WINDOW = 10  # training values per median of train_rises


@dataclass
class _Cursor:
    """Where the feed of one trial's ``intermediate_values`` stands.

    Reports are read in the storage's order (the order they were made, for the in-memory and
    journal storages) and a step not after the last fed one is skipped, as the detector
    would: a restart that reports earlier steps again, or new steps below the last one, is
    ignored live and by a replay alike.
    """

    seen: int = 0
    last_step: int = -1  # Optuna steps are >= 0
    skipped: int | None = None  # the first step skipped for coming after a later one
    # The first NaN or inf among the skipped ones, (step, value): skipped or not, a
    # non-finite value stops the trial as diverged (until 2026-12-07 it went unseen).
    stray: tuple[int, float] | None = None

    def advance(self, values: Mapping[int, float]) -> list[tuple[int, float]]:
        fresh = len(values) - self.seen
        if fresh <= 0:
            return []  # nothing new: the common case for the other trials of a study
        # New reports sit at the end: walk them from there, not past every report read
        # (that walk made each call cost trials x reports).
        new = reversed(list(itertools.islice(reversed(values.items()), fresh)))
        self.seen = len(values)
        points = []
        for step, value in new:
            if step > self.last_step:
                self.last_step = int(step)
                points.append((int(step), float(value)))
            else:
                if self.skipped is None:
                    self.skipped = int(step)
                if self.stray is None and not math.isfinite(value):
                    self.stray = (int(step), float(value))
        return points


@dataclass
class _Level:
    """A trial's smoothed best value so far (minimisation frame), fed incrementally, and
    the range of its finite values (what a change is relative to near zero)."""

    best: BestTracker = field(default_factory=BestTracker)
    cursor: _Cursor = field(default_factory=_Cursor)
    low: float = math.inf
    high: float = -math.inf

    def feed(self, values: Mapping[int, float], sign: float) -> float | None:
        for step, value in self.cursor.advance(values):
            if math.isfinite(value):
                self.best.add(step, sign * value)
                self.low, self.high = min(self.low, sign * value), max(self.high, sign * value)
        return self.best.value

    def scale(self) -> float | None:
        """What a change of a curve that is not all positive is relative to: its level or,
        near zero, its range (as the detector's linear trend); None before any value."""
        best = self.best.value
        return None if best is None else relative_scale(best, self.high - self.low)


@dataclass
class _Track:
    """What this process knows of one trial it judges."""

    detector: ConvergenceDetector
    cursor: _Cursor = field(default_factory=_Cursor)
    last: Verdict | None = None
    # Sticky: a later calm value does not undo a stop. With cross-trial rules on, a CONVERGED
    # verdict is not stored here: it stops the trial only while it cannot lead (see _decide).
    first_stop: Verdict | None = None
    # The first plateau stop the cross-trial rules held back (the trial could lead): what a
    # trial that then runs to its budget says of why it was not stopped.
    held: Verdict | None = None
    # The last step fed without a training value (train_metric set): one reported for it
    # afterwards is never read, which the pruner warns of.
    untrained: int | None = None
    # Steps fed without a training value: many and none with one is a training metric
    # reported at other steps (a batch counter) or never, which the pruner warns of.
    missing_train: int = 0
    late_train: bool = False  # one came after its step was judged: that warning says it
    # The first and the latest few training values: a maximised study's training metric
    # that rises over the run is likely an accuracy, not the loss it must be.
    train_head: list[float] = field(default_factory=list)
    train_tail: list[float] = field(default_factory=list)

    def add_train(self, value: float) -> None:
        if len(self.train_head) < TRAIN_WINDOW:
            self.train_head.append(value)
        else:
            self.train_tail = [*self.train_tail[1 - TRAIN_WINDOW :], value]

    def train_rises(self) -> tuple[float, float] | None:
        """(median of the first, of the latest training values) when every latest one
        stands above every first one (a loss never does that short of exploding); None
        before 2 windows of values."""
        head, tail = self.train_head, self.train_tail
        if len(head) < TRAIN_WINDOW or len(tail) < TRAIN_WINDOW or min(tail) <= max(head):
            return None
        return statistics.median(head), statistics.median(tail)

    def feed(
        self,
        values: Mapping[int, float],
        train_at: Callable[[int], object],
        sign: float,
        *,
        metric: str,
        train_metric: str | None,
        catch_up: bool,
        n_warmup_steps: int,
    ) -> None:
        """Feed the detector the reports made since the last call, in step order: ``values``
        (a trial's intermediate values) and, with ``train_metric``, ``train_at(step)``."""
        for step, raw in self.cursor.advance(values):
            metrics = {metric: sign * raw}
            train = None
            if train_metric is not None:
                train = train_at(step)
            if _finite(train):
                metrics[train_metric] = float(train)  # a loss: never negated
                self.add_train(float(train))
            elif train_metric is not None:
                self.untrained = step  # reported later, it is never read: say so then
                self.missing_train += 1
            verdict = self.detector.update(step, metrics)
            # The detector watches only loss/val/grad_norm names for NaN; any name here. A
            # maximised metric's own message named the negated value ("-inf" for an inf).
            if not math.isfinite(raw) and (verdict.reason is not Reason.DIVERGED or sign < 0):
                verdict = _non_finite(metric, step, raw)
            self.last = verdict
            sticky = verdict.stops and not (catch_up and plateau_stop(verdict))
            # A divergence inside the warm-up is kept and stops the trial once it ends (a
            # NaN there was forgotten when later values were finite).
            counts = step >= n_warmup_steps or verdict.reason is Reason.DIVERGED
            if self.first_stop is None and sticky and counts:
                self.first_stop = verdict
            if self.held is None and catch_up and plateau_stop(verdict) and counts:
                self.held = verdict
        stray = self.cursor.stray
        if stray is not None and self.first_stop is None and self.last is not None:
            # A NaN or inf at a step below the last judged one: skipped with its step, but
            # it counts (the docs: "always"); it went unseen until 2026-12-07.
            last = self.cursor.last_step
            self.last = self.first_stop = _non_finite(metric, last, stray[1], stray[0])


def plateau_stop(verdict: Verdict) -> bool:
    """A stop the plateau rule made, whatever its name: CONVERGED, or OVERFITTING that the
    detector named from one check of a rise (not its confirmed rule). Such a stop waits for
    the cross-trial test like any converged one."""
    if verdict.reason is Reason.CONVERGED:
        return True
    return verdict.reason is Reason.OVERFITTING and (
        verdict.evidence.get("overfitting_confirmed") is False
    )


# (study name, trial number, start time): a study deleted and made again under its name, or
# one pruner reused across studies of one name, must not inherit the old trials' detectors.
_Key = tuple[str, int, Any]


def _key(study_name: str, trial: FrozenTrial) -> _Key:
    return (study_name, trial.number, trial.datetime_start)


def _study_key(study: optuna.Study) -> tuple[str, int, object]:
    # One study (name, id in its storage, the storage): a reused pruner drops the caches
    # of the study before, and each study gets its own warnings.
    return (study.study_name, getattr(study, "_study_id", -1), _storage_identity(study._storage))


def _storage_identity(storage: object) -> object:
    """A database URL or journal file, else the storage object itself.

    A study loaded again per request (`optuna.load_study` in an ask-and-tell server, or in
    each thread) comes with a new storage object; keyed by the object, each call dropped the
    caches, replayed the trial's whole history (a cost growing with its reports: 139 ms a
    call at 119 reports) and warned again (a probe, 2026-12-07).
    """
    # _CachedStorage wraps an RDBStorage as _backend; a JournalStorage its file backend.
    inner = getattr(storage, "_backend", None)
    url = getattr(inner, "url", None) or getattr(storage, "url", None)
    if isinstance(url, str):
        return ("rdb", url)
    path = getattr(inner, "_file_path", None)
    if isinstance(path, str):
        return ("journal", os.path.realpath(path))
    return id(storage)


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _non_finite(metric: str, step: int, value: float, at: int | None = None) -> Verdict:
    """A divergence verdict for a NaN or inf reported at ``at`` (default ``step``), judged
    at ``step``, in the study's frame (the value as reported)."""
    where = f"at step {step}" if at is None else f"at step {at} (reported after step {step})"
    return Verdict(
        Reason.DIVERGED,
        step,
        None,
        f"diverged: {metric} is {value} {where}",
        metric,
        {"guard": "non_finite"},
    )


def other_levels(
    cache: dict[_Key, _Level], study_name: str, number: int, trials: list[FrozenTrial],
    sign: float,
) -> dict[int, float]:
    """The smoothed best of every trial but ``number`` that has one (FAIL and WAITING ones
    aside), each trial's :class:`_Level` kept in ``cache`` and fed only its new reports."""
    levels: dict[int, float] = {}
    for other in trials:
        if other.number == number or other.state in (TrialState.FAIL, TrialState.WAITING):
            continue
        key = _key(study_name, other)
        level = cache.get(key)
        if level is None:  # (setdefault built a throwaway _Level per trial per call)
            level = cache[key] = _Level()
        value = level.feed(other.intermediate_values, sign)
        if value is None and other.state == TrialState.COMPLETE and other.value is not None:
            value = sign * other.value  # no curve: its final value is all there is
        if value is not None and math.isfinite(value):
            levels[other.number] = value
    return levels
