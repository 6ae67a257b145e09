"""A generator of so-vits-like validation/training curves with their truth (noise-free
curves, onsets, kinds), written in the format of :mod:`sweeper.bench.curves`."""

from __future__ import annotations

import numpy as np

from sweeper.bench.curves import KINDS, CurveSet, plateau_onset
from sweeper.errors import InputError

DEFAULT_MIX = {
    "plateau": 0.30,
    "late_plateau": 0.10,
    "slow": 0.15,
    "overfit": 0.20,
    "two_phase": 0.08,
    "diverge": 0.07,
    "flat": 0.10,
}
_BLOWUP_CAP = 1e100  # keeps a x10-per-point explosion finite for any budget


def generate(
    n: int = 400,
    *,
    seed: int = 0,
    points: int = 300,
    eval_interval: int = 100,
    mix: dict[str, float] | None = None,
    cv: tuple[float, float] = (0.02, 0.09),
    phi: tuple[float, float] = (-0.5, 0.35),
    spike_prob: float = 0.02,
    wander: tuple[float, float] = (0.0, 0.0),
) -> CurveSet:
    """Generate ``n`` so-vits-like validation/training curves with their truth.

    Args:
        n: number of curves.
        seed: everything is a deterministic function of the arguments.
        points: evaluations per curve (T); steps are ``(1..T) * eval_interval``.
        eval_interval: steps between evaluations.
        mix: fraction of each kind (see ``KINDS``); defaults to ``DEFAULT_MIX``.
        cv: range of the per-curve coefficient of variation of the multiplicative noise
            (2-9 % as measured on so-vits mel; use ~0.2 for a KL-like signal).
        phi: range of the per-curve lag-1 autocorrelation of the AR(1) noise.
        spike_prob: chance per point of an upward GAN spike ``x (1 + |N(0, 4 cv)|)``.
        wander: range of the per-curve size of a slow drift, as a multiple of cv (0: none).

    Returns:
        A :class:`CurveSet` with ``kind``, ``onset``, ``val_true``, ``train_true`` and
        ``length`` (= points; a NaN-diverged curve keeps its NaN to the end as data).
    """
    if n < 1 or points < 20 or eval_interval < 1:
        raise InputError(
            f"need n >= 1, points >= 20, eval_interval >= 1; got {n=}, {points=}, {eval_interval=}"
        )
    if not 0 <= wander[0] <= wander[1] <= 2:
        raise InputError(f"need 0 <= wander <= 2 (a multiple of cv); got {wander=}")
    if not (0 <= cv[0] <= cv[1] < 0.5 and -1 < phi[0] <= phi[1] < 1 and 0 <= spike_prob <= 1):
        raise InputError(
            f"need 0 <= cv <= 0.5, -1 < phi < 1, 0 <= spike_prob <= 1; got {cv=}, "
            f"{phi=}, {spike_prob=}"
        )
    kinds = _allocate(n, DEFAULT_MIX if mix is None else mix)
    seqs = np.random.SeedSequence(seed).spawn(n + 1)
    np.random.default_rng(seqs[n]).shuffle(kinds)
    x = np.arange(1, points + 1) / points  # fraction of the budget at each evaluation
    val, train, val_true, train_true = (np.empty((n, points)) for _ in range(4))
    onset = np.empty(n, dtype=np.int64)
    for i, kind in enumerate(kinds):
        rng = np.random.default_rng(seqs[i])
        vt, tt, onset[i] = _SHAPES[kind](rng, x)
        val_true[i], train_true[i] = vt, tt
        val[i] = vt * _noise(rng, points, cv, phi, spike_prob, wander)
        train[i] = tt * _noise(rng, points, cv, phi, spike_prob, wander)
    return CurveSet(
        steps=np.arange(1, points + 1, dtype=np.int64) * eval_interval,
        val=val,
        train=train,
        length=np.full(n, points, dtype=np.int64),
        kind=np.array(kinds, dtype="<U12"),
        onset=onset,
        val_true=val_true,
        train_true=train_true,
    )


def _allocate(n: int, mix: dict[str, float]) -> list[str]:
    unknown = sorted(set(mix) - set(KINDS))
    total = sum(mix.values())
    if unknown or total <= 0 or min(mix.values()) < 0:
        raise InputError(f"mix must map kinds {KINDS} to non-negative fractions, got {mix=}")
    share = np.array([mix.get(k, 0.0) / total * n for k in KINDS])
    count = np.floor(share).astype(int)
    # largest remainders get the leftover curves so the counts sum to n
    for j in np.argsort(-(share - count), kind="stable")[: n - count.sum()]:
        count[j] += 1
    return [k for k, c in zip(KINDS, count, strict=True) for _ in range(c)]


