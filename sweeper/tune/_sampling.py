"""Sampling a search space through an Optuna trial, and the seeded samplers of a sweep."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

from sweeper.space import CategoricalParam, FixedParam, FloatParam, IntParam, Space
from sweeper.space._fields import choice_label


def sample(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    """Suggest every active parameter of ``space`` through ``trial`` (parents first)."""
    chosen: dict[str, Any] = {}
    for name in space.order:
        if not space.is_active(name, chosen):
            continue
        spec = space.params[name]
        if isinstance(spec, FixedParam):
            chosen[name] = spec.value
        elif isinstance(spec, FloatParam):
            chosen[name] = trial.suggest_float(
                name, spec.low, spec.high, log=spec.log, step=spec.step
            )
        elif isinstance(spec, IntParam):
            chosen[name] = trial.suggest_int(
                name, spec.low, spec.high, step=spec.step, log=spec.log
            )
        elif isinstance(spec, CategoricalParam):
            labels = [choice_label(c) for c in spec.choices]
            picked = trial.suggest_categorical(name, labels)
            chosen[name] = spec.choices[labels.index(picked)]
        else:  # pragma: no cover - Space only holds the four kinds
            raise TypeError(f"unknown parameter spec {spec!r}")
    return chosen


def grid_params(space: Space, point: Mapping[str, Any]) -> dict[str, Any]:
    """A grid point as Optuna params (what ``sample`` would have suggested)."""
    out = {}
    for name, value in point.items():
        spec = space.params[name]
        if isinstance(spec, FixedParam):
            continue
        out[name] = choice_label(value) if isinstance(spec, CategoricalParam) else value
    return out


def build_sampler(kind: str, seed: int | None) -> optuna.samplers.BaseSampler:
    """The sampler of ``sampler.kind``. Seeded, its random state is derived from the seed and
    each trial's number, so a resumed study draws what an uninterrupted one would (and what
    `sweeper check` shows); reseeding with seed + trials done drew others after a resume."""
    if kind == "random" or kind == "grid":  # grid points are enqueued; random fills no gaps
        return _PerTrialRandom(seed=seed) if seed is not None else optuna.samplers.RandomSampler()
    return _PerTrialTPE(seed=seed) if seed is not None else optuna.samplers.TPESampler()


def _trial_rng(seed: int, number: int, stream: int = 0):
    import numpy as np
    from optuna.samplers._lazy_random_state import LazyRandomState

    state = np.random.SeedSequence([seed, number, stream]).generate_state(1)[0]
    return LazyRandomState(int(state))


class _PerTrialSeed:
    """A seeded sampler whose random state comes from (seed, trial number) at each trial."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed=seed)  # type: ignore[call-arg]
        self._base_seed = seed

    def before_trial(self, study, trial) -> None:
        super().before_trial(study, trial)  # type: ignore[misc]
        self._rng = _trial_rng(self._base_seed, trial.number)


class _PerTrialRandom(_PerTrialSeed, optuna.samplers.RandomSampler):
    pass


class _PerTrialTPE(_PerTrialSeed, optuna.samplers.TPESampler):
    def before_trial(self, study, trial) -> None:
        super().before_trial(study, trial)
        # TPE's start-up trials draw from its inner random sampler: seeded the same way.
        self._random_sampler._rng = _trial_rng(self._base_seed, trial.number, 1)
