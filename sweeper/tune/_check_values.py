"""Values of a search space the reference trainer would refuse, found before any trial runs:
the fixed ones together, each searched one alone (its bounds, its choices, the values inside
a range) and every pair of searched ones. Each refusal was a FAIL trial, one by one."""

from __future__ import annotations

import math
from itertools import combinations, product
from typing import Any

from sweeper.config import SweepConfig
from sweeper.errors import InputError

_TRY_ALL = 64  # a range of at most this many values has each tried; a larger one a sample
_PAIR_VALUES = 8  # values per parameter tried in pairs: 8 x 8 per pair, ~10 ms at 165 us each


def _tried(values, limit: int = _TRY_ALL) -> tuple:
    """The values of a range (a sequence) to try: all of a small one; of a large one, evenly
    spread ones and the first few past ``low`` (where a "multiple of k" rule shows first)."""
    if len(values) <= limit:
        return tuple(values)
    picks = {i * (len(values) - 1) // (limit - 1) for i in range(limit)} | set(range(limit // 8))
    return tuple(values[i] for i in sorted(picks))


class _FloatGrid:
    """A stepped float range's values as FloatParam.values() gives them, never all built."""

    def __init__(self, param) -> None:
        self.param, self.n = param, round((param.high - param.low) / param.step)

    def __len__(self) -> int:
        return self.n + 1

    def __getitem__(self, i: int) -> float:
        if not 0 <= i <= self.n:  # iteration (tuple(grid)) runs to an IndexError
            raise IndexError(i)
        p = self.param
        return p.high if i == self.n else float(f"{p.low + i * p.step:.12g}")


class _Trainer:
    """The base config with the space's fixed values applied, and what the trainer says of it
    with some more values set (``refusal``: its reason, or None when accepted)."""

    def __init__(self, cfg: SweepConfig) -> None:
        from sweeper.trainers.reference.config import load_config

        self.space = cfg.parameters
        self.raw: dict[str, Any] = load_config(cfg.base.preset or str(cfg.base.config)).to_dict()
        self.background: dict[str, Any] = {}  # a searched value the fixed ones need (see below)

    def knows(self, name: str) -> bool:
        """A key of the trainer's config (not a dataset knob such as dataset.train_clips)."""
        section = name.partition(".")[0]
        return section in self.raw and isinstance(self.raw[section], dict)

    def refusal(self, values: dict[str, Any]) -> str | None:
        from sweeper.space._fields import thaw
        from sweeper.trainers.reference.config import from_dict

        trial = {**self.raw}
        for name, value in self._implied({**self.background, **values}).items():
            section, _, key = name.partition(".")
            trial[section] = {**trial[section], key: thaw(value)}
        try:
            from_dict(trial, source="trial config")
        except InputError as err:
            return str(err).removeprefix("trial config: ")
        return None

    def _implied(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` and every fixed value that applies with them: the unconditional ones and
        those whose ``when`` they meet (hop_length 256 comes with its upsample_rates)."""
        from sweeper.space import FixedParam

        out, grew = dict(values), True
        while grew:
            grew = False
            for name, spec in self.space.params.items():
                if name in out or not isinstance(spec, FixedParam) or not self.knows(name):
                    continue
                if all(c.param in out for c in spec.when) and self.space.together(
                    {name: spec.value, **{c.param: out[c.param] for c in spec.when}}
                ):
                    out[name], grew = spec.value, True
        return out


def _kept_step(param, accepted) -> int | None:
    """The step of a "multiple of k" rule: the distance from ``low`` to the next accepted
    integer, when every value on that grid is accepted (checked as :func:`_tried` does)."""
    limit = min(param.high, param.low + 4096)  # a k beyond this is no "multiple of" rule
    step = next((s for s in range(1, limit - param.low + 1) if accepted(param.low + s)), None)
    if step is None or (param.high - param.low) % step:
        return None
    grid = range(param.low, param.high + 1, step)
    return step if all(accepted(v) for v in _tried(grid)) else None


def _values(param, limit: int) -> tuple:
    """The values of one parameter to try: every choice, the bounds of a continuous range,
    each value of a small stepped range and a spread of a large one."""
    from sweeper.space import CategoricalParam, FixedParam, FloatParam, IntParam

    if isinstance(param, FixedParam):
        return (param.value,)
    if isinstance(param, CategoricalParam):
        return _tried(param.choices, limit)
    if isinstance(param, IntParam):
        return _tried(range(param.low, param.high + 1, param.step), limit)  # not 10**9 values
    if isinstance(param, FloatParam) and param.step is not None:
        return _tried(_FloatGrid(param), limit)
    return (param.low, param.high)


def _span(param) -> str:
    span = f"{param.low:g}..{param.high:g}"
    return span + (f" step {param.step:g}" if param.step not in (None, 1) else "")


def check_trainer_values(cfg: SweepConfig) -> None:
    """Raise InputError, at the YAML line, on the first value or pair of values of the space
    that the reference trainer refuses (the trainer's reason and fix in the message)."""
    from sweeper.space import FixedParam, IntParam
    from sweeper.space._fields import thaw

    trainer, space = _Trainer(cfg), cfg.parameters
    names = [n for n in space.params if trainer.knows(n)]
    fixed = [n for n in names if isinstance(space.params[n], FixedParam)]
    fixed = [n for n in fixed if not space.params[n].when]
    searched = [n for n in names if n not in fixed]
    why = trainer.refusal({})
    if why is not None:
        # The fixed values on the base config: a searched key's base value may be what they
        # contradict (hop_length 256 fixed, the preset's segment_size 3200, segment_size
        # searched on multiples of 256); then one of its own values stands in for it.
        trainer.background = next(
            (
                {n: v}
                for n in searched
                for v in _values(space.params[n], _PAIR_VALUES)
                if trainer.refusal({n: v}) is None
            ),
            {},
        )
    if trainer.background == {} and why is not None:  # the fixed values together
        got = why.partition(" got ")[2]  # the trainer's messages name the culprit after "got"
        name = next((n for n in fixed if f"{n.partition('.')[2]}=" in got), None)
        name = name or next((n for n in fixed if n in why), fixed[0])
        value = thaw(space.params[name].value)
        raise InputError(f"{space.where(name)}: parameters[{name}] value {value!r}: {why}")
    for name in searched:
        param = space.params[name]
        bounds = (param.low, param.high) if hasattr(param, "low") else _values(param, _TRY_ALL)
        for value in bounds:  # the trainer's own reason and fix
            why = trainer.refusal({name: value})
            if why is not None:
                if "fix:" not in why:
                    why += f"; fix: keep {name}'s values where the trainer accepts them"
                raise InputError(f"{space.where(name)}: parameters[{name}] value {value!r}: {why}")
        tried = _values(param, _TRY_ALL)
        bad = next((v for v in tried if trainer.refusal({name: v}) is not None), None)
        if bad is None:
            continue

        def accepted(value, name=name) -> bool:
            return trainer.refusal({name: value}) is None

        # hidden_channels 30..32 with n_heads 2 drew 31, and every such draw was a FAIL trial
        fix = f"keep {name}'s range to values the trainer accepts"
        step = _kept_step(param, accepted) if isinstance(param, IntParam) else None
        if step is not None and getattr(param, "log", False):
            # A step needs log: false (a probe, 2026-12-07: this fix led to that error).
            kept = [v for v in _values(param, _TRY_ALL) if accepted(v)]
            ratio = param.high / param.low  # four values spread as log: true spreads them
            wanted = [param.low * ratio ** (k / 3) for k in range(4)]
            shown = sorted({min(kept, key=lambda v, w=w: abs(math.log(v / w))) for w in wanted})
            fix = (
                f"type: categorical with the values to try (e.g. choices: {shown}), or "
                f"log: false with step: {step}"
            )
        elif step is not None:
            fix = f"step: {step} (it keeps to the values the trainer accepts)"
        why = trainer.refusal({name: bad}).split("; fix:")[0]
        raise InputError(
            f"{space.where(name)}: parameters[{name}] range {_span(param)} holds values the "
            f"trainer refuses (got {bad!r}: {why}); fix: {fix}"
        )
    for a, b in combinations(searched, 2):
        values = (_values(space.params[n], _PAIR_VALUES) for n in (a, b))
        for va, vb in product(*values):
            if not space.together({a: va, b: vb}):
                continue  # never drawn together: one applies only when the other differs
            why = trainer.refusal({a: va, b: vb})
            if why is not None:
                raise InputError(
                    f"{space.where(b)}: parameters[{b}] value {vb!r} with {a} {va!r} "
                    f"({space.where(a)}): {why.split('; fix:')[0]}; fix: values of {a} and "
                    f"{b} that the trainer accepts in every combination (each can be drawn), "
                    "or a `when:` that keeps them apart"
                )
