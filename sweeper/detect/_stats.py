"""Statistics over arrays, shared by the detectors (numpy + stdlib only)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()
# MAD of a normal sample is 0.6745 sigma.
_MAD_TO_SIGMA = 1.4826
_HUBER_K = 1.345
# The slope error's small-sample factor is 1 + SMALL_SAMPLE / n (see robust_line).
SMALL_SAMPLE = 10.0


def z_quantile(alpha: float) -> float:
    """Upper ``alpha`` quantile of the standard normal (one-sided critical value)."""
    if 1.0 - alpha == 1.0:  # below 1e-16 that rounds to 1, where inv_cdf raises
        return -_NORMAL.inv_cdf(alpha)
    return _NORMAL.inv_cdf(1.0 - alpha)


def median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D array, to the bit, without its overhead (the detectors call it
    hundreds of thousands of times on short arrays). NaN when any value is NaN."""
    n = values.size
    if n == 0:
        return math.nan
    k = n // 2
    part = np.partition(values, (k - 1, k, n - 1) if n % 2 == 0 else (k, n - 1))
    if math.isnan(part[-1]):  # partition sorts NaN last
        return math.nan
    return float(part[k]) if n % 2 else float((part[k - 1] + part[k]) / 2.0)


def squared(x: float) -> float:
    """x * x: a Python float's ``x ** 2`` raises OverflowError past 1e154, this gives inf."""
    return x * x


def robust_sigma(residuals: np.ndarray) -> float:
    """Noise scale that ignores spikes: 1.4826 x median absolute deviation."""
    if residuals.size == 0:
        return 0.0
    return float(_MAD_TO_SIGMA * median(np.abs(residuals - median(residuals))))


def lag1_autocorrelation(residuals: np.ndarray) -> float:
    """Lag-1 autocorrelation of residuals in time order (0 when undefined)."""
    r = residuals - residuals.mean()
    denom = float(np.dot(r, r))
    if r.size < 3 or denom <= 0.0:
        return 0.0
    return float(np.dot(r[1:], r[:-1]) / denom)


def newey_west_lags(n: int) -> int:
    """Bartlett-kernel bandwidth: the usual 4 (n / 100) ** (2 / 9), plus one for GAN wander."""
    return int(4.0 * (max(n, 1) / 100.0) ** (2.0 / 9.0)) + 1


def long_run_sum(u: np.ndarray, lags: int) -> float:
    """Newey-West estimate of Var(sum u) for a zero-mean, autocorrelated series ``u``.

    Floored at half the independent-case variance: strongly negative autocorrelation would
    shrink error bars further than a short noisy record can justify.
    """
    base = float(np.dot(u, u))
    total = base
    for lag in range(1, min(lags, u.size - 1) + 1):
        total += 2.0 * (1.0 - lag / (lags + 1.0)) * float(np.dot(u[lag:], u[:-lag]))
    return max(total, 0.5 * base)


@dataclass(frozen=True)
class LineFit:
    """A robust straight line y = intercept + slope * x with an honest slope error."""

    intercept: float
    slope: float
    slope_se: float  # heavy-tail and autocorrelation robust (Huber sandwich + Newey-West)
    sigma: float  # robust noise scale of the residuals (per raw point)
    phi: float  # lag-1 autocorrelation of the residuals (reported, not used)
    n: int

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


def robust_line(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> LineFit:
    """Huber IRLS fit of y on x; weights ``w`` count raw points behind merged ones.

    Spikes are down-weighted by the Huber weights. The slope's error is the sandwich
    (M-estimator) form with a Newey-West middle, so heavy tails and autocorrelated noise,
    including the slow wander of GAN losses, widen it instead of being ignored.
    """
    n = x.size
    if w is None:
        w = np.ones(n)
    if n < 3:
        raise ValueError(f"robust_line needs at least 3 points, got {n=}")
    robust_w = np.ones(n)
    intercept, slope, resid = 0.0, 0.0, np.zeros(n)
    sigma = 0.0
    ww = w
    for _ in range(5):
        ww = w * robust_w
        sw = ww.sum()
        xm = float((ww * x).sum() / sw)
        ym = float((ww * y).sum() / sw)
        dx = x - xm
        sxx = float((ww * dx * dx).sum())
        slope = float((ww * dx * (y - ym)).sum() / sxx) if sxx > 0 else 0.0
        intercept = ym - slope * xm
        resid = y - (intercept + slope * x)
        # Residuals of merged points shrink with their weight; rescale to per-raw-point noise.
        sigma = robust_sigma(resid * np.sqrt(w))
        if sigma <= 0.0:
            break
        u = np.abs(resid) * np.sqrt(w) / (_HUBER_K * sigma)
        robust_w = np.where(u <= 1.0, 1.0, 1.0 / np.maximum(u, 1e-12))
    phi = lag1_autocorrelation(resid * np.sqrt(w))
    xm = float((ww * x).sum() / ww.sum())
    dx = x - xm
    # The bread sums Huber's psi' (1 inside the corner, 0 beyond), not the IRLS weights: a
    # spike down-weighted to 1/u is not a sixth of a point of information but none.
    inside = robust_w >= 1.0 if sigma > 0.0 else np.ones(n, dtype=bool)
    bread = float((w * inside * dx * dx).sum())
    if bread <= 0:
        return LineFit(intercept, slope, math.inf, sigma, phi, n)
    scores = ww * resid * dx  # Huber psi(residual) x leverage, per point in time order
    # Newey-West from fitted residuals comes out short on a short record (they sum to zero
    # against the fit): n / (n - 2) for the two parameters, and a small-sample factor
    # measured on noise of lag-1 correlation -0.3 to 0.3 with spikes (slope / error had an
    # sd of 1.3-1.8 at 30 points, 1.25-1.6 at 60, 1.15-1.33 at 150; now 1.0-1.15).
    meat = long_run_sum(scores, newey_west_lags(n)) * n / max(n - 2, 1)
    se = math.sqrt(meat) / bread * (1.0 + SMALL_SAMPLE / n)
    return LineFit(intercept, slope, se, sigma, phi, n)


def rolling_median(values: np.ndarray, width: int) -> np.ndarray:
    """Centred running median over ``width`` points (made odd; ends padded with the edge)."""
    half = max(width, 1) // 2
    if values.size == 0 or half == 0:
        return values.astype(float)
    padded = np.pad(values.astype(float), half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)


def spend(alpha: float, look: int) -> float:
    """Alpha for look number ``look`` (1, 2, ...): alpha / (look (look + 1)); sums to alpha."""
    if look < 1:
        raise ValueError(f"look numbers start at 1, got {look=}")
    return alpha / (look * (look + 1))
