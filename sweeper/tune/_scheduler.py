"""A Ray Tune scheduler that lets our convergence pruner decide which trials stop.

Optuna's pruners never run inside Tune (OptunaSearch builds its study with NopPruner), so
this scheduler does what ``trial.report`` + ``trial.should_prune`` would: it writes the first
objective metric of every result into the sweep's study, asks the pruner, and answers STOP.
Every stop is recorded in the Optuna trial (``outcome``) and Optuna gets COMPLETE (converged
or budget reached, with the best value), PRUNED (diverged, overfitting, cannot catch up) or
FAIL (errored for good).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from sweeper.detect import ConvergenceDetector, DivergenceDetector, Reason
from sweeper.pruning import ConvergencePruner, stop_verdict
from sweeper.pruning._record import framed, train_key
from sweeper.tune._error_line import error_line, shorten
from sweeper.tune._latest import carry, persist, restore, values_at
from sweeper.tune._latest import number as _number
from sweeper.tune._study import BEST, OUTCOME, Outcome, SweepStudy
from sweeper.tune._trainable import REFUSED

STEP = "step"  # the result key holding the trainer's step (Ray's own counter restarts differ)
# NaN when no validation frame is voiced (both trainers): no value at that step, not a
# divergence, even as an objective metric (a sweep on f0 error lost such trials at step 2).
UNDEFINED_WHEN_UNVOICED = ("f0_rmse_cents", "f0_gross_error")
_RULE = {Reason.DIVERGED: "diverged", Reason.OVERFITTING: "overfitting"}


@dataclass
class _Live:
    """What the driver knows of one running trial (rebuilt from the study after a restart)."""

    trial_id: int  # Optuna's _trial_id
    last_step: int = -1  # reports at or before it are repeats after a restart
    best: float | None = None  # best first-metric value so far, in the minimising frame
    guard: DivergenceDetector = field(default_factory=DivergenceDetector)
    detector: ConvergenceDetector | None = None  # multi-objective sweeps: no Optuna pruner
    outcome: Outcome | None = None  # set when this scheduler decided to stop it
    seen: set[str] = field(default_factory=set)  # the trainer's metric names it reported
    latest: dict = field(default_factory=dict)  # other objectives' latest (step, value)


def _is_metric(key: str) -> bool:
    """A trainer's metric, not one of the keys Ray adds to every result."""
    return "/" in key or key.startswith("grad_norm") or key == "learning_rate"


def _undefined(key: str, value: float) -> bool:
    """An f0 metric's NaN: no voiced frame to measure, so no value at this step."""
    return math.isnan(value) and key.rsplit("/", 1)[-1] in UNDEFINED_WHEN_UNVOICED


def _reported(seen: set[str], limit: int = 10) -> str:
    """The metric names a trial reported, held-out ones first (they were cut off before)."""
    order = ("val/", "train/", "loss/")
    rank = {k: next((i for i, p in enumerate(order) if k.startswith(p)), 3) for k in seen}
    names = sorted((k for k in seen if not k.startswith("config/")), key=lambda k: (rank[k], k))
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


