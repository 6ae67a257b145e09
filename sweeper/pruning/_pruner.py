"""ConvergencePruner: the convergence detector behind Optuna's pruner protocol."""

from __future__ import annotations

import itertools
import math
import statistics
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.pruners import BasePruner
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from sweeper.detect import BestTracker, ConvergenceDetector, Reason, Verdict, improvement_bound
from sweeper.pruning._record import STOP_ATTR, plain

# The trend behind "improvement left" is a line in log-log: early on it under-states a curve
# still speeding up on that scale (an exponential decay), which could be cut while it would
# win. A quarter of the budget in, such a curve has shown its pace (see docs/pruning.md).
CATCH_UP_FROM = 0.25
_RULES = {
    Reason.DIVERGED: "diverged",
    Reason.OVERFITTING: "overfitting",
    Reason.CONVERGED: "converged",
}
_Key = tuple[str, int]  # (study name, trial number)


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass
class _Cursor:
    """Where the feed of one trial's ``intermediate_values`` stands.

    Reports are read in the storage's order (the order they were made, for the in-memory and
    journal storages) and a step not after the last fed one is skipped, as the detector
    would: a restart that reports earlier steps again, or new steps below the last one, is
    ignored live and by a replay alike.
    """

    seen: int = 0
    last_step: int = -1  # Optuna steps are >= 0

    def advance(self, values: Mapping[int, float]) -> list[tuple[int, float]]:
        new = itertools.islice(values.items(), self.seen, None)
        self.seen = max(self.seen, len(values))
        points = []
        for step, value in new:
            if step > self.last_step:
                self.last_step = int(step)
                points.append((int(step), float(value)))
        return points


@dataclass
class _Level:
    """A trial's smoothed best value so far (minimisation frame), fed incrementally."""

    best: BestTracker = field(default_factory=BestTracker)
    cursor: _Cursor = field(default_factory=_Cursor)

    def feed(self, values: Mapping[int, float], sign: float) -> float | None:
        for step, value in self.cursor.advance(values):
            if math.isfinite(value):
                self.best.add(step, sign * value)
        return self.best.value


@dataclass
class _Track:
    """What this process knows of one trial it judges."""

    detector: ConvergenceDetector
    cursor: _Cursor = field(default_factory=_Cursor)
    last: Verdict | None = None
    first_stop: Verdict | None = None  # sticky: a later calm value does not undo a stop


