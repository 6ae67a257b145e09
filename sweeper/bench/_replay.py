"""One sweep replayed from recorded curves, and the judges that cut its trials.

A sweep starts the curves (trials) in a given order with ``concurrency`` of them running at
once. Every tick each running trial reports its next point, round-robin, and its judge says
continue, prune (the trial is discarded) or stop (a converged stop: the trial is kept with its
best value so far). A trial that ends or is cut frees its slot for the next one in the order
at the next tick, so trials overlap as in an asynchronous sweep and a rule that waits for
finished trials (Median) sees them arrive one by one.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:  # optuna is imported for real inside OptunaJudge
    import optuna

    from sweeper.detect import Detector

CONTINUE, PRUNE, STOP = "continue", "prune", "stop"


class Judge(Protocol):
    """Decides for every report of every trial of one sweep."""

    def start(self, trial: int) -> None: ...

    def judge(self, trial: int, index: int, step: int, value: float) -> str: ...

    def finish(self, trial: int, kept: bool, best: float) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """One sweep, per curve in file order."""

    stops: list[int | None]  # index of the prune/stop decision (also on the last point); None
    kept: np.ndarray  # COMPLETE with a finite best: ran to its end or stopped as converged
    used: np.ndarray  # points reported
    best: np.ndarray  # lowest finite value reported (NaN: none)


def replay(
    val: np.ndarray,
    lengths: np.ndarray,
    steps: np.ndarray,
    order: Sequence[int],
    concurrency: int,
    judge: Judge,
) -> Outcome:
    """Run the sweep of the curves ``val`` (N, T) started in ``order``; see the module doc."""
    n = val.shape[0]
    pending = [int(i) for i in reversed(order)]
    running: list[int] = []
    pos = np.zeros(n, dtype=np.int64)
    best = np.full(n, math.nan)
    kept = np.zeros(n, dtype=bool)
    stops: list[int | None] = [None] * n
    while pending or running:
        while pending and len(running) < concurrency:
            running.append(pending.pop())
            judge.start(running[-1])
        still = []
        for i in running:
            t = int(pos[i])
            if t >= lengths[i]:  # an empty curve: nothing to report
                judge.finish(i, False, math.nan)
                continue
            value = float(val[i, t])
            if math.isfinite(value) and not value >= best[i]:  # NaN best: the first one
                best[i] = value
            decision = judge.judge(i, t, int(steps[t]), value)
            pos[i] = t + 1
            if decision == CONTINUE and t + 1 < lengths[i]:
                still.append(i)
                continue
            if decision != CONTINUE:
                stops[i] = t
            kept[i] = decision != PRUNE and math.isfinite(best[i])
            judge.finish(i, decision != PRUNE, float(best[i]))
        running = still
    return Outcome(stops, kept, pos.copy(), best)


class OptunaJudge:
    """A real study: ``ask``, ``report``, ``should_prune``, then ``tell`` each trial.

    A trial that ran to its end, or that ``keep(trial)`` says was stopped as converged, is
    told COMPLETE with its lowest reported value (FAIL if none was finite); others PRUNED.
    ``train`` (N, T): each report's training value goes first through ``report_training``.
    """

    def __init__(
        self,
        pruner: optuna.pruners.BasePruner,
        study_name: str,
        keep: Callable[[optuna.Trial], bool] | None = None,
        train: np.ndarray | None = None,
    ) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # A fixed name: Hyperband hashes it with the trial number to pick a bracket.
        self.study = optuna.create_study(
            study_name=study_name,
            direction="minimize",
            pruner=pruner,
            sampler=optuna.samplers.RandomSampler(seed=0),
        )
        self._keep = keep
        self._train = train  # (N, T): reported beside each value with report_training
        if train is not None:
            from sweeper.pruning import report_training

            self._report_training = report_training
        self._trials: dict[int, optuna.Trial] = {}

    def start(self, trial: int) -> None:
        self._trials[trial] = self.study.ask()

    def judge(self, trial: int, index: int, step: int, value: float) -> str:
        ot = self._trials[trial]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Patient's ExperimentalWarning, NaN percentiles
            if self._train is not None:
                self._report_training(ot, float(self._train[trial, index]), step)
            ot.report(value, step)
            if not ot.should_prune():
                return CONTINUE
        return STOP if self._keep is not None and self._keep(ot) else PRUNE

    def finish(self, trial: int, kept: bool, best: float) -> None:
        from optuna.trial import TrialState

        ot = self._trials.pop(trial)
        if not kept:
            self.study.tell(ot, state=TrialState.PRUNED)
        elif math.isfinite(best):
            self.study.tell(ot, best)
        else:
            self.study.tell(ot, state=TrialState.FAIL)


class AshaJudge:
    """Ray Tune's ``AsyncHyperBandScheduler`` with one bracket (s = 0), mode="min".

    Rungs at ``grace_period * rf**k`` training iterations (reports), as many as
    ``int(log(max_t / grace_period) / log(rf) + 1)``. A trial reaching a rung it has not
    recorded (the highest it passed) is stopped if its reward (-value) is below the
    ``(1 - 1/rf)`` nan-percentile of the rewards recorded there before it; then its reward
    is recorded. Ray ends such a trial without a best checkpoint to keep: a prune.
    """

    def __init__(self, max_t: int, grace_period: int = 1, reduction_factor: float = 4) -> None:
        if max_t < 1 or not 1 <= grace_period <= max_t or reduction_factor <= 1:
            raise ValueError(
                f"need max_t >= 1, 1 <= grace_period <= max_t, reduction_factor > 1; got "
                f"{max_t=}, {grace_period=}, {reduction_factor=}"
            )
        self.rf = float(reduction_factor)
        n_rungs = int(math.log(max_t / grace_period) / math.log(self.rf) + 1)
        self.rungs: list[tuple[float, dict[int, float]]] = [
            (grace_period * self.rf**k, {}) for k in reversed(range(n_rungs))
        ]

    def start(self, trial: int) -> None:
        pass

    def judge(self, trial: int, index: int, step: int, value: float) -> str:
        iteration, reward = index + 1, -value
        for milestone, recorded in self.rungs:
            if iteration < milestone or trial in recorded:
                continue
            action = CONTINUE
            if recorded:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # an all-NaN rung has no cutoff
                    cutoff = np.nanpercentile(list(recorded.values()), (1 - 1 / self.rf) * 100)
                if reward < cutoff:
                    action = PRUNE
            recorded[trial] = reward
            return action
        return CONTINUE

    def finish(self, trial: int, kept: bool, best: float) -> None:
        pass


class DetectorJudge:
    """A fresh detector per trial (Ray's ``TrialPlateauStopper`` is one per trial id).

    Its stop is a converged stop: Tune keeps a stopped trial with its results.
    """

    def __init__(self, build: Callable[[], Detector], metric: str) -> None:
        self._build, self._metric = build, metric
        self._detectors: dict[int, Detector] = {}

    def start(self, trial: int) -> None:
        self._detectors[trial] = self._build()

    def judge(self, trial: int, index: int, step: int, value: float) -> str:
        verdict = self._detectors[trial].update(step, {self._metric: value})
        return STOP if verdict.stops else CONTINUE

    def finish(self, trial: int, kept: bool, best: float) -> None:
        self._detectors.pop(trial, None)


def ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank (scipy's ``rankdata``); no NaN allowed."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    average = np.cumsum(counts) - (counts - 1) / 2
    return average[inverse.reshape(-1)]


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rho with average ranks for ties; None when either side is constant."""
    ra, rb = ranks(np.asarray(a, float)), ranks(np.asarray(b, float))
    da, db = ra - ra.mean(), rb - rb.mean()
    norm = math.sqrt(float(da @ da) * float(db @ db))
    return None if norm == 0 else float(da @ db) / norm