class PrunerScheduler(FIFOScheduler):
    """FIFO order, plus stops decided by :class:`ConvergencePruner` over the sweep's study.

    Args:
        study: the sweep's study (shared with the searcher that created the trials).
        metrics, modes: the objective; the first metric is the one judged for convergence.
        pruner: the pruner, or None to never stop a trial early (NaN still stops it).
        max_steps: the budget; reaching it is the "budget" outcome.
    """

    def __init__(
        self,
        study: SweepStudy,
        metrics: list[str],
        modes: list[str],
        pruner: ConvergencePruner | None,
        max_steps: int,
    ) -> None:
        super().__init__()
        self.sweep = study
        self.metrics = list(metrics)
        self.modes = list(modes)
        self.pruner = pruner
        self.max_steps = max_steps
        self._live: dict[str, _Live] = {}
        self._sign = 1.0 if modes[0] == "min" else -1.0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_live"] = {}
        return state

    # -- Ray's callbacks -------------------------------------------------------------

    def on_trial_add(self, tune_controller, trial: Trial) -> None:
        self._entry(trial)

    def on_trial_result(self, tune_controller, trial: Trial, result: dict) -> str:
        entry = self._entry(trial)
        if entry is None:
            return TrialScheduler.CONTINUE
        if entry.outcome is not None:
            return TrialScheduler.STOP  # decided before (or told before a driver restart)
        refused = result.get(REFUSED)
        if isinstance(refused, str):  # its trainer refused its input: FAIL, not retried
            return self._stop(entry, "error", shorten(refused), None)
        step = _number(result.get(STEP))
        if step is None:
            return TrialScheduler.CONTINUE
        step = int(step)
        if step <= entry.last_step:
            return TrialScheduler.CONTINUE  # a restarted trial repeating reported steps
        entry.last_step = step
        entry.seen.update(k for k in result if _is_metric(k))
        if carry(entry.latest, step, result, self.metrics[1:]):
            persist(self.sweep.study._storage, entry.trial_id, entry.latest)
        metrics = {k: v for k, v in result.items() if self._guarded(k, v)}
        guard = entry.guard.update(step, metrics)
        if guard.reason == Reason.DIVERGED:
            return self._stop(entry, "diverged", guard.message, step)
        value = _number(result.get(self.metrics[0]))
        if value is None or _undefined(self.metrics[0], value):
            return TrialScheduler.CONTINUE
        train = self._train_value(result)
        if train is not None:
            self.sweep.report_training(entry.trial_id, step, train)  # before the pruner reads
        self.sweep.report(entry.trial_id, step, value)
        # Step 0 is the model before any training (random, or the base model): not what
        # this trial's hyperparameters made, and no checkpoint of the trial holds it.
        better = entry.best is None or self._sign * value < entry.best
        # Objectives logged at other intervals: their last report at or before this step.
        values = {self.metrics[0]: value, **values_at(entry.latest, step, self.metrics[1:])}
        # A step where another objective is undefined (NaN f0) has no values to rank by.
        defined = not any(v is not None and _undefined(m, v) for m, v in values.items())
        if step > 0 and math.isfinite(value) and better and defined:
            entry.best = self._sign * value
            self.sweep.set_attr(
                entry.trial_id, BEST, {"step": step, "metrics": self.metrics, "values": values}
            )
        return self._judge(entry, step, value, train)

    def on_trial_complete(self, tune_controller, trial: Trial, result: dict) -> None:
        entry = self._entry(trial)
        if entry is None:
            return
        outcome = entry.outcome
        if outcome is None:
            step = _number(result.get(STEP)) if result else None
            outcome = self._ended(entry, None if step is None else int(step))
        self.sweep.tell(entry.trial_id, outcome)
        self._live.pop(trial.trial_id, None)

    def choose_trial_to_run(self, tune_controller) -> Trial | None:
        # After a driver restart, Ray may hold as pending a trial the study already saw end
        # (it ended after Ray's last snapshot): end it in Ray too rather than train it again.
        for trial in tune_controller.get_trials():
            if trial.status == Trial.PENDING:
                entry = self._entry(trial)
                if entry is not None and entry.outcome is not None:
                    tune_controller.stop_trial(trial)
        return super().choose_trial_to_run(tune_controller)

    def on_trial_error(self, tune_controller, trial: Trial) -> None:
        if trial.should_recover():
            return  # Ray retries it from its checkpoint; the Optuna trial stays RUNNING
        entry = self._entry(trial)
        if entry is not None:
            message = error_line(trial)
            self.sweep.tell(entry.trial_id, self._outcome(entry, "error", shorten(message), None))
            self._live.pop(trial.trial_id, None)

    def on_trial_remove(self, tune_controller, trial: Trial) -> None:
        entry = self._entry(trial)
        if entry is not None:
            # A stop decided before a driver restart may not have been told yet.
            outcome = entry.outcome or self._outcome(entry, "removed", "removed", None)
            self.sweep.tell(entry.trial_id, outcome)
        self._live.pop(trial.trial_id, None)

    # -- decisions -------------------------------------------------------------------

    def _guarded(self, key: str, value: Any) -> bool:
        """Whether the divergence guard sees this result entry."""
        if _number(value) is None:
            return False
        if key.startswith("grad_norm"):
            # A non-finite gradient norm is a step the AMP scaler skipped, not a broken run.
            return math.isfinite(value)
        if _undefined(key, value):
            return False  # f0 error with no voiced frame: undefined, even as an objective
        # Other held-out metrics may be undefined too; divergence shows in losses and mel.
        return key.startswith("loss/") or key in self.metrics

    def outcome(self, ray_trial_id: str) -> dict[str, Any] | None:
        """How a trial ended, from the study (for progress and status)."""
        found = self.sweep.find(ray_trial_id)
        return None if found is None else found.user_attrs.get(OUTCOME)

    def _train_value(self, result: Mapping[str, Any]) -> float | None:
        name = None if self.pruner is None else self.pruner.train_metric
        return None if name is None else _number(result.get(name))

    def _detector_input(self, value: float, train: float | None) -> dict[str, float]:
        """What the several-objectives detector (built by the pruner) reads: the first
        objective metric in the minimising frame, and the training metric if reported."""
        if self.pruner is None:
            return {}  # no pruner, no detector
        metrics = {self.pruner.metric: self._sign * value}
        name = self.pruner.train_metric
        if name is not None and train is not None and math.isfinite(train):
            metrics[name] = train  # a training loss: never negated
        return metrics

    def _judge(self, entry: _Live, step: int, value: float, train: float | None) -> str:
        if self.pruner is None and entry.detector is None:
            return TrialScheduler.CONTINUE
        if step >= self.max_steps:
            return TrialScheduler.CONTINUE  # its last report: it ends on its budget
        if entry.detector is not None:  # several objectives: the detector on the first one
            verdict = entry.detector.update(step, self._detector_input(value, train))
            if verdict.reason == Reason.CONTINUE:
                return TrialScheduler.CONTINUE
            warming = step < self.pruner.n_warmup_steps  # type: ignore[union-attr]
            if warming and verdict.reason != Reason.DIVERGED:
                # The warm-up holds here too (the detector has none): no converged or
                # overfitting stop in it; a divergence stops at any step.
                return TrialScheduler.CONTINUE
            rule = _RULE.get(verdict.reason, "converged")
            # It judged a maximised metric negated: the pruner's own rewording of its words.
            return self._stop(entry, rule, framed(verdict.message, self._sign), step)
        frozen = self.sweep.study._storage.get_trial(entry.trial_id)
        if not self.pruner.prune(self.sweep.study, frozen):
            return TrialScheduler.CONTINUE
        record = stop_verdict(self.sweep.study._storage.get_trial(entry.trial_id)) or {}
        return self._stop(
            entry, record.get("rule", "converged"), record.get("message", "pruned"), step
        )

    def _ended(self, entry: _Live, step: int | None) -> Outcome:
        """A trial that ended with no stop decided: its budget, or a FAIL (``error``, so the
        table and counts say so: until 2026-12-07 it showed as ``budget``) with the reason."""
        if step is not None and step >= self.max_steps:
            message = "ran to its budget" + self._held_back(entry)
        else:  # both trainers end early only at train.epochs
            at = "" if step is None else f" at step {step}"
            message = f"ended by its trainer{at}, before the budget of {self.max_steps} steps"
            message += " (train.epochs reached?)"
        missing = [m for m in self.metrics if m not in entry.seen]
        if entry.seen and missing:
            # A metric this configuration never reports (loss/d/total without the GAN).
            names = ", ".join(repr(m) for m in missing)
            message += (
                f" without reporting {names} (it reported {_reported(entry.seen)}); fix: "
                "objective metrics this trainer and configuration report"
            )
            return self._outcome(entry, "error", message, step)
        if self.sweep.study._storage.get_trial(entry.trial_id).user_attrs.get(BEST) is None:
            names = ", ".join(self.metrics)
            message += f" with no value to rank (no finite {names} after step 0)"
            if "train.epochs" in message:
                message += "; fix: raise train.epochs, or see the trial's run/train.log"
            return self._outcome(entry, "error", message, step)
        return self._outcome(entry, "budget", message, step)

    def _held_back(self, entry: _Live) -> str:
        """Why a trial the detector had judged flat or overfitting still ran to its end."""
        if self.pruner is None or entry.detector is not None:
            return ""
        frozen = self.sweep.study._storage.get_trial(entry.trial_id)
        verdict = self.pruner.held_back(self.sweep.study, frozen)
        if verdict is None:
            return ""
        said = verdict.message.split(" (")[0]
        return f", kept as it could still lead or rank in the top (at step {verdict.step}: {said})"

    def _stop(self, entry: _Live, rule: str, message: str, step: int | None) -> str:
        entry.outcome = self._outcome(entry, rule, message, step)
        self.sweep.set_attr(entry.trial_id, OUTCOME, entry.outcome.to_dict())
        return TrialScheduler.STOP

    def _outcome(self, entry: _Live, rule: str, message: str, step: int | None) -> Outcome:
        best = self.sweep.study._storage.get_trial(entry.trial_id).user_attrs.get(BEST)
        if step is None:
            step = entry.last_step if entry.last_step >= 0 else None
        return Outcome(
            rule,
            message,
            step,
            None if best is None else best["step"],
            None if best is None else best["values"].get(self.metrics[0]),
        )

    def _entry(self, trial: Trial) -> _Live | None:
        entry = self._live.get(trial.trial_id)
        if entry is not None:
            return entry
        found = self.sweep.find(trial.trial_id)
        if found is None:
            return None  # not a trial of this sweep's searcher
        entry = _Live(found._trial_id)
        values = found.intermediate_values
        if values:
            entry.last_step = max(values)
            entry.seen.add(self.metrics[0])  # reported before a driver restart
            finite = [self._sign * v for s, v in values.items() if s > 0 and math.isfinite(v)]
            entry.best = min(finite) if finite else None
        entry.latest = restore(found.system_attrs)  # the restored trial's next report replaces
        entry.seen.update(entry.latest)
        best = found.user_attrs.get(BEST) or {}
        entry.seen.update(k for k, v in (best.get("values") or {}).items() if v is not None)
        recorded = found.user_attrs.get(OUTCOME)
        if recorded is not None or found.state.is_finished():
            recorded = recorded or {"rule": "budget", "message": "finished before a restart"}
            entry.outcome = Outcome(recorded["rule"], recorded["message"], recorded.get("step"))
        if len(self.metrics) > 1 and self.pruner is not None:
            entry.detector = self.pruner.detector()  # on metrics[0], the pruner's metric
            for step, value in sorted(values.items()):
                train = found.system_attrs.get(train_key(step))
                entry.detector.update(step, self._detector_input(value, train))
        self._live[trial.trial_id] = entry
        return entry
