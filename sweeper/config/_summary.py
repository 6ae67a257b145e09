"""The ``summary:`` section of a sweep file: how ``sweeper summarize`` ranks finished trials.

Metric names cannot be checked here (the metrics exist only once trials have reported, or
once ``--evaluate`` has measured them); the summarizer checks them against the metrics the
sweep folder holds and names those in its error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sweeper.space import FieldError
from sweeper.space._fields import as_float, as_mapping, as_str

RANKINGS = ("composite", "lexicographic", "pareto")
NORMALIZATIONS = ("rank", "minmax", "zscore")
_DIRECTIONS = ("min", "max")


@dataclass(frozen=True)
class SummarySettings:
    """How trials are ranked; every field optional (defaults come from ``objective``)."""

    # composite | lexicographic | pareto; null = composite if weights are given, else
    # lexicographic on one objective metric, pareto on several
    mode: str | None = None
    # composite: metric -> weight >= 0 (at least one > 0); null = 1 per objective metric
    weights: Mapping[str, float] | None = None
    # composite: how each metric is put on one scale before weighting (rank | minmax | zscore)
    normalize: str = "rank"
    # lexicographic order / Pareto axes; null = objective.metrics
    metrics: tuple[str, ...] | None = None
    # direction of a metric that is neither an objective nor a sweeper.evaluate metric
    modes: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.mode is not None:
            as_str(("mode",), self.mode, RANKINGS)
        as_str(("normalize",), self.normalize, NORMALIZATIONS)
        if self.weights is not None:
            weights = {}
            for name, value in as_mapping(("weights",), self.weights).items():
                as_str(("weights", name), name)
                weight = as_float(("weights", name), value)
                if weight < 0:
                    raise FieldError(
                        ("weights", name), "must be >= 0", value, "use 0 to show without weight"
                    )
                weights[name] = weight
            if not any(w > 0 for w in weights.values()):
                raise FieldError(
                    ("weights",), "needs a weight > 0", dict(self.weights), "e.g. {val/mel_l1: 1}"
                )
            object.__setattr__(self, "weights", weights)
        if self.metrics is not None:
            metrics = (self.metrics,) if isinstance(self.metrics, str) else self.metrics
            if not isinstance(metrics, list | tuple) or not metrics:
                raise FieldError(("metrics",), "must list 1+ metric", metrics, "e.g. [val/mel]")
            for i, name in enumerate(metrics):
                as_str(("metrics", i), name)
            if len(set(metrics)) != len(metrics):
                raise FieldError(("metrics",), "repeats a metric", list(metrics), "list each once")
            object.__setattr__(self, "metrics", tuple(metrics))
        if self.modes is not None:
            modes = {}
            for name, value in as_mapping(("modes",), self.modes).items():
                modes[name] = as_str(("modes", name), value, _DIRECTIONS)
            object.__setattr__(self, "modes", modes)
        # Each ranking reads its own keys; one set under another would be ignored silently.
        if self.weights is not None and self.mode not in (None, "composite"):
            raise FieldError(
                ("weights",), f"apply to mode: composite, not {self.mode}", dict(self.weights),
                "set mode: composite, or remove weights (list the order in metrics:)",
            )
        if self.metrics is not None and self.mode == "composite":
            raise FieldError(
                ("metrics",), "apply to mode: lexicographic or pareto, not composite",
                list(self.metrics), "give the composite's metrics in weights:",
            )

    def check_modes(self, metrics: tuple[str, ...], modes: tuple[str, ...]) -> None:
        """Refuse a summary.modes entry that contradicts the objective's direction: each
        trial's best step was chosen by it (summarize's ``direction`` refuses it too, but
        only after the sweep has run)."""
        known = dict(zip(metrics, modes, strict=True))
        for name, asked in (self.modes or {}).items():
            if name in known and asked != known[name]:
                raise FieldError(
                    ("modes", name), f"contradicts objective.modes ({known[name]})", asked,
                    f"remove {name} from summary.modes",
                )
        # A direction for a metric the ranking never reads was accepted and did nothing.
        ranked = self.ranked_metrics(metrics)
        where = "weights" if self.ranking == "composite" else "metrics"
        for name in self.modes or {}:
            if name not in ranked and name not in known:
                raise FieldError(
                    ("modes", name), f"is not a metric the ranking uses ({', '.join(ranked)})",
                    name, f"add {name} to summary.{where}, or remove it from summary.modes",
                )  # fmt: skip

    def ranked_metrics(self, objective: tuple[str, ...]) -> tuple[str, ...]:
        """The metrics the file's ranking orders by (a composite's weight-0 ones shown)."""
        if self.ranking == "composite":
            return tuple(self.weights or dict.fromkeys(objective))
        return self.metrics or objective

    @property
    def ranking(self) -> str | None:
        """The mode asked for: ``mode``, or composite when only weights are given."""
        return "composite" if self.mode is None and self.weights is not None else self.mode

    def named_metrics(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every metric this section names, with its key path (for the summarizer's check)."""
        out: list[tuple[tuple[str | int, ...], str]] = []
        out += [(("weights", n), n) for n in self.weights or {}]
        out += [(("metrics", i), n) for i, n in enumerate(self.metrics or ())]
        out += [(("modes", n), n) for n in self.modes or {}]
        return out