def _noise(
    rng: np.random.Generator,
    t: int,
    cv: tuple[float, float],
    phi: tuple[float, float],
    spike_prob: float,
    wander: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Multiplicative factor: AR(1) with stationary sd = cv, times rare upward spikes.

    ``wander`` > 0 adds the slow drift seen in real so-vits logs (the level wanders up and down
    over tens of points): an AR(1) with lag-1 correlation 0.95-0.99 and a stationary sd of
    ``wander`` x cv. Nothing extra is drawn when it is 0, so such sets stay as they were.
    """
    sd, ph = rng.uniform(*cv), rng.uniform(*phi)
    e = _ar1(rng, t, sd, ph)
    spikes = np.where(rng.random(t) < spike_prob, 1 + np.abs(rng.normal(0, 4 * sd, t)), 1.0)
    if wander[1] > 0:
        e = e + _ar1(rng, t, rng.uniform(*wander) * sd, rng.uniform(0.95, 0.99))
    return np.maximum(1 + e, 0.2) * spikes


def _ar1(rng: np.random.Generator, t: int, sd: float, ph: float) -> np.ndarray:
    """A stationary AR(1) series of standard deviation ``sd`` and lag-1 correlation ``ph``."""
    z = rng.standard_normal(t) * sd * np.sqrt(1 - ph * ph)
    e = np.empty(t)
    e[0] = rng.standard_normal() * sd
    for j in range(1, t):
        e[j] = ph * e[j - 1] + z[j]
    return e


def _levels(rng: np.random.Generator) -> tuple[float, float, float]:
    """(start, asymptote, train gap): so-vits mel x45 scale, train 3-8 % below val."""
    return rng.uniform(30, 60), rng.uniform(12, 25), rng.uniform(0.03, 0.08)


def _decay(rng: np.random.Generator, x: np.ndarray, start: float, floor: float, at: float):
    """Exponential or saturating power-law decay, plateau onset at budget fraction ``at``."""
    b = start - floor
    if rng.random() < 0.5:

        def shape(tau: float) -> np.ndarray:
            return floor + b * np.exp(-x / tau)
    else:
        p = rng.uniform(1.5, 3.0)

        def shape(tau: float) -> np.ndarray:
            return floor + b * (1 + x / tau) ** -p

    target = round(at * x.size) - 1
    lo, hi = 1e-6, 10.0
    for _ in range(60):  # onset grows with tau: bisect on log tau
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if plateau_onset(shape(mid)) < target else (lo, mid)
    return shape(hi)


def _plateau(lo: float, hi: float):
    def make(rng: np.random.Generator, x: np.ndarray):
        start, floor, gap = _levels(rng)
        v = _decay(rng, x, start, floor, rng.uniform(lo, hi))
        return v, (1 - gap) * v, plateau_onset(v)

    return make


def _slow(rng: np.random.Generator, x: np.ndarray):
    i90 = int(0.9 * x.size) - 1
    for _ in range(10_000):  # rejection: still > 2.5 % to gain at 0.9 budget, sane levels
        start, floor, gap = _levels(rng)
        a0 = floor * rng.uniform(0.0, 0.8)  # an asymptote the budget never reaches
        v = a0 + (start - a0) * (1 + x / rng.uniform(0.01, 0.3)) ** -rng.uniform(0.3, 1.2)
        left90 = (v[i90] - v[-1]) / v[-1]
        if 0.025 < left90 < 0.2 and 10 < v[-1] < 30:
            return v, (1 - gap) * v, -1
    raise RuntimeError("slow-curve sampler found no curve")  # unreachable for sane grids


def _overfit(rng: np.random.Generator, x: np.ndarray):
    start, floor, gap = _levels(rng)
    xo = rng.uniform(0.2, 0.7)
    base = floor + (start - floor) * np.exp(-x * rng.uniform(6, 10) / xo)  # flat by xo
    ramp = np.maximum(x - xo, 0) ** rng.uniform(1, 2)
    rise, lo, hi = rng.uniform(0.05, 0.30), 0.0, 10 * start
    for _ in range(60):  # bisect the amplitude so the end sits `rise` above the minimum
        c = 0.5 * (lo + hi)
        v = base + c * ramp
        lo, hi = (c, hi) if v[-1] / v.min() - 1 < rise else (lo, c)
    v = base + hi * ramp
    train = (1 - gap) * base * (1 - rng.uniform(0.05, 0.2) * np.maximum(x - xo, 0))
    return v, train, int(np.argmin(v))


def _two_phase(rng: np.random.Generator, x: np.ndarray):
    start, floor, gap = _levels(rng)
    x1 = rng.uniform(0.1, 0.4)
    x2 = rng.uniform(x1 + 0.15, 0.8)
    first = _decay(rng, x, start, floor, x1)
    drop = rng.uniform(0.05, 0.15) * floor  # the lr-decay / GAN phase change
    v = first - drop * (1 - np.exp(-np.maximum(x - x2, 0) / rng.uniform(0.02, 0.08)))
    return v, (1 - gap) * v, plateau_onset(v)


def _diverge(rng: np.random.Generator, x: np.ndarray):
    start, floor, gap = _levels(rng)
    v = _decay(rng, x, start, floor, rng.uniform(0.1, 0.5))
    td = int(rng.uniform(0.2, 0.8) * x.size)
    if rng.random() < 0.5:
        v[td:] = np.nan
    else:  # x10 every 1-4 points
        growth = 10.0 ** ((np.arange(td, x.size) - td + 1) / rng.uniform(1, 4))
        v[td:] = np.minimum(v[td - 1] * growth, _BLOWUP_CAP)
    return v, (1 - gap) * v, td


def _flat(rng: np.random.Generator, x: np.ndarray):
    _, floor, gap = _levels(rng)
    v = np.full(x.size, floor)
    return v, (1 - gap) * v, 0


_SHAPES = {
    "plateau": _plateau(0.1, 0.5),
    "late_plateau": _plateau(0.5, 0.9),
    "slow": _slow,
    "overfit": _overfit,
    "two_phase": _two_phase,
    "diverge": _diverge,
    "flat": _flat,
}
