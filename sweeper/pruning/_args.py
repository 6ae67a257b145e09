"""ConvergencePruner's arguments, checked once at construction.

Numbers from a config or a grid arrive as numpy scalars: they are fine. A string, a bool or
None where a number belongs is named with its argument, not left to a bare TypeError from
a comparison deep inside.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np


def _number(name: str, value: object, kind: type = numbers.Real) -> float | int:
    # A whole float (300.0: YAML's 3e2, a float grid) is a fine int.
    whole = isinstance(value, numbers.Real) and math.isfinite(value) and value == int(value)
    if kind is numbers.Integral and not isinstance(value, bool) and whole:
        return int(value)  # type: ignore[arg-type]
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an int" if kind is numbers.Integral else "a number"
        raise ValueError(
            f"{name} must be {what}, got {name}={value!r} ({type(value).__name__}); "
            f"fix: pass {what}"
        )
    return int(value) if kind is numbers.Integral else float(value)  # type: ignore[arg-type]


def _name(name: str, value: object, example: str, alternative: str = "") -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"{name} must be a non-empty name such as {example!r}{alternative}, "
            f"got {name}={value!r}; fix: pass a string"
        )
    return value


@dataclass(frozen=True)
class PrunerArgs:
    """The checked arguments (see ConvergencePruner for what each means)."""

    budget: int | None
    epsilon: float
    alpha: float
    n_warmup_steps: int
    catch_up: bool
    metric: str
    top_share: float
    train_metric: str | None

    @classmethod
    def check(
        cls,
        budget: object,
        epsilon: object,
        alpha: object,
        n_warmup_steps: object,
        catch_up: object,
        metric: object,
        top_share: object,
        train_metric: object,
    ) -> PrunerArgs:
        steps = None if budget is None else int(_number("budget", budget, numbers.Integral))
        if steps is not None and steps <= 0:
            raise ValueError(
                f"budget is the last step a trial reports, an int > 0; got {budget=}; fix: "
                "pass the last step given to trial.report, or None"
            )
        eps, a = _number("epsilon", epsilon), _number("alpha", alpha)
        if not 0 < eps < 1:
            raise ValueError(
                f"epsilon is a relative improvement in (0, 1), got {epsilon=}; fix: pass a "
                "fraction such as 0.015 (1.5 %)"
            )
        if not 0 < a < 0.5:
            raise ValueError(
                f"alpha is a false-stop probability in (0, 0.5), got {alpha=}; fix: pass a "
                "small probability such as 0.05"
            )
        warmup = int(_number("n_warmup_steps", n_warmup_steps, numbers.Integral))
        if warmup < 0:
            raise ValueError(
                f"n_warmup_steps must be an int >= 0, got {n_warmup_steps=}; fix: pass 0 "
                "(no warm-up) or the first step at which a trial may be stopped"
            )
        if isinstance(catch_up, np.bool_):  # numpy's bool, from a config array
            catch_up = bool(catch_up)
        if not isinstance(catch_up, bool):
            raise ValueError(f"catch_up must be True or False, got {catch_up=}; fix: pass a bool")
        share = _number("top_share", top_share)
        if not 0 < share < 1:
            raise ValueError(
                f"top_share is a share of the trials in (0, 1), got {top_share=}; fix: pass a "
                "fraction such as 0.10 (the top 10 %)"
            )
        return cls(
            budget=steps,
            epsilon=eps,
            alpha=a,
            n_warmup_steps=warmup,
            catch_up=catch_up,
            metric=_name("metric", metric, "val/mel"),
            top_share=share,
            train_metric=None
            if train_metric is None
            else _name("train_metric", train_metric, "train/mel", " or None"),
        )
