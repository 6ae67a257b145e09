"""Ranking finished trials: pure functions over numbers (no files, no optuna).

Three orders, each with ties broken by compute (fewer steps first), then trial number:

- ``composite``: every weighted metric is put on one "badness" scale (0 = best) by ``rank``
  (average rank, scaled to [0, 1]), ``minmax`` ((v - best) / (worst - best)) or ``zscore``
  (standard score, sign so that lower is better); the score is their weighted mean.
- ``lexicographic``: the first metric decides, the next breaks its ties, and so on.
- ``pareto``: non-dominated sorting; front 0 is the Pareto front, then the front of what is
  left, and so on. Within a front every trial is a tie.

A candidate lacking a finite value of a metric the order needs is not ranked; it comes back
in the excluded list with the reason.

Example:
    >>> c = [Candidate(0, {"a": 2.0}, 10), Candidate(1, {"a": 1.0}, 30)]
    >>> ranked, _ = rank(c, Criteria("lexicographic", ("a",), {"a": "min"}))
    >>> [r.key for r in ranked]
    [1, 0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sweeper.errors import InputError

# Scores equal to this many digits are ties (float noise must not decide a place).
_TIE_DIGITS = 12


def tie_key(value: float) -> float:
    """``value`` to _TIE_DIGITS significant digits: metric values equal but for float noise
    (0.1 + 0.2 against 0.3) compare equal, so the next metric or the compute decides. Relative,
    not absolute, digits: a metric may be 1e-6 or 1e6."""
    return float(f"{value:.{_TIE_DIGITS}g}") if math.isfinite(value) else value


@dataclass(frozen=True)
class Candidate:
    """One trial as the ranking sees it."""

    key: int  # the trial number
    values: Mapping[str, float]  # metric -> value at the trial's best checkpoint
    compute: float  # steps it ran (the tie-break: cheaper first)


@dataclass(frozen=True)
class Criteria:
    """What to rank by."""

    mode: str  # composite | lexicographic | pareto
    metrics: tuple[str, ...]  # composite: the weighted ones; else the order / the axes
    directions: Mapping[str, str]  # metric -> "min" | "max" (every metric above)
    weights: Mapping[str, float] = field(default_factory=dict)  # composite only
    normalize: str = "rank"  # composite only: rank | minmax | zscore

    def __post_init__(self) -> None:
        if self.mode not in ("composite", "lexicographic", "pareto"):
            raise InputError(
                f"ranking mode {self.mode!r} is unknown; fix: composite|lexicographic|pareto"
            )
        if self.normalize not in ("rank", "minmax", "zscore"):
            raise InputError(
                f"normalisation {self.normalize!r} is unknown; fix: rank|minmax|zscore"
            )
        if not self.metrics:
            raise InputError("a ranking needs 1+ metric (got none); fix: name one")
        for name in self.metrics:
            if self.directions.get(name) not in ("min", "max"):
                raise InputError(
                    f"metric {name!r} has no direction (got {self.directions.get(name)!r}); "
                    "fix: give summary.modes: {NAME: min|max}"
                )
        if self.mode == "composite" and not any(
            self.weights.get(m, 0.0) > 0 for m in self.metrics
        ):
            raise InputError(
                f"composite ranking needs a weight > 0 (got {dict(self.weights)}); "
                "fix: summary.weights: {METRIC: 1}"
            )


@dataclass(frozen=True)
class Ranked:
    """A ranked trial; ``place`` 1 is the winner."""

    key: int  # the trial number
    place: int  # 1-based position in the order
    score: float | None  # composite: weighted normalised badness (0 = best); else None
    front: int | None  # pareto: 0 = on the Pareto front; else None
    normalized: dict[str, float]  # composite: each metric's badness in [0, 1] (rank, minmax)


@dataclass(frozen=True)
class Excluded:
    key: int  # the trial number
    reason: str  # why it has no place


def oriented(value: float, direction: str) -> float:
    """Lower is better after this."""
    return value if direction == "min" else -value


def normalise(values: Sequence[float], kind: str) -> list[float]:
    """Badness on one scale, lower better; ``values`` are already oriented (lower better)."""
    n = len(values)
    if n == 0:
        return []
    if kind == "rank":
        order = sorted(range(n), key=lambda i: values[i])
        ranks = [0.0] * n
        i = 0
        while i < n:  # equal values share their average rank
            j = i
            while j + 1 < n and tie_key(values[order[j + 1]]) == tie_key(values[order[i]]):
                j += 1
            for k in range(i, j + 1):
                ranks[order[k]] = (i + j) / 2
            i = j + 1
        return [r / (n - 1) if n > 1 else 0.0 for r in ranks]
    if kind == "minmax":
        lo, hi = min(values), max(values)
        return [(v - lo) / (hi - lo) if hi > lo else 0.0 for v in values]
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    return [(v - mean) / std if std > 0 else 0.0 for v in values]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is no worse than ``b`` everywhere and better somewhere (lower is better)."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def _value(cand: Candidate, metric: str) -> float | None:
    """The candidate's finite value of ``metric``, else None."""
    value = cand.values.get(metric)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def pareto_fronts(points: Sequence[Sequence[float]]) -> list[int]:
    """The front index of each point (0 = non-dominated); lower is better on every axis."""
    front = [-1] * len(points)
    left = set(range(len(points)))
    level = 0
    while left:
        current = {i for i in left if not any(dominates(points[j], points[i]) for j in left)}
        for i in current:
            front[i] = level
        left -= current
        level += 1
    return front


