"""The Mann-Kendall "no trend, so stop" anchor and the test behind it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sweeper.detect._anchors import Outcome, _Anchor
from sweeper.detect._verdict import EvidenceValue, Reason


@dataclass(frozen=True)
class MKResult:
    """Mann-Kendall statistic S, its variance (tie-corrected), z and the two-sided p-value."""

    s: float
    var_s: float
    z: float
    p: float


def mann_kendall(x: np.ndarray, s: float | None = None) -> MKResult:
    """The Mann-Kendall trend test of ``x`` against its order (z with continuity correction).

    ``s``, when the caller keeps S up to date itself, skips the O(n^2) sum.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if s is None:
        s = float(np.tril(np.sign(np.subtract.outer(x, x)), -1).sum())  # sum over i > j
    _, ties = np.unique(x, return_counts=True)
    var_s = float(n * (n - 1) * (2 * n + 5) - np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18
    if var_s <= 0:
        return MKResult(s, var_s, 0.0, 1.0)
    z = (s - math.copysign(1.0, s)) / math.sqrt(var_s) if s != 0 else 0.0
    return MKResult(s, var_s, z, math.erfc(abs(z) / math.sqrt(2)))


def _signs(x: list[float], v: float) -> int:
    """Sum of sign(v - x_i) over the finite x_i; 0 for a non-finite v (it is dropped)."""
    if not math.isfinite(v) or not x:
        return 0
    a = np.asarray(x)
    return int(np.sign(v - a[np.isfinite(a)]).sum())


class MannKendallDetector(_Anchor):
    """The "no trend, so stop" rule: once ``window`` values are held, stop (CONVERGED) when the
    two-sided Mann-Kendall test over them finds no significant decreasing trend at ``alpha``.

    Non-finite values in the window are dropped (as pymannkendall drops NaN); with fewer than
    3 finite values left the test is not run. Research notes: this rule has no false-stop bound.
    """

    # S over the window is kept up to date in O(window) per report
    _STATE: ClassVar[dict[str, Any]] = {"_values": [], "_s": 0}

    def __init__(self, metric: str, window: int = 40, alpha: float = 0.05) -> None:
        if window < 3 or not 0 < alpha < 1:
            raise ValueError(f"need window >= 3 and 0 < alpha < 1, got {window=}, {alpha=}")
        self.window, self.alpha = int(window), float(alpha)
        super().__init__(metric)

    def _observe(self, step: int, value: float, metrics: Mapping[str, float]) -> Outcome:
        rest = self._values[1:] if len(self._values) == self.window else self._values
        if rest is not self._values:  # the oldest value leaves: drop its pairs sign(x_j - old)
            self._s += _signs(rest, self._values[0])
        self._s += _signs(rest, value)
        self._values = [*rest, value]
        x = np.asarray(self._values)
        x = x[np.isfinite(x)]
        if len(self._values) < self.window or x.size < 3:
            return Reason.CONTINUE, "window not full", {}
        mk = mann_kendall(x, self._s)
        evidence: dict[str, EvidenceValue] = {"z": mk.z, "p": mk.p}
        if mk.z < 0 and mk.p <= self.alpha:
            return Reason.CONTINUE, f"decreasing trend (z={mk.z:.3g}, p={mk.p:.3g})", evidence
        why = (
            f"Mann-Kendall over the last {x.size} {self.metric} values finds no significant "
            f"decreasing trend (z={mk.z:.3g}, p={mk.p:.3g}, alpha={self.alpha:g})"
        )
        return Reason.CONVERGED, why, evidence