class ConvergencePruner(BasePruner):
    """Prunes a trial that diverged, overfits, has converged, or cannot catch up.

    The trial's intermediate values are one metric (``metric``) fed, one report per step, to
    a :class:`sweeper.detect.ConvergenceDetector`. In this order, a trial is pruned when:

    1. the detector says DIVERGED (a NaN or inf value counts, whatever the metric's name),
       OVERFITTING or CONVERGED. A converged trial should end with its best value, not as
       PRUNED: the objective reads :func:`stop_verdict` and returns ``best_value``;
    2. ``catch_up`` is on, a quarter of ``budget`` has passed (without a budget: once the
       detector judges a trend) and the trial cannot catch up: even improving by U, the
       detector's upper confidence bound (1 - alpha) on the relative improvement left until
       ``budget``, its smoothed best would stay worse than the best other trial's smoothed
       best so far, by more than ``epsilon`` plus its noise level. Other trials count
       whatever their state but FAIL, so unlike Median/Percentile this acts while every
       trial is still running.

    Smoothed best: the lowest median of 3 neighbouring values, so one lucky report neither
    sets the bar nor saves a trial. Each pruning decision is stored in the trial as the
    system attribute ``"sweeper:stop"`` (read it with :func:`stop_verdict`). Maximised
    metrics are negated inside, so the detector always sees a loss.

    Detectors live in a per-process cache fed only the reports made since the last call,
    in report order; a step not after the last fed one (a restart) is ignored. Pickling
    drops the cache: a fresh process (a Ray worker, a restored driver) rebuilds it by
    replaying ``intermediate_values``, which gives the same decisions at a cost bounded by
    the detector's bounded history (about 1 ms per report replayed).

    Args:
        budget: the last step a trial reports (the horizon of "improvement left"); None
            judges over as many steps again as were already reported.
        epsilon: relative improvement below which a trial has converged, and the margin of
            the catch-up rule.
        alpha: probability of a false stop of each statistical test.
        n_warmup_steps: no pruning, and no stop verdict remembered, before this step.
        catch_up: whether to prune trials that cannot catch up with the best one.
        metric: the name the detector gives the values (``val/mel`` unlocks its held-out
            checks such as explosion).

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
        ...             if verdict is not None and verdict["rule"] == "converged":
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
        metric: str = "val/mel",
    ) -> None:
        if budget is not None and (type(budget) is not int or budget <= 0):
            raise ValueError(f"budget is the last step a trial reports, an int > 0; got {budget=}")
        if not 0 < epsilon < 1:
            raise ValueError(f"epsilon is a relative improvement in (0, 1), got {epsilon=}")
        if not 0 < alpha < 0.5:
            raise ValueError(f"alpha is a false-stop probability in (0, 0.5), got {alpha=}")
        if type(n_warmup_steps) is not int or n_warmup_steps < 0:
            raise ValueError(f"n_warmup_steps must be an int >= 0, got {n_warmup_steps=}")
        if not isinstance(catch_up, bool):
            raise ValueError(f"catch_up must be True or False, got {catch_up=}")
        if not isinstance(metric, str) or not metric:
            raise ValueError(f"metric must be a non-empty name such as 'val/mel', got {metric=}")
        self.budget = budget
        self.epsilon = epsilon
        self.alpha = alpha
        self.n_warmup_steps = n_warmup_steps
        self.catch_up = catch_up
        self.metric = metric
        self._z = statistics.NormalDist().inv_cdf(1.0 - alpha)
        self._template = ConvergenceDetector(metric, budget=budget, epsilon=epsilon, alpha=alpha)
        self._tracks: dict[_Key, _Track] = {}
        self._levels: dict[_Key, _Level] = {}
        self._lock = threading.Lock()  # study.optimize(n_jobs > 1) prunes from threads

    def __getstate__(self) -> dict[str, Any]:
        # The caches are rebuilt by replay; a lock does not pickle.
        state = self.__dict__.copy()
        state.update(_tracks={}, _levels={}, _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
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
        if record is None:
            return False
        # Only a running trial of this study can take attributes (a finished one raises);
        # this is the storage call Optuna's SuccessiveHalvingPruner makes for its rungs.
        if trial.state == TrialState.RUNNING:
            study._storage.set_trial_system_attr(trial._trial_id, STOP_ATTR, record)
        return True

    def _decide(self, study: optuna.Study, trial: FrozenTrial, sign: float) -> dict | None:
        key = (study.study_name, trial.number)
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track(self._template.fresh())  # type: ignore[arg-type]
        self._feed(track, trial.intermediate_values, sign)
        level = self._levels.setdefault(key, _Level())
        level.feed(trial.intermediate_values, sign)
        others = study.get_trials(deepcopy=False)
        self._forget_finished(study.study_name, others)
        if track.last is None or track.last.step < self.n_warmup_steps:
            return None
        if track.first_stop is not None:
            verdict = track.first_stop
            return self._record(_RULES[verdict.reason], verdict.message, verdict, level, sign)
        if not self.catch_up:
            return None
        return self._catch_up(
            study.study_name,
            trial.number,
            others,
            track.last,
            level,
            sign,
            trial.intermediate_values,
        )

    def _improvement_upper(
        self, values: Mapping[int, float], sign: float, step: int
    ) -> float | None:
        """Upper bound on the relative improvement left, assuming only a decelerating curve.

        The detector's own bound extrapolates a trend in log-steps, which under-states a
        curve still steepening on that scale (a slow power law early on) - fine for calling
        a plateau, not for discarding a trial that might still win: here the trend is fitted
        against the step itself (the last 512 finite reports).
        """
        points = [(k, sign * v) for k, v in values.items() if math.isfinite(v) and k <= step]
        points = points[-512:]
        if len(points) < 20:
            return None
        steps = np.array([k for k, _ in points], dtype=float)
        ys = np.array([v for _, v in points], dtype=float)
        horizon = (self.budget - step) if self.budget is not None else max(step, 1)
        bound = improvement_bound(
            steps, ys, np.ones(steps.size), max(horizon, 0), self.alpha, linear_steps=True
        )
        return None if bound is None else max(bound.upper, 0.0)

    def _catch_up(
        self,
        study_name: str,
        number: int,
        others: list[FrozenTrial],
        verdict: Verdict,
        level: _Level,
        sign: float,
        values: Mapping[int, float],
    ) -> dict | None:
        """The cross-trial rule; None while the trial may still beat the best other one."""
        best = level.best.value
        noise = verdict.evidence.get("noise_cv")
        if best is None or not _finite(noise):
            return None  # the detector has not judged a trend yet
        if self.budget is not None and verdict.step < CATCH_UP_FROM * self.budget:
            return None
        upper = self._improvement_upper(values, sign, verdict.step)
        if upper is None:
            return None
        bar, leader = self._bar(study_name, number, others, sign)
        if bar is None:
            return None
        optimistic = best - upper * abs(best)
        # Two smoothed minima of equally good noisy curves differ by about their noise:
        # a gap inside it is no evidence, whatever epsilon says.
        margin = self.epsilon + self._z * noise
        if optimistic <= bar + margin * abs(bar):
            return None
        horizon = f"step {self.budget}" if self.budget is not None else "as many steps again"
        message = (
            f"cannot catch up: {self.metric} at best {sign * best:.4g} could gain at most "
            f"{100 * upper:.1f} % by {horizon} (to {sign * optimistic:.4g}), still worse "
            f"than trial {leader}'s {sign * bar:.4g} by more than {100 * margin:.1f} %"
        )
        record = self._record("cannot_catch_up", message, verdict, level, sign)
        record["catch_up"] = plain(
            {
                "optimistic_final": sign * optimistic,
                "improvement_left_upper": upper,
                "bar": sign * bar,
                "bar_trial": leader,
                "margin": margin,
            }
        )
        return record

    def _feed(self, track: _Track, values: Mapping[int, float], sign: float) -> None:
        for step, raw in track.cursor.advance(values):
            verdict = track.detector.update(step, {self.metric: sign * raw})
            if not math.isfinite(raw) and verdict.reason is not Reason.DIVERGED:
                # The detector watches only loss/val/grad_norm names for NaN; any name here.
                verdict = Verdict(
                    Reason.DIVERGED,
                    step,
                    None,
                    f"diverged: {self.metric} is {raw} at step {step}",
                    self.metric,
                    {"guard": "non_finite"},
                )
            track.last = verdict
            if track.first_stop is None and verdict.stops and step >= self.n_warmup_steps:
                track.first_stop = verdict

    def _forget_finished(self, study_name: str, trials: list[FrozenTrial]) -> None:
        # Finished trials report no more: their detectors go; their levels (small) stay.
        for other in trials:
            if other.state != TrialState.RUNNING:
                self._tracks.pop((study_name, other.number), None)

    def _bar(
        self, study_name: str, number: int, trials: list[FrozenTrial], sign: float
    ) -> tuple[float | None, int | None]:
        """The best smoothed level among the other trials, and whose it is."""
        bar: float | None = None
        leader: int | None = None
        for other in trials:
            if other.number == number or other.state in (TrialState.FAIL, TrialState.WAITING):
                continue
            level = self._levels.setdefault((study_name, other.number), _Level())
            value = level.feed(other.intermediate_values, sign)
            if value is None and other.state == TrialState.COMPLETE and other.value is not None:
                value = sign * other.value  # no curve: its final value is all there is
            if value is not None and math.isfinite(value) and (bar is None or value < bar):
                bar, leader = value, other.number
        return bar, leader

    def _record(
        self, rule: str, message: str, verdict: Verdict, level: _Level, sign: float
    ) -> dict[str, Any]:
        best = level.best.value
        return plain(
            {
                "rule": rule,
                "message": message,
                "step": verdict.step,
                "best_step": level.best.step,
                "best_value": None if best is None else sign * best,
                "direction": "maximize" if sign < 0 else "minimize",
                "verdict": verdict.to_dict(),  # in the detector's frame (negated if maximize)
            }
        )
