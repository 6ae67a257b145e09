"""What a whole record shows beside the plateau replay: a blow-up and whether it came back,
a spike at the very end, a signal that never changed.

The plateau detector judges trends and skips spikes; in a sweep the divergence guard would
stop a trial whose mel loss blew up, so ``diagnose`` must say so too, and say when the
run came back from it.
"""

from __future__ import annotations

import numpy as np

from sweeper.detect import DivergenceDetector, Reason, Verdict
from sweeper.logs import Series

# Signals the divergence guard watches for explosion (a median of 3 over 2x its best).
EXPLODING = DivergenceDetector().explode_metrics
# A last point this many times the level before it gets a note.
SPIKE_FACTOR = 2.0


def blow_up(name: str, series: Series) -> tuple[Verdict, bool] | None:
    """The first explosion of ``name`` and whether it lasts to the last finite point.

    The rule is the divergence guard's (median of the last 3 values above 2x the lowest such
    median), so a single spike never counts. None when it never fired or ``name`` is not a
    mel loss (adversarial and KL terms drift by design).
    """
    if name not in EXPLODING:
        return None
    detector = DivergenceDetector(explode_metrics=(name,))
    first = last = None
    for step, value in zip(series.steps.tolist(), series.values.tolist(), strict=True):
        if not np.isfinite(value):
            continue  # NaN and inf are judged as a non-finite tail elsewhere
        last = detector.update(step, {name: value})
        if first is None and last.reason is Reason.DIVERGED:
            first = last
    if first is None or last is None:
        return None
    return first, last.reason is Reason.DIVERGED


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
