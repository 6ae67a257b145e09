"""Small deterministic curves for tests: a true curve times AR(1) noise with spikes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def noisy(
    true: np.ndarray, cv: float, *, seed: int = 0, phi: float = 0.0, spike_prob: float = 0.0
) -> np.ndarray:
    """``true`` times (1 + AR(1) noise of sd ``cv``) times rare upward spikes."""
    rng = np.random.default_rng(seed)
    e = np.empty(true.size)
    e[0] = rng.standard_normal() * cv
    innovations = rng.standard_normal(true.size) * cv * np.sqrt(1 - phi * phi)
    for i in range(1, true.size):
        e[i] = phi * e[i - 1] + innovations[i]
    spikes = np.where(
        rng.random(true.size) < spike_prob, 1 + np.abs(rng.normal(0, 4 * cv, true.size)), 1
    )
    return true * np.maximum(1 + e, 0.2) * spikes


def stream(steps: np.ndarray, **series: np.ndarray) -> Iterator[tuple[int, dict[str, float]]]:
    """``(step, {name: value})`` pairs; keyword names use ``__`` for ``/`` (val__mel)."""
    names = {key: key.replace("__", "/") for key in series}
    for i, step in enumerate(steps):
        yield int(step), {names[k]: float(v[i]) for k, v in series.items()}
