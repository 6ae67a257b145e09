"""The noise of a mean of k held-out values: autocorrelation and slow wander included."""

from __future__ import annotations

import numpy as np

from sweeper.detect._stats import median, robust_sigma, squared

_BLOCK = 5  # points per block when measuring the noise of a mean


def long_run_variance(values: np.ndarray, sigma: float) -> float:
    """Variance of a mean of k points, times k, for autocorrelated noise with slow wander.

    Measured from consecutive disjoint blocks of 5 (MAD of their changes about the median
    change, which absorbs a steady trend), so no noise model is assumed. It never falls below
    what an AR(1) fitted to the later half's point-to-point changes implies
    (``ar1_long_run_variance``;
    both the MAD of few block changes and the per-point noise scale come out too small under
    positive autocorrelation), and until 16 blocks exist, whose estimate is itself mostly
    noise, twice that is assumed.
    """
    blocks = values[len(values) % _BLOCK :].reshape(-1, _BLOCK).mean(axis=1)
    floor = ar1_long_run_variance(values, sigma)
    if blocks.size < 16:
        return 2.0 * floor
    measured = _BLOCK * squared(robust_sigma(np.diff(blocks))) / 2.0
    return max(measured, floor)


def ar1_long_run_variance(values: np.ndarray, sigma: float) -> float:
    """sigma^2 (1 + phi) / (1 - phi) for AR(1) noise, from the changes between neighbours.

    For AR(1) noise the changes have lag-1 correlation -(1 - phi) / 2 and variance 2 sigma^2
    (1 - phi), which gives phi and sigma. Only the later half of the record is used (the
    steep early fall of a training curve, a run of same-signed changes, would read as strong
    correlation), with robust scales throughout (the correlation from the scales of sums and
    differences, Gnanadesikan-Kettenring), so spikes count little. phi is clipped to
    [0, 0.5]: negative correlation is not counted as a gain, and a short record's estimate
    is noisy (real logs reach 0.34). Never below the independent-noise ``sigma ** 2``. With
    lag-1 correlation 0.3 the per-point scales alone under-state the noise of a 10-point mean
    by about a quarter, and flat curves were named overfitting in 8 % of seeds.
    """
    independent = sigma * sigma
    changes = np.diff(values[len(values) // 2 :])
    if changes.size < 8:
        return independent
    changes = changes - median(changes)
    plus = squared(robust_sigma(changes[1:] + changes[:-1]))
    minus = squared(robust_sigma(changes[1:] - changes[:-1]))
    rho = (plus - minus) / (plus + minus) if plus + minus > 0 else -0.5
    phi = min(max(1.0 + 2.0 * rho, 0.0), 0.5)
    ar_sigma2 = squared(robust_sigma(changes)) / (2.0 * (1.0 - phi))
    return max(independent, ar_sigma2 * (1.0 + phi) / (1.0 - phi))
