"""The record a pruning decision leaves in its trial, and the way to read it back."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.trial import FrozenTrial

STOP_ATTR = "sweeper:stop"
TRAIN_ATTR = "sweeper:train"  # prefix: one system attribute "sweeper:train:<step>" per report


def train_key(step: int) -> str:
    """The system attribute holding the training metric reported at ``step``."""
    return f"{TRAIN_ATTR}:{int(step)}"


def report_training(trial: optuna.Trial, value: float, step: int) -> None:
    """Report the training metric at ``step``, beside ``trial.report(held_out, step)``.

    Call it before ``trial.should_prune()`` for that step. A :class:`ConvergencePruner`
    built with ``train_metric`` then judges overfitting as Prechelt does: the held-out
    metric rising while training still improves (without it, only the rise is seen).
    Non-finite values are not stored (the held-out series judges divergence).
    """
    store_training(trial.storage, trial._trial_id, step, value)


def store_training(
    storage: optuna.storages.BaseStorage, trial_id: int, step: int, value: float
) -> None:
    """:func:`report_training` for a caller holding the storage and the trial's id."""
    if math.isfinite(value):
        # Optuna's own pruners write their state with this storage call.
        storage.set_trial_system_attr(trial_id, train_key(step), float(value))


def plain(data: Any) -> Any:
    """JSON-ready copy: NaN and inf become None (strict JSON has neither)."""
    if isinstance(data, Mapping):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [plain(v) for v in data]
    if isinstance(data, float):
        return float(data) if math.isfinite(data) else None
    return data


def stop_verdict(trial: optuna.Trial | FrozenTrial) -> dict[str, Any] | None:
    """Why :class:`ConvergencePruner` pruned ``trial``, or None if it did not.

    The record holds ``rule`` ("diverged", "overfitting", "converged" or
    "cannot_catch_up"), ``message``, ``step``, ``best_step`` and ``best_value`` (the
    smoothed best, in the study's direction: what a converged objective returns), and the
    detector's ``verdict``; a "cannot_catch_up" record adds the numbers in ``catch_up``.
    """
    if isinstance(trial, FrozenTrial):
        attrs = trial.system_attrs
    elif isinstance(trial, optuna.Trial):
        # optuna 5 removed Trial.system_attrs; Trial.storage is public, and _trial_id is the
        # handle Optuna's own pruners use for the same storage call.
        attrs = trial.storage.get_trial_system_attrs(trial._trial_id)
    else:
        raise TypeError(f"stop_verdict reads an optuna Trial or FrozenTrial, got {trial!r}")
    record = attrs.get(STOP_ATTR)
    return None if record is None else copy.deepcopy(dict(record))
