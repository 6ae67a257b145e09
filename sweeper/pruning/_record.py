"""The record a pruning decision leaves in its trial, and the way to read it back."""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import optuna
from optuna.trial import FrozenTrial

from sweeper.detect import Reason, Verdict
from sweeper.pruning._standing import Standing
from sweeper.pruning._track import _Level

STOP_ATTR = "sweeper:stop"
TRAIN_ATTR = "sweeper:train"  # prefix: one system attribute "sweeper:train:<step>" per report
RULES = {
    Reason.DIVERGED: "diverged",
    Reason.OVERFITTING: "overfitting",
    Reason.CONVERGED: "converged",
}


def train_key(step: int) -> str:
    """The system attribute holding the training metric reported at ``step``."""
    return f"{TRAIN_ATTR}:{int(step)}"


def report_training(trial: optuna.Trial, value: float, step: int) -> None:
    """Report the training metric at ``step``, beside ``trial.report(held_out, step)``.

    Call it before ``trial.should_prune()`` for that step. A :class:`ConvergencePruner`
    built with ``train_metric`` then judges overfitting as Prechelt does: the held-out
    metric rising while training still improves (without it, only the rise is seen).
    Non-finite values are not stored (the held-out series judges divergence). On a trial
    without storage (``optuna.trial.FixedTrial``, for a dry run) it does nothing, as
    ``FixedTrial.report`` does.
    """
    number = None
    if not isinstance(value, bool):
        try:  # what trial.report takes: anything float() reads (a 0-d tensor, numpy numbers)
            number = float(value)
        except (TypeError, ValueError):
            number = None
    if number is None:
        raise TypeError(
            f"report_training value must be a real number, got value={value!r}; fix: pass "
            "a float (e.g. loss.item())"
        )
    whole = isinstance(step, numbers.Real) and math.isfinite(step) and step == int(step)
    if isinstance(step, bool) or not whole:
        raise TypeError(
            f"report_training step must be a whole number, got step={step!r}; fix: pass the "
            "step given to trial.report"
        )
    storage = getattr(trial, "storage", None)
    if storage is None:
        return  # a FixedTrial: nothing stores, nothing prunes
    store_training(storage, trial._trial_id, int(step), number)


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
    smoothed best, in the study's direction: what a converged objective returns), the
    detector's ``verdict`` and the ``trial`` number; a "cannot_catch_up" record adds the
    numbers in ``catch_up``. A record copied from another trial (a retry made by Optuna's
    ``RetryHeartbeatStaleTrialCallback``) is not this trial's: None.
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
    # A record of another trial number was copied here (a retry of a failed trial).
    if record is None or record.get("trial", trial.number) != trial.number:
        return None
    return copy.deepcopy(dict(record))


def framed(message: str, sign: float) -> str:
    """A detector message in the study's direction: the detector judged a maximised metric
    negated, so worse is lower there."""
    return message.replace(" above its best", " below its best") if sign < 0 else message


def decision_record(
    rule: str, message: str, verdict: Verdict, level: _Level, sign: float
) -> dict[str, Any]:
    """What a stop leaves in its trial: rule, message, steps, best value, the verdict."""
    best = level.best.value
    return plain(
        {
            "rule": rule,
            "message": framed(message, sign),
            "step": verdict.step,
            "best_step": level.best.step,
            "best_value": None if best is None else sign * best,
            "direction": "maximize" if sign < 0 else "minimize",
            "verdict": verdict.to_dict(),  # in the detector's frame (negated if maximize)
        }
    )


def standing_record(where: Standing, sign: float, top_share: float) -> dict[str, Any]:
    """Why a trial could not lead or catch up, in the study's direction."""
    return plain(
        {
            "optimistic_final": sign * where.optimistic,
            "improvement_left_upper": where.upper,
            "bar": None if where.bar is None else sign * where.bar,
            "bar_trial": where.leader,
            "margin": where.margin,
            "beaten_by": where.beaten_by,
            "others": where.others,
            "top_share": top_share,
            "p_value": where.p_value,
        }
    )


def share_text(where: Standing, fraction: float, value: float) -> str:
    """A fraction in words: a percentage of a positive loss, else the amount it stands for."""
    if where.scale is None:
        return f"{100 * fraction:.1f} %"
    return f"{where.amount(fraction, value):.4g}"


def converged_record(
    verdict: Verdict, level: _Level, sign: float, where: Standing, top_share: float
) -> dict[str, Any]:
    """A converged (or plateau-named overfitting) stop of a trial that cannot lead."""
    message = (
        f"{verdict.message}; trial {where.leader} at a smoothed best of {sign * where.bar:.4g} "  # type: ignore[operator]
        f"is ahead of "
        f"even its optimistic final {sign * where.optimistic:.4g} by more than "
        f"{share_text(where, where.margin, where.bar)}, so it cannot lead"  # type: ignore[arg-type]
    )
    record = decision_record(RULES[verdict.reason], message, verdict, level, sign)
    record["standing"] = standing_record(where, sign, top_share)
    return record


def level_low(level: _Level) -> float:
    """The trial's lowest single finite report (minimisation frame), beside the smoothed best
    the rules use: a message naming only the smoothed one read as contradicting the table
    (a probe: "at best 30.44 ... (to 29.4)" where the trial had reported 28.44)."""
    return level.low if math.isfinite(level.low) else float("nan")


class CatchUpSetting(NamedTuple):
    """The pruner settings a catch-up message names."""

    metric: str  # the judged metric's name
    budget: int | None  # the horizon, or None: as many steps again
    top_share: float  # the share of the trials kept intact


def catch_up_record(
    verdict: Verdict, level: _Level, sign: float, where: Standing, setting: CatchUpSetting
) -> dict[str, Any]:
    """A trial that cannot reach the top share even by its optimistic bound."""
    best = level.best.value
    budget = setting.budget
    horizon = f"step {budget}" if budget is not None else "as many steps again"
    expected = setting.top_share * where.others
    message = (
        f"cannot catch up: {setting.metric} at a smoothed best of {sign * best:.4g} (median "  # type: ignore[operator]
        f"of 3 neighbouring reports; its {'highest' if sign < 0 else 'lowest'} single one "
        f"{sign * level_low(level):.4g}) "
        f"could gain at most "
        f"{share_text(where, where.upper, best)} by {horizon} (to "  # type: ignore[arg-type]
        f"{sign * where.optimistic:.4g}), and {where.beaten_by} of {where.others} other "
        f"trials are already better than that by more than "
        f"{share_text(where, where.margin, where.bar)} (best: trial {where.leader}'s smoothed "  # type: ignore[arg-type]
        f"{sign * where.bar:.4g}); a trial in the top {100 * setting.top_share:.0f} % "  # type: ignore[operator]
        f"would see about {expected:.1f} (p = {where.p_value:.2g})"
    )
    record = decision_record("cannot_catch_up", message, verdict, level, sign)
    record["catch_up"] = standing_record(where, sign, setting.top_share)
    return record
