"""The Overall line: the combined detector replayed on the signals worth judging."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from sweeper.detect import ConvergenceDetector, PlateauDetector, Reason, Verdict
from sweeper.diagnose._episodes import (
    RECENT,
    constant,
    fall_since,
    fell_clearly,
    non_finite_tail,
    stop_stands,
)
from sweeper.logs import RunLog, Series

if TYPE_CHECKING:
    from sweeper.diagnose._core import SignalReport


def overall_verdicts(
    run: RunLog, primary: str | None, budget: int | None, judged: Sequence[str]
) -> tuple[Verdict | None, Verdict | None, Verdict | None]:
    """(first stop, last verdict, first verdict of the last one's unbroken run of its reason)."""
    series = dict(run.series)
    train_metric = "loss/g/mel"
    if primary is None:
        # Judge on signals the run has and that moved (a mel weight of 0 logs 0 throughout),
        # keeping the preference order: val/mel, then the first training signal left.
        moved = [name for name in judged if _moved(name, run.series[name])] or list(judged)
        for name in set(judged) - set(moved):
            series.pop(name)
        train_metric = next((n for n in moved if not n.startswith("val/")), train_metric)
        held_out = [n for n in moved if n.startswith("val/")]
        if held_out and "val/mel" not in held_out:
            primary = held_out[0]
    detector = ConvergenceDetector(primary, budget=budget, train_metric=train_metric)
    first = last = since = None
    for step, metrics in merged_by_step(series):
        verdict = detector.update(step, metrics)
        if first is None and verdict.stops:
            first = verdict
        if last is None or verdict.reason is not last.reason:
            since = verdict
        last = verdict
    series = None if last is None else run.series.get(last.signal)
    epsilon = PlateauDetector("defaults").epsilon
    if last is not None and stop_stands(first, last, series, epsilon):
        last = dataclasses.replace(last, reason=Reason.CONVERGED, message=first.message)
        since = first
    elif _converged_throughout(first, last, since, series, epsilon):
        since = first  # a flat curve's bound wandered over epsilon and back: one convergence
    return first, last, since


def _converged_throughout(
    first: Verdict | None,
    last: Verdict | None,
    since: Verdict | None,
    series: Series | None,
    epsilon: float,
) -> bool:
    """Converged at the first stop and at the end, and the level has not clearly fallen
    between: the signal's own line dates it from the first stop, so must the Overall."""
    if first is None or last is None or since is None or series is None:
        return False
    if first.reason is not Reason.CONVERGED or last.reason is not Reason.CONVERGED:
        return False
    return since.step > first.step and not fell_clearly(fall_since(series, first.step), epsilon)


def raw_nan_start(
    stop: Verdict | None,
    since: Verdict | None,
    reports: Mapping[str, SignalReport],
    raw: Mapping[str, Series],
) -> tuple[Verdict | None, Verdict | None]:
    """Date a NaN tail (from the raw points) or a blow-up on the combined verdict as the
    signal's own line does: one event, one step. A guard the combined detector fired on
    (loss/d/total) is dated from its raw points too: span means date a NaN at a span's end."""
    if since is None:
        return stop, since
    judged = reports.get(since.signal)
    start, message = None, ""
    if judged is not None:
        start, message = judged.diverged_since, judged.final.message
    elif since.signal in raw and (tail := non_finite_tail(raw[since.signal])) is not None:
        start, count = tail
        message = f"{since.signal} is NaN or inf from step {start} to the end ({count} point(s))"
    if start is None or since.step < start:
        return stop, since
    cut = since.message.find(" [judged on ")
    note = since.message[cut:] if cut >= 0 else ""
    since = dataclasses.replace(since, step=start, message=message + note)
    if stop is not None and stop.reason is Reason.DIVERGED and stop.step > start:
        stop = dataclasses.replace(stop, step=start)
    return stop, since


def _moved(name: str, series: Series) -> bool:
    """Some finite value, and not one value at every point (constant()'s note)."""
    return bool(np.isfinite(series.values).any()) and constant(name, series, RECENT) is None


def merged_by_step(series: Mapping[str, Series]) -> Iterator[tuple[int, dict[str, float]]]:
    """Every logged step once, with every metric logged at it."""
    by_step: dict[int, dict[str, float]] = {}
    for name, s in series.items():
        for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
            by_step.setdefault(step, {})[name] = value
    for step in sorted(by_step):
        yield step, by_step[step]


def suspected_line(overall: Verdict, turned: str) -> str | None:
    """The Overall words for a CONTINUE whose held-out metric turned up while training
    clearly improves (the detector's ``overfitting_suspected``): a run of 31 evaluations,
    17 % above its best, was told "continue" because the overfitting test waits for 40."""
    evidence = overall.evidence
    if evidence.get("overfitting_suspected") is not True:
        return None
    points, needed = evidence.get("overfit_points"), evidence.get("overfit_points_needed")
    wait = ""
    if isinstance(points, (int, float)) and isinstance(needed, (int, float)) and points < needed:
        wait = f" (it needs {needed:.0f} evaluations, {points:.0f} so far)"
    train = evidence.get("train_metric") or "the training loss"
    keep = ""
    if overall.best_step is not None:
        keep = f"; stop and keep the checkpoint at or before step {overall.best_step}, or train on"
        keep += " to confirm"
    rise = turned.removesuffix(", so it is not improving now")
    gap, cv = evidence.get("generalization_gap"), evidence.get("overfit_noise_cv")
    if not rise:
        # The signal's own "turned up" takes the plateau fit's noise, which a fall and a
        # rise inflate; the overfitting test's noise is measured around a running median.
        # Two of its sds: flat curves were called "likely overfitting" in 5-13 % of seeds
        # on the one-look test alone, 0-3 % with this (60 seeds each, 31-100 points).
        if not isinstance(gap, float) or not isinstance(cv, float):
            return None
        if gap <= max(float(evidence.get("epsilon", 0.015)), 2.0 * cv):
            return None
        rise = f"is {100 * gap:.1f} % above its best"
    return (
        f"likely overfitting — {overall.signal} {rise}, while {train} keeps improving; not yet "
        f"confirmed by the overfitting test{wait}{keep}"
    )

