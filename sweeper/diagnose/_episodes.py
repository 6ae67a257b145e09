"""What a whole record shows beside the plateau replay: a blow-up and whether it came back,
a spike at the very end, a signal that never changed, a NaN tail, a fall after a stop.

The plateau detector judges trends and skips spikes; in a sweep the divergence guard would
stop a trial whose mel loss blew up, so ``diagnose`` must say so too, and say when the
run came back from it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sweeper.detect import DivergenceDetector, Reason, Verdict
from sweeper.logs import RunLog, Series

# Points in a signal's recent level: enough for a median to ignore a GAN spike.
RECENT = 10
# Points on each side when asking whether a curve fell after a stop.
FALL_POINTS = 50
# Signals the divergence guard watches for explosion (a median of 5 over 2x its best).
EXPLODING = DivergenceDetector().explode_metrics
# A last point this many times the level before it gets a note.
SPIKE_FACTOR = 2.0


def blow_up(name: str, series: Series) -> tuple[Verdict, bool] | None:
    """The first explosion of ``name`` and whether it lasts to the last finite point.

    The rule is the divergence guard's (median of the last 5 values above 2x the lowest such
    median), so one or two spikes never count. None when it never fired or ``name`` is not a
    mel loss (adversarial and KL terms drift by design).
    """
    if name not in EXPLODING:
        return None
    detector = DivergenceDetector(explode_metrics=(name,))
    finite = np.isfinite(series.values)  # NaN and inf are judged as a non-finite tail elsewhere
    steps, values = series.steps[finite].tolist(), series.values[finite]
    first = last = None
    for at, (step, value) in enumerate(zip(steps, values.tolist(), strict=True)):
        last = detector.update(step, {name: value})
        if first is None and last.reason is Reason.DIVERGED:
            first, fired = last, at
    if first is None or last is None:
        return None
    # The guard fires once its running median is up (the 3rd high point): date the blow-up
    # from the first point of the high stretch, as the eye and the NaN tail are dated.
    start = _high_stretch(values[: fired + 1], detector.explode_factor)
    return dataclasses.replace(first, step=int(steps[start])), last.reason is Reason.DIVERGED


def _high_stretch(values: np.ndarray, factor: float) -> int:
    """Index where the trailing run of values above ``factor`` x the best level begins."""
    start = values.size - 1
    if values.size <= 5:
        return start
    windows = np.lib.stride_tricks.sliding_window_view(values, 5)  # the guard's median of 5
    best = float(np.min(np.median(windows, axis=1)))
    while start > 0 and values[start - 1] > factor * best:
        start -= 1
    return start


def tail_spike(name: str, series: Series, recent: int) -> str | None:
    """A note when the record ends in points far above the level before them."""
    finite = np.isfinite(series.values)
    values, steps = series.values[finite], series.steps[finite]
    for high in range(1, recent + 1):  # how many trailing points leap, at most ``recent``
        if values.size <= recent + high:
            return None
        level = float(np.median(values[-recent - high : -high]))
        if not level > 0 or not values[-high] > SPIKE_FACTOR * level:
            high -= 1
            break
    if high == 0:
        return None
    ratio = float(np.min(values[values.size - high :])) / level
    if high == 1:
        return (
            f"{name}: its last point ({values[-1]:.4g} at step {int(steps[-1])}) is "
            f"{ratio:.1f}x the median of the {recent} before it - one spike, or the start "
            "of a blow-up; the record ends there, so diagnose again once it goes on"
        )
    return (
        f"{name}: its last {high} points (from step {int(steps[-high])}) are at least "
        f"{ratio:.1f}x the median of the {recent} before them: the record ends in a blow-up"
    )


def constant(name: str, series: Series, recent: int) -> str | None:
    """A note when a signal has one value at every point: nothing moved it."""
    values = series.values[np.isfinite(series.values)]
    if values.size < recent or np.ptp(values) > 0:
        return None
    if values[0] == 0:
        return (
            f"{name} is 0 at all {values.size} points: the term is switched off (a weight "
            "of 0 in the config?) or not computed, so its verdict means nothing"
        )
    return (
        f"{name} is {values[0]:.6g} at all {values.size} points: nothing was learned through "
        "it (a learning rate of 0? frozen weights? a log that repeats one line?), so its "
        "'converged' means only that it never moved"
    )


def lowest_level(finite: np.ndarray) -> float | None:
    # Compared with the recent level, a median of as many points: the detector's smoothed
    # best (of 3) sits about two noise levels low on a long noisy record.
    if finite.size < RECENT:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(finite, RECENT)
    return float(np.min(np.median(windows, axis=1)))


def non_finite_tail(series: Series) -> tuple[int, int] | None:
    """(first step, length) of the NaN/inf run that ends the series, or None."""
    finite = np.isfinite(series.values)
    if finite[-1]:
        return None
    count = int(finite.size - (np.flatnonzero(finite)[-1] + 1 if finite.any() else 0))
    return int(series.steps[-count]), count


def fall_since(series: Series, step: int) -> tuple[float, float] | None:
    """How far the level fell after ``step``, and the noise of that figure (both relative).

    The median of the last ``FALL_POINTS`` finite values now against the same number up to
    ``step``; the noise is the standard error of that difference from both windows' robust
    spread. None when either window has fewer than RECENT points or the level is not positive.
    """
    values = series.values
    finite = np.isfinite(values)
    before = values[finite & (series.steps <= step)]
    after = values[finite & (series.steps > step)]
    width = min(FALL_POINTS, before.size, after.size)
    if width < RECENT:
        return None
    then, now = before[-width:], after[-width:]
    level = float(np.median(then))
    if level <= 0:
        return None
    # A median's error is about 1.25 x sd / sqrt(n); sd from the MAD, so spikes count little.
    spread = [1.4826 * float(np.median(np.abs(w - np.median(w)))) / level for w in (then, now)]
    noise = 1.25 * math.sqrt(sum(sd**2 for sd in spread) / width)
    return 1.0 - float(np.median(now)) / level, noise


def fell_clearly(change: tuple[float, float] | None, epsilon: float) -> bool:
    """A fall beyond epsilon by more than twice its noise: the curve moved on."""
    return change is not None and change[0] > epsilon + 2.0 * change[1]


def stop_stands(
    first: Verdict | None, final: Verdict, series: Series | None, epsilon: float
) -> bool:
    if first is None or first.reason is not Reason.CONVERGED:
        return False
    if final.reason is not Reason.CONTINUE or series is None:
        return False
    return not fell_clearly(fall_since(series, first.step), epsilon)


# A learning-rate step beyond this factor is a change by hand (or a scheduler's step), not
# so-vits-svc's per-epoch decay (0.999875 per epoch, well under 1 % between logged points).
LR_JUMP = 1.5


def lr_changes(series: Series | None, shown: int = 3) -> str | None:
    """A note naming where the learning rate jumped: a plateau before says little after."""
    if series is None or len(series) < 2:
        return None
    finite = np.isfinite(series.values) & (series.values > 0)
    steps, values = series.steps[finite], series.values[finite]
    ratio = values[1:] / values[:-1]
    jumps = np.flatnonzero((ratio > LR_JUMP) | (ratio < 1.0 / LR_JUMP))
    if jumps.size == 0:
        return None
    where = ", ".join(
        f"at step {int(steps[i + 1])} ({values[i]:.3g} to {values[i + 1]:.3g})"
        for i in jumps[:shown]
    )
    more = f" and {jumps.size - shown} more" if jumps.size > shown else ""
    return (
        f"the learning rate changed {where}{more}: a plateau before a change says little "
        "about training after it"
    )


def lone_last_non_finite(run: RunLog) -> RunLog:
    """The run with a note when a NaN or inf is at the very last logged step only.

    The point is judged as it stands (diverged): a sweep's pruner stops a trial at its first
    NaN, so every diverged trial's log ends with exactly one, and an fp32 run has no
    GradScaler to skip it. Leaving it out (2026-12-07, for a few hours) told such a trial
    "continue" while `sweeper status` said diverged. The note names the one case where
    training goes on past it: an fp16 overflow that the GradScaler skips.
    """
    last = max((int(s.steps[-1]) for s in run.series.values() if len(s) > 0), default=None)
    lone = []
    for tag, series in run.series.items():
        tail = non_finite_tail(series) if len(series) > 0 else None
        if tail is None or int(series.steps[-1]) != last:
            continue
        if tail[1] > 1 or len(series) < 2:
            return run  # a longer run of NaN/inf, or nothing else: nothing to add
        lone.append(tag)
    if not lone:
        return run
    note = (
        f"{', '.join(sorted(lone))}: NaN or inf at the last logged step ({last}) only - one "
        "point, judged as a divergence; with fp16 the GradScaler skips an overflowing step "
        "and training goes on: if this run went on, diagnose its newer log"
    )
    return dataclasses.replace(run, notes=[*run.notes, note])
