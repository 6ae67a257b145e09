"""What a new sweep of a space file would do, without starting Ray (``sweeper check``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sweeper.config import SweepConfig
from sweeper.space import CategoricalParam, FixedParam, FloatParam, IntParam, Param
from sweeper.space._fields import thaw
from sweeper.space._space import _as_yaml
from sweeper.tune._study import JOURNAL, SweepStudy

TPE_STARTUP = 10  # Optuna's TPESampler draws its first n_startup_trials at random


def first_draws(cfg: SweepConfig, n: int) -> list[dict[str, Any]]:
    """The parameters of the first ``n`` trials a new sweep of ``cfg`` asks for.

    It is the sweep's own study set-up (sampler, seed, grid order) on a throwaway journal, so
    with a seed these are the draws the sweep makes: all of them for random and grid, the
    first 10 for TPE (after those, TPE's draws follow the results). Without a seed, each
    call draws anew.
    """
    with tempfile.TemporaryDirectory(prefix="sweeper-check-") as folder:
        study = SweepStudy.for_sweep(cfg, folder, name=cfg.name)
        study.storage = str(Path(folder) / JOURNAL)  # never the space's shared storage
        return [study.ask(f"check_{i}") for i in range(min(n, cfg.budget.num_trials))]


def describe(cfg: SweepConfig) -> list[str]:
    """The sweep a space file asks for, one fact per line."""
    data = f"dir {cfg.data.dir}" if cfg.data.dir is not None else "toy set"
    if cfg.data.toy is not None:
        toy = cfg.data.toy
        data += f" ({toy.speakers} speakers x {toy.clips} clips of {toy.seconds:g} s"
        data += f", seed {toy.seed})"
    base = f"preset {cfg.base.preset}" if cfg.base.preset is not None else cfg.base.config
    objective = zip(cfg.objective.metrics, cfg.objective.modes, strict=True)
    goals = ", ".join(f"{metric} ({mode})" for metric, mode in objective)
    budget = cfg.budget
    seed = "no seed: new draws each run"
    if cfg.sampler.seed is not None:
        seed = f"seed {cfg.sampler.seed}"
    lines = [
        f"trainer: {cfg.trainer}, from {base}; data: {data}",
        f"objective: {goals}",
        f"budget: {budget.num_trials} trials x {budget.max_steps:,} steps = "
        f"{budget.num_trials * budget.max_steps:,} steps at most; {budget.concurrency} at once",
        f"each trial reserves {cfg.resources.cpu:g} CPU and {cfg.resources.gpu:g} GPU "
        "(checked against the cluster when the sweep starts)",
        f"sampler: {cfg.sampler.kind}, {seed}",
        _pruner_line(cfg),
        f"study storage: {cfg.storage or 'a journal in the sweep folder'}",
    ]
    searched = cfg.parameters.searched
    fixed = [n for n, p in cfg.parameters.params.items() if isinstance(p, FixedParam)]
    lines.append(f"searched ({len(searched)}):")
    lines += [f"  {name}: {_range(cfg.parameters.params[name])}" for name in searched]
    if fixed:
        values = ", ".join(
            f"{n}={_as_yaml(thaw(cfg.parameters.params[n].value))}" for n in fixed
        )
        lines.append(f"fixed ({len(fixed)}): {values}")
    return lines


def _pruner_line(cfg: SweepConfig) -> str:
    p = cfg.pruner
    if p is None:
        return "pruner: none (every trial runs its budget unless it reports NaN)"
    return (
        f"pruner: epsilon {p.epsilon:g}, alpha {p.alpha:g}, n_warmup_steps {p.n_warmup_steps}, "
        f"catch_up {str(p.catch_up).lower()}, train_metric {p.train_metric}"
    )


def _range(spec: Param) -> str:
    when = ""
    if spec.when:
        when = " when " + " and ".join(
            f"{c.param} {'in' if isinstance(c.value, tuple) else '='} {_as_yaml(thaw(c.value))}"
            for c in spec.when
        )
    if isinstance(spec, CategoricalParam):
        return "one of " + ", ".join(_as_yaml(thaw(v)) for v in spec.choices) + when
    if isinstance(spec, FloatParam | IntParam):
        scale = " (log)" if spec.log else ""
        step = f" step {spec.step}" if spec.step not in (None, 1) else ""
        return f"{spec.low:g} to {spec.high:g}{scale}{step}{when}"
    return repr(spec) + when
