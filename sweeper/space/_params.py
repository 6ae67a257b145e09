"""Parameter specs: float and int ranges, categorical choices, fixed values; each may be
conditional on other parameters (``when``). Pure Python: no optuna, no ray.

Every spec validates itself at construction and raises :class:`FieldError` with its key
relative to itself (``("low",)``); :class:`~sweeper.space.Space` adds the parameter name.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from sweeper.space._fields import (
    FieldError,
    as_bool,
    as_float,
    as_int,
    as_mapping,
    canon,
    check_known,
    choice_label,
    freeze,
    thaw,
)

# Relative tolerance for "the step divides the range" with floats (0.1 * 3 != 0.3 exactly).
_STEP_TOL = 1e-9


@dataclass(frozen=True)
class Condition:
    """The parameter applies only when ``param`` took ``value`` (or one of a tuple of values)."""

    param: str  # dotted name of the parameter this one depends on
    value: Any  # the value, or a tuple of accepted values (resolved by Space)


def _check_range(low: float, high: float, log: bool) -> None:
    if not low < high:
        raise FieldError(("low",), f"must be < high={high!r}", low, "swap them or widen the range")
    if log and low <= 0:
        raise FieldError(("low",), "must be > 0 with log: true", low, "use a positive low")


@dataclass(frozen=True)
class FloatParam:
    """A real number in [low, high], uniform or log-uniform, optionally on a step grid."""

    low: float  # smallest value (inclusive)
    high: float  # largest value (inclusive)
    log: bool = False  # sample log-uniformly (for learning rates, weights over decades)
    step: float | None = None  # grid spacing; needed by the grid sampler
    when: tuple[Condition, ...] = ()  # conditions that must all hold for it to apply

    def __post_init__(self) -> None:
        object.__setattr__(self, "low", as_float(("low",), self.low))
        object.__setattr__(self, "high", as_float(("high",), self.high))
        as_bool(("log",), self.log)
        _check_range(self.low, self.high, self.log)
        if self.step is not None:
            step = as_float(("step",), self.step)
            object.__setattr__(self, "step", step)
            if self.log:
                raise FieldError(("step",), "cannot be used with log: true", step, "drop one")
            span = self.high - self.low
            n = round(span / step) if step > 0 else 0
            if step <= 0 or n < 1 or abs(n * step - span) > _STEP_TOL * max(1.0, abs(span)):
                raise FieldError(
                    ("step",),
                    f"must be > 0 and divide high - low = {span!r}",
                    step,
                    "pick a step that fits a whole number of times",
                )

    def values(self) -> tuple[float, ...] | None:
        """The grid points, or None when continuous."""
        if self.step is None:
            return None
        n = round((self.high - self.low) / self.step)
        # 0.1 + 2 * 0.1 is 0.30000000000000004: 12 significant digits give 0.3 back
        return (*(float(f"{self.low + i * self.step:.12g}") for i in range(n)), self.high)

    def can_take(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not self.low <= value <= self.high:
            return False
        grid = self.values()
        return grid is None or any(math.isclose(value, g, rel_tol=1e-9) for g in grid)


@dataclass(frozen=True)
class IntParam:
    """An integer in [low, high] (inclusive), uniform or log-uniform, on a step grid."""

    low: int  # smallest value (inclusive)
    high: int  # largest value (inclusive; Ray's randint excludes it, Optuna includes it)
    log: bool = False  # sample log-uniformly (needs step 1)
    step: int = 1  # spacing from low; must divide high - low
    when: tuple[Condition, ...] = ()  # conditions that must all hold for it to apply

    def __post_init__(self) -> None:
        for name in ("low", "high", "step"):
            value = getattr(self, name)
            if isinstance(value, float) and not isinstance(value, bool):
                raise FieldError(
                    (name,),
                    "must be an integer for type int",
                    value,
                    "use whole bounds, or type: float",
                )
            as_int((name,), value)
        as_bool(("log",), self.log)
        _check_range(self.low, self.high, self.log)
        if self.step < 1 or (self.high - self.low) % self.step:
            raise FieldError(
                ("step",),
                f"must be >= 1 and divide high - low = {self.high - self.low}",
                self.step,
                "pick a step that fits a whole number of times",
            )
        if self.log and self.step != 1:
            raise FieldError(("step",), "must be 1 with log: true", self.step, "drop one")

    def values(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1, self.step))

    def can_take(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return float(value).is_integer() and int(value) in self.values()


@dataclass(frozen=True)
class CategoricalParam:
    """One of a list of choices; YAML lists as choices (``train.betas``) become tuples."""

    choices: tuple[Any, ...]  # the options, in order; scalars or (nested) tuples
    when: tuple[Condition, ...] = ()  # conditions that must all hold for it to apply

    def __post_init__(self) -> None:
        if not isinstance(self.choices, list | tuple) or not self.choices:
            raise FieldError(("choices",), "must be a non-empty list", self.choices, "list 1+")
        frozen = tuple(freeze(c, ("choices", i)) for i, c in enumerate(self.choices))
        seen: set[Any] = set()
        for i, choice in enumerate(frozen):
            if canon(choice) in seen:
                raise FieldError(("choices", i), "is listed twice", choice, "remove the repeat")
            seen.add(canon(choice))
        object.__setattr__(self, "choices", frozen)

    def check_labels(self) -> None:
        """Refuse choices the sampler cannot tell apart: Optuna finds a choice by ``==``, so
        with ``[1, true]`` it could only ever suggest 1. Checked when a sweep starts (a sweep
        started before this check still opens)."""
        labels: list[Any] = []
        for i, choice in enumerate(self.choices):
            label = choice_label(choice)
            same = [c for c, other in zip(self.choices, labels, strict=False) if other == label]
            if same:
                listed = isinstance(same[0], tuple) or isinstance(choice, tuple)
                why = "it keeps a list as its JSON text" if listed else "1 is true, 0 is false"
                raise FieldError(
                    ("choices", i),
                    f"is the same choice as {json.dumps(thaw(same[0]))} to the sampler ({why})",
                    choice,
                    "keep one" if listed else "keep one, or quote both as strings",
                )
            labels.append(label)

    def values(self) -> tuple[Any, ...]:
        return self.choices

    def can_take(self, value: Any) -> bool:
        return canon(freeze(value)) in {canon(c) for c in self.choices}


@dataclass(frozen=True)
class FixedParam:
    """A constant set in every trial (where its conditions hold)."""

    value: Any  # the value; a YAML list becomes a tuple
    when: tuple[Condition, ...] = ()  # conditions that must all hold for it to apply

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", freeze(self.value, ("value",)))

    def values(self) -> tuple[Any, ...]:
        return (self.value,)

    def can_take(self, value: Any) -> bool:
        return canon(freeze(value)) == canon(self.value)


Param = FloatParam | IntParam | CategoricalParam | FixedParam

_KINDS: dict[str, tuple[type, tuple[str, ...]]] = {
    "float": (FloatParam, ("low", "high", "log", "step")),
    "int": (IntParam, ("low", "high", "log", "step")),
    "categorical": (CategoricalParam, ("choices",)),
    "fixed": (FixedParam, ("value",)),
}


def param_from_dict(raw: Any) -> Param:
    """``{type: float, low: 1e-4, high: 1e-2, log: true, when: {...}}`` -> a spec.

    Keys are checked strictly; errors carry the key relative to the parameter.
    """
    raw = as_mapping((), raw)
    kind = raw.get("type")
    if kind not in _KINDS:
        raise FieldError(("type",), "must name the kind", kind, f"use type: {'|'.join(_KINDS)}")
    cls, keys = _KINDS[kind]
    check_known((), raw, ("type", *keys, "when"))
    required = {"float": ("low", "high"), "int": ("low", "high")}.get(kind, keys)
    for name in required:
        if name not in raw:
            raise FieldError((name,), f"is required for type {kind}", None, f"add {name}: ...")
    when: list[Condition] = []
    if "when" in raw:
        conds = as_mapping(("when",), raw["when"])
        if not conds:
            raise FieldError(("when",), "is empty", {}, "name a parameter and its value(s)")
        for ref, value in conds.items():
            if isinstance(value, list | tuple) and not value:  # it could never hold
                raise FieldError(
                    ("when", ref), "names no value", [], f"list the values of {ref} it needs"
                )
            when.append(Condition(str(ref), freeze(value, ("when", ref))))
    args = {k: v for k, v in raw.items() if k not in ("type", "when")}
    return cls(**args, when=tuple(when))
