"""The truth a bench scores stops against: given by a generated file, or estimated from
real curves (a heavy robust smoother, a divergence point, a kind and an onset per curve)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sweeper.bench.curves import CurveSet, curve_base, plateau_onset

FALSE_STOP_LEFT = 0.02  # a stop with more than 2 % true improvement left is a false stop


@dataclass(frozen=True)
class Truth:
    """What the scores are measured against, one entry per curve."""

    val_true: np.ndarray  # (N, T) noise-free validation curve
    onset: np.ndarray  # (N,) plateau / overfitting / divergence index; -1: none (still improving)
    kind: np.ndarray  # (N,) str
    length: np.ndarray  # (N,) points per curve
    estimated: bool


def truth_of(curves: CurveSet) -> Truth:
    """The given truth, or an estimate of it when the file carries none."""
    if curves.has_truth and curves.kind is not None:
        return Truth(curves.val_true, curves.onset, curves.kind, curves.lengths(), False)
    return estimate_truth(curves)


def estimate_truth(curves: CurveSet) -> Truth:
    """Estimate the truth of real curves.

    The noise-free curve is a heavy robust smoother of the whole curve: a running median over
    a window of about a fifth of the curve (odd, at least 5 points; it removes GAN spikes), then
    a moving average over the same window (it removes the remaining noise); windows shrink at
    the ends. On generated curves its median error is under 1 %, but a curve with only a few %
    left over its last tenth tends to read as a plateau rather than ``slow``.
    A curve diverges at its first non-finite value, its first value above 10x the median
    before it, or the first of three values whose median is above twice the curve's first
    value (a dead model, worse than twice the untrained one: no overfitting gets there, and
    one spike does not count); it is smoothed up to there. Kinds, unless the file gives
    them: ``diverge``;
    ``overfit`` when the smoothed end is > 5 % above its minimum (onset: the argmin); ``slow``
    when > 2 % improvement is still left at 0.9 L (onset -1); else ``plateau`` (onset by
    mid-budget) or ``late_plateau``, onset where the smoothed curve is within 1 % of its minimum.
    """
    lengths = curves.lengths()
    val_true = np.full(curves.val.shape, np.nan)
    onset = np.zeros(curves.n_curves, dtype=np.int64)
    kinds = []
    for i in range(curves.n_curves):
        v = curves.val[i, : lengths[i]]
        end = _divergence_index(v)
        sm = smooth(v[:end]) if end > 0 else np.array([np.nan])
        val_true[i, : sm.size] = sm
        given = None if curves.kind is None else str(curves.kind[i])
        kind, onset[i] = _classify(sm, end, int(lengths[i]), given)
        kinds.append(kind)
    return Truth(val_true, onset, np.array(kinds), lengths, True)


def smooth(v: np.ndarray) -> np.ndarray:
    """Running median then moving average, both over ~len/5 points (NaN-aware)."""
    half = max(5, (v.size // 5) | 1) // 2
    med = np.nanmedian(_windows(v, half), axis=1)
    return np.nanmean(_windows(med, half), axis=1)


def _windows(v: np.ndarray, half: int) -> np.ndarray:
    """Centered windows of 2 half + 1 points; NaN padding makes them shrink at the ends."""
    padded = np.concatenate([np.full(half, np.nan), v, np.full(half, np.nan)])
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)


def _divergence_index(v: np.ndarray) -> int:
    first = float(v[0]) if v.size else math.nan
    for j, x in enumerate(v):
        if not math.isfinite(x):
            return j
        typical = float(np.nanmedian(v[:j])) if j >= 5 else math.nan
        if typical > 0 and x > 10 * typical:  # a ratio means nothing for a level <= 0
            return j
        if j >= 1 and first > 0 and float(np.median(v[j : j + 3])) > 2 * first:
            return j
    return v.size


def _classify(sm: np.ndarray, end: int, length: int, given: str | None) -> tuple[str, int]:
    if given == "diverge" or (given is None and end < length):
        return "diverge", end
    lo = float(np.nanmin(sm))
    base = curve_base(sm)  # a level near or below 0 has no percentages
    argmin = int(np.nanargmin(sm))
    i90 = int(0.9 * sm.size) - 1
    rose = sm[-1] > lo + 0.05 * base and argmin < sm.size - 1
    if given == "overfit" or (given is None and rose):
        return "overfit", argmin
    if given == "slow" or (given is None and i90 >= 0 and sm[i90] > lo + FALSE_STOP_LEFT * base):
        return "slow", -1
    onset = plateau_onset(sm)
    if given is not None:
        return given, onset
    return ("plateau" if onset <= 0.5 * length else "late_plateau"), onset