def _scaled_weights(weights: Mapping[str, float], needed: Sequence[str]) -> dict[str, float]:
    """The weights of ``needed`` divided by the largest: the same composite (weights need
    not sum to 1), but their total stays finite (two weights of 1e308 summed to inf, which
    made every score 0 and left the order to the step counts)."""
    top = max(weights[m] for m in needed)
    return {m: weights[m] / top for m in needed}


def rank(
    candidates: Sequence[Candidate], criteria: Criteria
) -> tuple[list[Ranked], list[Excluded]]:
    """The candidates in order (best first), and the ones that cannot be placed."""
    # A composite's weight-0 metric is only shown: a trial lacking it is still ranked.
    needed = [
        m
        for m in criteria.metrics
        if criteria.mode != "composite" or criteria.weights.get(m, 0.0) > 0
    ]
    usable: list[Candidate] = []
    excluded: list[Excluded] = []
    for cand in candidates:
        bad = [m for m in needed if _value(cand, m) is None]
        if bad:
            excluded.append(Excluded(cand.key, f"no finite value of {', '.join(bad)}"))
        else:
            usable.append(cand)
    # Tie-rounded: a lexicographic place or a domination must not hang on float noise.
    vectors = [
        [tie_key(oriented(float(c.values[m]), criteria.directions[m])) for m in needed]
        for c in usable
    ]
    scores: list[float | None] = [None] * len(usable)
    fronts: list[int | None] = [None] * len(usable)
    norms: list[dict[str, float]] = [{} for _ in usable]
    if criteria.mode == "composite":
        weights = _scaled_weights(criteria.weights, needed)
        total = sum(weights.values())
        acc = [0.0] * len(usable)
        for metric in criteria.metrics:
            have = {i: v for i, c in enumerate(usable) if (v := _value(c, metric)) is not None}
            values = [oriented(v, criteria.directions[metric]) for v in have.values()]
            weight = weights.get(metric, 0.0)
            for i, x in zip(have, normalise(values, criteria.normalize), strict=True):
                norms[i][metric] = x
                acc[i] += weight * x / total
        scores = list(acc)
        keys = [(round(s, _TIE_DIGITS),) for s in acc]
    elif criteria.mode == "pareto":
        found = pareto_fronts(vectors)
        fronts = list(found)
        keys = [(float(f),) for f in found]
    else:
        keys = [tuple(v) for v in vectors]
    order = sorted(range(len(usable)), key=lambda i: (keys[i], usable[i].compute, usable[i].key))
    ranked = [
        Ranked(usable[i].key, place, scores[i], fronts[i], norms[i])
        for place, i in enumerate(order, start=1)
    ]
    return ranked, excluded
