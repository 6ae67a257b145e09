"""A search space: named parameter specs, their conditions, activity and the full grid."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sweeper.errors import InputError
from sweeper.space._fields import FieldError, as_mapping, canon, closest, thaw
from sweeper.space._params import (
    CategoricalParam,
    Condition,
    FixedParam,
    FloatParam,
    IntParam,
    Param,
    param_from_dict,
)

# Knobs the sweep applies itself, whatever the trainer: they change the data, not the config.
DATASET_KNOBS: dict[str, str] = {
    "dataset.train_clips": (
        "keep only this many training clips (speakers interleaved, filelist order); "
        "the validation clips stay the same"
    ),
}

# section.key (so-vits-svc) or deeper; letters, digits and underscores between the dots.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")

# A grid larger than this is a mistake (a sweep of that many trials is not "a grid").
MAX_GRID = 100_000


def _accepted(cond: Condition, target: Param) -> tuple[Any, ...]:
    """The values a condition accepts: one value, or a list of them.

    A list is one value when it is itself one of the target's choices (``train.betas``).
    """
    if isinstance(cond.value, tuple) and not target.can_take(cond.value):
        return cond.value
    return (cond.value,)


@dataclass(frozen=True)
class Space:
    """Parameters by dotted config key, in file order. Not hashable (holds dicts).

    Example:
        >>> from sweeper.space import IntParam
        >>> s = Space({"train.use_gan": CategoricalParam((True, False)),
        ...            "model.disc_channel_div": IntParam(1, 4, when=(
        ...                Condition("train.use_gan", True),))})
        >>> s.active({"train.use_gan": False})
        ('train.use_gan',)
        >>> len(s.grid())
        5
    """

    params: dict[str, Param]  # dotted config key -> spec, in the order written
    lines: dict[str, str] = field(default_factory=dict, compare=False)  # key -> "file:line"
    order: tuple[str, ...] = field(init=False, compare=False)  # parents before children
    _accept: dict[str, dict[str, tuple[Any, ...]]] = field(
        init=False, repr=False, compare=False
    )  # name -> {parent: accepted values}

    def __post_init__(self) -> None:
        params = dict(self.params)
        object.__setattr__(self, "params", params)
        accept: dict[str, dict[str, tuple[Any, ...]]] = {}
        for name, spec in params.items():
            if not _NAME.fullmatch(name):
                raise FieldError(
                    (name,), "is not a dotted config key", name, "write section.key: train.c_kl"
                )
            accept[name] = {}
            for cond in spec.when:
                accept[name][cond.param] = self._resolve(name, cond, params)
        object.__setattr__(self, "_accept", accept)
        object.__setattr__(self, "order", self._topological(params))

    @staticmethod
    def _resolve(name: str, cond: Condition, params: dict[str, Param]) -> tuple[Any, ...]:
        key = (name, "when", cond.param)
        target = params.get(cond.param)
        if target is None:
            near = closest(cond.param, [p for p in params if p != name])
            hint = f"did you mean {near[0]!r}?" if near else "declare it under parameters first"
            raise FieldError(key, "names no parameter of this space", cond.param, hint)
        if cond.param == name:
            raise FieldError(key, "is the parameter itself", cond.param, "condition on another")
        if isinstance(target, FloatParam) and target.step is None:
            raise FieldError(
                key,
                "is a continuous float, which never equals a given value",
                cond.param,
                "condition on a categorical, int, fixed or stepped float parameter",
            )
        values = _accepted(cond, target)
        for value in values:
            if not target.can_take(value):
                raise FieldError(
                    key,
                    f"asks for a value {cond.param} never takes (it takes {_describe(target)})",
                    thaw(value),
                    "use one of its values",
                )
        return values

    @staticmethod
    def _topological(params: dict[str, Param]) -> tuple[str, ...]:
        order: list[str] = []
        state: dict[str, str] = {}  # "busy" while on the stack, "done" after

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "busy":
                cycle = " -> ".join([*path[path.index(name) :], name])
                raise FieldError(
                    (name, "when"), "conditions form a cycle", cycle, "drop one of the conditions"
                )
            state[name] = "busy"
            for cond in params[name].when:
                visit(cond.param, [*path, name])
            state[name] = "done"
            order.append(name)

        for name in params:
            visit(name, [])
        return tuple(order)

    @property
    def searched(self) -> tuple[str, ...]:
        """The keys that are sampled (not ``fixed``), in the order written: what a table of
        trials shows even where every trial drew the same value."""
        return tuple(k for k, spec in self.params.items() if not isinstance(spec, FixedParam))

    def is_active(self, name: str, assignment: Mapping[str, Any]) -> bool:
        """True when every condition of ``name`` holds in ``assignment`` (missing = unmet)."""
        for parent, values in self._accept[name].items():
            if parent not in assignment or not self.is_active(parent, assignment):
                return False
            if not any(_same(assignment[parent], v) for v in values):
                return False
        return True

    def together(self, assignment: Mapping[str, Any]) -> bool:
        """False when a parameter of ``assignment`` has a condition on another one in it that
        the other's value breaks: those values are never drawn together."""
        for name in assignment:
            for parent, values in self._accept[name].items():
                if parent in assignment and not any(_same(assignment[parent], v) for v in values):
                    return False
        return True

    def active(self, assignment: Mapping[str, Any]) -> tuple[str, ...]:
        """The parameters that apply given the choices made so far, parents first.

        Sample in ``order``, asking ``is_active`` before each: a child's parents are
        always chosen before it.
        """
        return tuple(n for n in self.order if self.is_active(n, assignment))

    def _points(self, name: str) -> tuple[Any, ...]:
        values = self.params[name].values()
        if values is None:
            raise FieldError(
                (name,),
                "is a continuous float: the grid sampler needs a finite set of values",
                {"type": "float", "step": None},
                "give it a step, make it categorical, or use sampler kind tpe or random",
            )
        return values

    def grid(self, max_points: int = MAX_GRID) -> list[dict[str, Any]]:
        """Every combination of values (inactive parameters left out), for the grid sampler."""
        for name in self.order:
            spec = self.params[name]
            if isinstance(spec, IntParam) and (spec.high - spec.low) // spec.step >= max_points:
                # counted, not listed: 0..10**9 as a tuple of values took all memory
                raise FieldError(
                    (name,),
                    f"has more than {max_points} values, too many for the grid sampler",
                    {"low": spec.low, "high": spec.high, "step": spec.step},
                    "give it a larger step, or use sampler kind tpe or random",
                )
            self._points(name)  # a continuous float anywhere makes the grid undefined
        out: list[dict[str, Any]] = []
        for point in self._expand(0, {}):
            out.append(point)
            if len(out) > max_points:
                # a FieldError: the loader puts the file and the parameters: line in front
                raise FieldError(
                    (),
                    f"make a grid of more than {max_points} points, too many for the grid "
                    f"sampler ({len(self.searched)} searched)",
                    list(self.searched),
                    "fewer values per parameter, or sampler kind tpe or random",
                )
        return out

    def _expand(self, i: int, partial: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if i == len(self.order):
            yield dict(partial)
            return
        name = self.order[i]
        if not self.is_active(name, partial):
            yield from self._expand(i + 1, partial)
            return
        for value in self._points(name):
            partial[name] = value
            yield from self._expand(i + 1, partial)
        del partial[name]

    def nested(self, assignment: Mapping[str, Any]) -> dict[str, Any]:
        """``{"train.lr": 1e-3}`` -> ``{"train": {"lr": 1e-3}}`` with tuples as lists."""
        out: dict[str, Any] = {}
        for name, value in assignment.items():
            *sections, last = name.split(".")
            node = out
            for part in sections:
                node = node.setdefault(part, {})
            node[last] = thaw(value)
        return out

    def where(self, name: str) -> str:
        """``file:line`` of a parameter when loaded from a file, else ``parameters``."""
        return self.lines.get(name, "parameters")


def _describe(spec: Param) -> str:
    if isinstance(spec, CategoricalParam | FixedParam):
        return ", ".join(as_yaml(thaw(v)) for v in spec.values())
    return f"{spec.low}..{spec.high} step {spec.step}"


def as_yaml(value: Any) -> str:
    """A value as the sweep file writes it: true, false and null, not Python's names."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, list):
        return "[" + ", ".join(as_yaml(v) for v in value) + "]"
    return repr(value)


def space_from_dict(raw: Any, lines: Mapping[str, str] | None = None) -> Space:
    """Build a space from the ``parameters:`` mapping; errors are keyed ``(name, ...)``."""
    raw = as_mapping((), raw)
    if not raw:
        raise FieldError((), "declares no parameter", {}, "add at least one parameter")
    params: dict[str, Param] = {}
    for name, spec in raw.items():
        try:
            params[str(name)] = param_from_dict(spec)
        except FieldError as err:
            raise err.within(str(name)) from None
    return Space(params, lines=dict(lines or {}))


def check_keys(space: Space, known: set[str] | frozenset[str]) -> None:
    """Raise InputError for a parameter that is not a key of the trainer's config.

    ``known`` holds the dotted keys the trainer accepts (plus :data:`DATASET_KNOBS`).
    """
    for name in space.params:
        if name in known:
            continue
        near = closest(name, known)
        hint = f"did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        section = name.split(".")[0]
        same = sorted(k for k in known if k.startswith(section + "."))[:6]
        tail = f" keys under {section}: {', '.join(same)}, ..." if same and not near else ""
        raise InputError(
            f"{space.where(name)}: parameters[{name}] is not a key of the trainer's config "
            f"(got {name!r}); fix: {hint or 'rename or remove it;'}{tail}".rstrip(";")
        )


def _same(value: Any, accepted: Any) -> bool:
    """A parent's value against a ``when`` value: numbers within float rounding (a stepped
    float's 0.1 + 0.2 is the 0.3 written in the file), anything else exactly."""
    a, b = canon(value), canon(accepted)
    if a[0] == b[0] == "num":
        return math.isclose(a[1], b[1], rel_tol=1e-9, abs_tol=1e-12)
    return a == b
