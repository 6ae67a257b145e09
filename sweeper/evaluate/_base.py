"""The vocabulary of the evaluation layer: what a metric is, and what measuring it gave."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sweeper.errors import InputError

OK, UNAVAILABLE, SKIPPED = "ok", "unavailable", "skipped"


@dataclass(frozen=True)
class Metric:
    """A metric's description; ``direction`` says which way is better."""

    name: str  # result key, e.g. "mcd_db"
    family: str  # module that computes it: pitch | spectral | speaker | asr | mos
    direction: str  # "min" (lower is better) or "max"
    unit: str  # "cents", "dB", "fraction", "MOS 1-5", ...
    requires: tuple[str, ...]  # importable modules it needs (checked without importing)
    install: str  # the command that makes it available
    doc: str  # one line: what is measured and against what

    def __post_init__(self) -> None:
        if self.direction not in ("min", "max"):
            raise InputError(f"Metric direction must be 'min' or 'max', got {self.direction!r}")


@dataclass(frozen=True)
class MetricResult:
    """One metric over a set of clips.

    ``value`` is NaN unless ``status == "ok"``; ``detail`` then says why (the install hint for
    an unavailable metric, the missing input for a skipped one). ``per_item`` holds one value
    per clip where the metric is defined per clip (NaN where a clip gave none).
    """

    name: str
    value: float
    direction: str
    unit: str
    status: str = OK
    detail: str = ""
    per_item: tuple[float, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status == OK

    def better_than(self, other: MetricResult) -> bool:
        """True if this value is strictly better than ``other``'s (NaN is never better)."""
        if not (self.ok and other.ok) or math.isnan(self.value):
            return False
        if math.isnan(other.value):
            return True
        return self.value < other.value if self.direction == "min" else self.value > other.value

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: NaN and inf become None (strict JSON has neither)."""
        def clean(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "name": self.name,
            "value": clean(self.value),
            "direction": self.direction,
            "unit": self.unit,
            "status": self.status,
            "detail": self.detail,
            "per_item": [clean(x) for x in self.per_item],
        }


def result(
    metric: Metric,
    value: float,
    per_item=(),
    detail: str = "",
    nothing: str = "no clip gave a value",
) -> MetricResult:
    """A measured value; a NaN one (nothing to measure) is ``skipped`` with ``nothing`` as
    the reason, and so is an infinite one, so a non-number never comes back as "ok"."""
    per = tuple(float(x) for x in per_item)
    if not math.isfinite(value):
        why = nothing if math.isnan(value) else f"the value is {value} (not a number to rank)"
        return MetricResult(
            metric.name, math.nan, metric.direction, metric.unit, SKIPPED, why, per
        )
    return MetricResult(metric.name, float(value), metric.direction, metric.unit, OK, detail, per)


def unavailable(metric: Metric, why: str) -> MetricResult:
    return MetricResult(
        metric.name, math.nan, metric.direction, metric.unit, UNAVAILABLE,
        f"{why}; fix: {metric.install}",
    )


def skipped(metric: Metric, why: str) -> MetricResult:
    return MetricResult(metric.name, math.nan, metric.direction, metric.unit, SKIPPED, why)
