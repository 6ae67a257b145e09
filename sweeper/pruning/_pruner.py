"""ConvergencePruner: the convergence detector behind Optuna's pruner protocol."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import optuna
from optuna.pruners import BasePruner
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from sweeper.detect import ConvergenceDetector, Reason, Verdict
from sweeper.detect._stats import z_quantile
from sweeper.pruning._args import PrunerArgs
from sweeper.pruning._notices import TREND_REPORTS, Notices, warn_short_budget
from sweeper.pruning._record import (
    RULES,
    STOP_ATTR,
    CatchUpSetting,
    catch_up_record,
    converged_record,
    decision_record,
    train_key,
)
from sweeper.pruning._standing import Standing, improvement_left_upper, standing
from sweeper.pruning._track import (
    _finite,
    _Key,
    _key,
    _Level,
    _study_key,
    _Track,
    other_levels,
    plateau_stop,
)


class ConvergencePruner(BasePruner):
    """Prunes a trial that diverged, overfits, has converged, or cannot catch up.

    The trial's intermediate values are one metric (``metric``) fed, one report per step, to
    a :class:`sweeper.detect.ConvergenceDetector`. In this order, a trial is pruned when:

    1. the detector says DIVERGED (a NaN or inf value counts, whatever the metric's name)
       or OVERFITTING;
    2. the detector says CONVERGED. With ``catch_up`` on, only a trial that cannot lead (an
       other trial is clearly better than its optimistic final value, see
       :mod:`sweeper.pruning._standing`), that may not rank in the top ``top_share`` (as
       many others clearly better as that share holds), and that is either out of the top
       or has under ``epsilon`` left even by the bound that assumes only a decelerating curve.
       A converged trial should end with its best value, not as PRUNED: the objective reads
       :func:`stop_verdict` and returns ``best_value`` (for an overfitting one too: its best
       checkpoint predates the rise; as PRUNED, ``study.best_trial`` leaves it out);
    3. ``catch_up`` is on, the detector has judged a trend (20 reports) and the trial
       cannot reach the top ``top_share`` of the trials: even improving by U, an upper
       confidence bound (1 - alpha) on the relative improvement left until ``budget``, its
       smoothed best would stay worse, by more than ``epsilon`` plus its noise level, than
       so many other trials' smoothed bests that a top trial would see that with
       probability under ``alpha`` (a binomial tail). Other trials count whatever their
       state but FAIL, so unlike Median/Percentile this acts while every trial is still
       running.

    Smoothed best: the lowest median of 3 neighbouring values, so one lucky report neither
    sets the bar nor saves a trial. Each pruning decision is stored in the trial as the
    system attribute ``"sweeper:stop"`` (read it with :func:`stop_verdict`). Maximised
    metrics are negated inside, so the detector always sees a loss.

    Detectors live in a per-process cache fed only the reports made since the last call,
    in report order; a step not after the last fed one (a restart) is ignored, but a NaN or
    inf there stops the trial as diverged. Pickling
    drops the cache: a fresh process (a Ray worker, a restored driver) rebuilds it by
    replaying ``intermediate_values``, which gives the same decisions at a cost bounded by
    the detector's bounded history (a few ms per report replayed).

    Args:
        budget: the last step a trial reports (the horizon of "improvement left"); None
            judges over as many steps again as were already reported.
        epsilon: relative improvement below which a trial has converged, and the margin of
            the catch-up rule.
        alpha: probability of a false stop of each statistical test.
        n_warmup_steps: no pruning before this step, and no stop verdict remembered but a
            divergence (a NaN in the warm-up stops the trial when the warm-up ends).
        catch_up: whether to compare trials: prune those that cannot reach the top, and
            spare those that may lead a converged stop. Off: the detector's rules alone.
        metric: the name the detector gives the values, in messages too. The explosion
            guard (a median of 5 over a multiple of its best level, beyond its noise) takes
            2x for a mel loss (a name holding ``mel``: ``val/mel``, ``loss/g/mel``, as the
            sweep passes) and 5x for any other name, such as the default ``value`` (a
            loss of another kind may rise by design; until 2026-12-06 it had no guard, and
            a 1e6x jump ran its whole budget).
        top_share: the share of the trials the sweep wants intact (its top, the
            runners-up included); a trial is pruned only when it is confidently outside.
        train_metric: the name of a training metric reported with
            :func:`sweeper.pruning.report_training` (e.g. ``"train/mel"``). The detector then
            calls a rise overfitting only while training is not getting worse, and watches
            the training metric for explosion. None: the intermediate values alone.

    Example:
        >>> import numpy as np, optuna
        >>> from sweeper.pruning import ConvergencePruner, stop_verdict
        >>> def objective(trial):
        ...     lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
        ...     rng = np.random.default_rng(trial.number)
        ...     for step in range(1, 301):
        ...         floor = 5 + 20 * abs(np.log10(lr) + 1.5)  # best near lr = 0.03
        ...         value = (floor + 30 * (1 + step / 5) ** -0.8) * (1 + 0.03 * rng.normal())
        ...         trial.report(value, step)
        ...         if trial.should_prune():
        ...             verdict = stop_verdict(trial)
        ...             if verdict is not None and verdict["rule"] in ("converged", "overfitting"):
        ...                 return verdict["best_value"]
        ...             raise optuna.TrialPruned(verdict["message"] if verdict else None)
        ...     return value
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(
        ...     pruner=ConvergencePruner(budget=300), sampler=optuna.samplers.TPESampler(seed=0)
        ... )
        >>> study.optimize(objective, n_trials=6)
        >>> len(study.trials)
        6
    """

    def __init__(
        self,
        *,
        budget: int | None = None,
        epsilon: float = 0.015,
        alpha: float = 0.05,
        n_warmup_steps: int = 0,
        catch_up: bool = True,
        metric: str = "value",
        top_share: float = 0.10,
        train_metric: str | None = None,
    ) -> None:
        args = PrunerArgs.check(
            budget, epsilon, alpha, n_warmup_steps, catch_up, metric, top_share, train_metric
        )
        self.budget = args.budget
        self.epsilon = args.epsilon
        self.alpha = args.alpha
        self.n_warmup_steps = args.n_warmup_steps
        self.catch_up = args.catch_up
        self.metric = args.metric
        self.top_share = args.top_share
        self.train_metric = args.train_metric
        self._z = z_quantile(self.alpha)
        self._template = ConvergenceDetector(
            self.metric,
            budget=self.budget,
            epsilon=self.epsilon,
            alpha=self.alpha,
            **({} if self.train_metric is None else {"train_metric": self.train_metric}),
        )
        self._tracks: dict[_Key, _Track] = {}
        self._levels: dict[_Key, _Level] = {}
        self._lock = threading.Lock()  # study.optimize(n_jobs > 1) prunes from threads
        self._notices = Notices()  # warnings given, once per study
        self._study: tuple[str, int, int] | None = None  # the study the caches hold
        warn_short_budget(self.budget)

    def detector(self) -> ConvergenceDetector:
        """A fresh detector with this pruner's settings (metric, training metric, budget,
        epsilon, alpha; not n_warmup_steps: a caller judging by it alone applies that)."""
        return self._template.fresh()  # type: ignore[return-value]

    def held_back(self, study: optuna.Study, trial: FrozenTrial) -> Verdict | None:
        """The plateau stop (converged, or overfitting named at a plateau) that the detector
        holds for a running trial, which the catch-up rule spared because it could lead or
        rank in the top share; None when there is none. A trial that then runs to its budget
        can say why it was not stopped (it read as a plain "ran to its budget")."""
        with self._lock:  # (read together: another thread may be feeding the track)
            track = self._tracks.get(_key(study.study_name, trial))
            last, held = (None, None) if track is None else (track.last, track.held)
        if last is None or not plateau_stop(last):
            return None  # (it moved on since: no longer flat)
        return held or last

    def __getstate__(self) -> dict[str, Any]:
        # The caches are rebuilt by replay; a lock does not pickle.
        state = self.__dict__.copy()
        # Warnings given are this process's: a process the pruner is sent to gives its own.
        state.update(_tracks={}, _levels={}, _lock=None, _notices=None, _study=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._notices = Notices()  # (pickled before 2026-12-07: one-time flags)
        self._study = None
        self._lock = threading.Lock()

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        if len(study.directions) > 1:
            raise NotImplementedError(
                "ConvergencePruner judges one metric; this study has "
                f"{len(study.directions)} objectives, where Optuna supports no pruning "
                "(Trial.should_prune raises). Use a single-objective study."
            )
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        with self._lock:
            record = self._decide(study, trial, sign)
        # Only a running trial of this study can take attributes (a finished one raises);
        # this is the storage call Optuna's SuccessiveHalvingPruner makes for its rungs.
        running = trial.state == TrialState.RUNNING
        if record is None:
            # A stop the trial went on from (should_prune said True, the objective ran on) and
            # that no longer holds leaves no record: a trial that went on to lead showed a
            # cannot_catch_up verdict (a probe, 2026-12-07). A sweep stops at the first True.
            if running and trial.system_attrs.get(STOP_ATTR) is not None:
                study._storage.set_trial_system_attr(trial._trial_id, STOP_ATTR, None)
            return False
        if running:
            # The trial's number goes with it: Optuna's retry callbacks copy every
            # system attribute onto the retry, which is no stopped trial (a probe, 2026-12-07).
            record = {**record, "trial": trial.number}
            study._storage.set_trial_system_attr(trial._trial_id, STOP_ATTR, record)
        return True

    def _decide(self, study: optuna.Study, trial: FrozenTrial, sign: float) -> dict | None:
        which = _study_key(study)
        if which != self._study:  # a pruner reused across studies keeps one study's caches
            self._tracks.clear()
            self._levels.clear()
            self._study = which
        key = _key(study.study_name, trial)
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track(self.detector())
        untrained = track.untrained
        if untrained is not None and _finite(trial.system_attrs.get(train_key(untrained))):
            track.late_train = True
            self._notices.check_train_order(which, trial.number, untrained)
        track.feed(
            trial.intermediate_values,
            lambda step: trial.system_attrs.get(train_key(step)),
            sign,
            metric=self.metric,
            train_metric=self.train_metric,
            catch_up=self.catch_up,
            n_warmup_steps=self.n_warmup_steps,
        )
        cursor = track.cursor
        self._notices.check_budget(which, self.budget, trial.number, cursor.last_step)
        self._notices.check_order(which, trial.number, cursor.skipped, cursor.last_step)
        if track.missing_train >= TREND_REPORTS and not (track.train_head or track.late_train):
            self._notices.check_train_missing(which, trial.number, self.train_metric)
        rises = track.train_rises() if sign < 0 else None
        if rises is not None:
            self._notices.check_train_rises(which, trial.number, self.train_metric, rises)
        level = self._levels.setdefault(key, _Level())
        level.feed(trial.intermediate_values, sign)
        others = study.get_trials(deepcopy=False)
        self._forget_finished(study.study_name, others)
        verdict = track.last
        if verdict is None or verdict.step < self.n_warmup_steps:
            return None
        # At or past its budget's last step a converged stop saves nothing, and under the
        # usual `raise TrialPruned()` it turns a finished trial PRUNED. (A sweep never asks
        # there: its scheduler lets a trial's last report end it on its budget.)
        at_end = self.budget is not None and verdict.step >= self.budget
        if track.first_stop is not None:
            first = track.first_stop
            if at_end and first.reason is Reason.CONVERGED:
                return None
            if first.step < self.n_warmup_steps:  # a divergence in the warm-up stops now
                first = dataclasses.replace(first, step=verdict.step)
            return decision_record(RULES[first.reason], first.message, first, level, sign)
        if not self.catch_up:
            return None
        converged = plateau_stop(verdict)
        # No quarter-budget wait (there was one until 2026-11-23): it guarded a log-log trend
        # that under-states an early exponential decay; the bound here assumes only a
        # decelerating curve, which over-states it (bench: same cuts, 0.007 less compute).
        where = self._standing(study.study_name, trial, others, verdict, level, sign)
        if where is None:
            return None  # not judged yet: no trend, or too few points for the bound
        self._notices.check_no_budget(which, self.budget, trial.number, verdict.step)
        # A converged stop costs the improvement still left. The one trial that may lead
        # takes none (that cost would be the sweep's regret), nor one that fewer others beat
        # clearly than the top share holds: that share is what the sweep reports, and its
        # few trials save little by stopping (on the bench, slow curves of the true top 10 %
        # were stopped at 98 % of the budget with 1.0 % left). One that is merely not
        # confidently out of the top takes it when even the decelerating-curve bound says
        # under epsilon is left: the detector's log-step bound can miss the last steep
        # stretch of a slow curve (on the bench: stops with 1.2 % left at 95 % of the budget).
        out_of_top = where.p_value < self.alpha
        spared = where.contends or where.may_rank_in_top
        if converged and not spared and (out_of_top or where.upper < self.epsilon):
            if at_end and verdict.reason is Reason.CONVERGED:
                return None
            return converged_record(verdict, level, sign, where, self.top_share)
        # Nor a catch-up stop at the end, for the same reasons; until 2026-12-07 a trial still
        # improving there took one and a converged one did not (a probe).
        if out_of_top and not at_end:
            return catch_up_record(verdict, level, sign, where, self._setting())
        return None

    def _standing(
        self,
        study_name: str,
        trial: FrozenTrial,
        others: list[FrozenTrial],
        verdict: Verdict,
        level: _Level,
        sign: float,
    ) -> Standing | None:
        best = level.best.value
        noise = verdict.evidence.get("noise_cv")
        if best is None or not _finite(noise):
            return None
        levels = other_levels(self._levels, study_name, trial.number, others, sign)
        # A positive loss is compared in fractions of each value (its log-space trend); a
        # metric that reaches zero or below in this study, in fractions of the trial's
        # scale: near zero a fraction of the value vanishes, and so would every margin.
        positive = level.low > 0 and all(v > 0 for v in levels.values())
        scale = None if positive else level.scale()
        upper = improvement_left_upper(
            trial.intermediate_values, sign, verdict.step, self.budget, self.alpha, scale
        )
        if upper is None:
            return None
        # Two smoothed minima of equally good noisy curves differ by about their noise:
        # a gap inside it is no evidence, whatever epsilon says.
        margin = self.epsilon + self._z * noise
        return standing(best, upper, margin, levels, self.top_share, scale)

    def _setting(self) -> CatchUpSetting:
        return CatchUpSetting(self.metric, self.budget, self.top_share)

    def _forget_finished(self, study_name: str, trials: list[FrozenTrial]) -> None:
        # Finished trials report no more: their detectors go; their levels (small) stay.
        for other in trials:
            if other.state != TrialState.RUNNING:
                self._tracks.pop(_key(study_name, other), None)
