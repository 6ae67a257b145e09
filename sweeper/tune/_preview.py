"""What a new sweep of a space file would do, without starting Ray (``sweeper check``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sweeper.config import SweepConfig
from sweeper.space import CategoricalParam, FixedParam, FloatParam, IntParam, Param
from sweeper.space._fields import thaw
from sweeper.space._space import as_yaml
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
    space = cfg.parameters
    searched = space.searched
    fixed = [n for n, p in space.params.items() if isinstance(p, FixedParam)]
    lines.append(f"searched ({len(searched)}):")
    lines += [f"  {name}: {_range(space, name)}" for name in searched]
    if fixed:
        # a conditional one is set only where its when: holds, so it says so
        values = ", ".join(
            f"{n}={as_yaml(thaw(space.params[n].value))}{_when(space, n, ' (', ')')}"
            for n in fixed
        )
        lines.append(f"fixed ({len(fixed)}): {values}")
    if cfg.sampler.kind == "grid":
        size = len(space.grid())
        if cfg.budget.num_trials < size:
            lines.append(
                f"note: the grid has {size} points and num_trials {cfg.budget.num_trials}: "
                f"{size - cfg.budget.num_trials} of them will not run; fix: num_trials: {size} "
                "to run them all"
            )
    return lines


def _pruner_line(cfg: SweepConfig) -> str:
    p = cfg.pruner
    if p is None:
        return "pruner: none (a trial runs its budget unless it diverges: NaN or a loss explodes)"
    # the sweep turns catch_up off for several objectives (trailing on one is not losing)
    catch_up = "off (several objectives)" if cfg.objective.multi else str(p.catch_up).lower()
    return (
        f"pruner: epsilon {p.epsilon:g}, alpha {p.alpha:g}, n_warmup_steps {p.n_warmup_steps}, "
        f"catch_up {catch_up}, train_metric {p.train_metric or 'null'}"
    )


def _when(space, name: str, before: str = " ", after: str = "") -> str:
    """``when a = 1 and b in [2, 4]`` with the values each condition accepts (a list that is
    one value, such as betas, is ``= [0.8, 0.99]``, not ``in`` it); "" when unconditional."""
    parts = []
    for parent, values in space._accept[name].items():
        if len(values) == 1:
            parts.append(f"{parent} = {as_yaml(thaw(values[0]))}")
        else:
            parts.append(f"{parent} in {as_yaml([thaw(v) for v in values])}")
    return f"{before}when {' and '.join(parts)}{after}" if parts else ""


def _range(space, name: str) -> str:
    spec: Param = space.params[name]
    when = _when(space, name)
    if isinstance(spec, CategoricalParam):
        alone = " (one choice: acts as fixed)" if len(spec.choices) == 1 else ""
        return "one of " + ", ".join(as_yaml(thaw(v)) for v in spec.choices) + alone + when
    if isinstance(spec, FloatParam | IntParam):
        scale = " (log)" if spec.log else ""
        step = f" step {spec.step}" if spec.step not in (None, 1) else ""
        return f"{spec.low:g} to {spec.high:g}{scale}{step}{when}"
    return repr(spec) + when
