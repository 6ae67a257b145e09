"""What one replayed sweep scores against the truth (see :mod:`sweeper.bench.pruner`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sweeper.bench import _replay
from sweeper.bench.curves import CurveSet, curve_base

TOP_SHARE = 0.10  # the oracle's top 10 %
CUT_LEFT = 0.01  # a top trial stopped with more than 1 % true improvement left is cut


@dataclass(frozen=True)
class Score:
    """One sweep's scores (see the module docstring); None: undefined (no finite value)."""

    compute: float
    regret: float | None
    top10_cut: float | None
    spearman: float | None
    regret_picked: float | None = None


@dataclass(frozen=True)
class Truth:
    """Per curve: the true best over the whole run, and the true curve it is read from."""

    val_true: np.ndarray
    best: np.ndarray  # inf where a curve has no finite true value
    estimated: bool


def truth_of(curves: CurveSet) -> Truth:
    """``val_true`` when the file has it, else the detector bench's smoothed estimate."""
    from sweeper.bench.truth import estimate_truth

    if curves.val_true is not None:
        val_true, estimated = np.asarray(curves.val_true, float), False
    else:
        val_true, estimated = estimate_truth(curves).val_true, True
    lengths = curves.lengths()
    best = np.array([_lowest(val_true[i, : lengths[i]]) for i in range(curves.n_curves)])
    return Truth(val_true, best, estimated)


def score(truth: Truth, out: _replay.Outcome, lengths: np.ndarray) -> Score:
    """The scores of one sweep against the truth (see the module docstring).

    Every trial counts with its best reported value, pruned or not: the sweep keeps each
    trial's best checkpoint up to its stop and ranks trials by it.
    """
    n = truth.best.size
    at_stop = np.array([_lowest(truth.val_true[i, : out.used[i]]) for i in range(n)])
    oracle = float(truth.best.min())
    # Fractions of the oracle's value (or, near or below zero, of the oracle curve's fall).
    o = int(np.argmin(truth.best))
    scale = curve_base(truth.val_true[o, : lengths[o]]) if np.isfinite(oracle) else math.nan
    seen = np.where(np.isfinite(out.best), out.best, math.inf)
    regret = picked = cut_share = None
    # Undefined (None), never inf or NaN, where no curve has a finite truth: every curve
    # NaN from its first point, or the picked trial's truth is (a probe: `Infinity` in JSON).
    if np.isfinite(oracle) and np.isfinite(at_stop).any():
        regret = (float(at_stop.min()) - oracle) / scale
    if np.isfinite(oracle) and np.isfinite(seen).any():
        chosen = float(at_stop[int(np.argmin(seen))])
        picked = (chosen - oracle) / scale if math.isfinite(chosen) else None
    finite_best = np.flatnonzero(np.isfinite(truth.best))
    if finite_best.size:
        ranked = finite_best[np.argsort(truth.best[finite_best], kind="stable")]
        top = ranked[: max(1, math.ceil(TOP_SHARE * finite_best.size))]
        bases = np.array([curve_base(truth.val_true[i, : lengths[i]]) for i in top])
        with np.errstate(invalid="ignore"):
            left = (at_stop[top] - truth.best[top]) / bases
        cut = ~(left <= CUT_LEFT)  # NaN (no finite truth up to the stop) counts as cut
        cut_share = float(cut.mean())
    return Score(
        compute=float(out.used.sum() / lengths.sum()),
        regret=regret,
        top10_cut=cut_share,
        spearman=_replay.spearman(truth.best, seen),
        regret_picked=picked,
    )


def _lowest(v: np.ndarray) -> float:
    finite = v[np.isfinite(v)]
    return float(finite.min()) if finite.size else math.inf
