"""Composition: several detectors answering as one."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sweeper.detect._base import Detector, metric_value
from sweeper.detect._divergence import DivergenceDetector
from sweeper.detect._overfit import OverfitDetector
from sweeper.detect._plateau import PlateauDetector
from sweeper.detect._verdict import Reason, Verdict

# When several detectors stop at once, the most urgent reason is the one reported.
_URGENCY = {Reason.DIVERGED: 0, Reason.OVERFITTING: 1, Reason.CONVERGED: 2, Reason.CONTINUE: 3}

# Held-out report intervals missed before a CONTINUE says its judgement is that old: a late
# eval or two is normal (a slow eval, a restart); three is an eval that stopped.
SILENT_AFTER = 3


def most_urgent(verdicts: Sequence[Verdict]) -> Verdict:
    """The stopping verdict that matters most, else the first (primary) verdict."""
    return min(verdicts, key=lambda v: _URGENCY[v.reason])


class AnyOf(Detector):
    """Stops when any child stops; reports the most urgent reason (diverged first).

    The first child is the primary one: its CONTINUE verdict is the one reported while
    nobody stops.
    """

    def __init__(self, *detectors: Detector) -> None:
        if not detectors:
            raise ValueError("AnyOf needs at least one detector, got none")
        self.detectors = list(detectors)

    def update(self, step: int, metrics: Mapping[str, float]) -> Verdict:
        return most_urgent([d.update(step, metrics) for d in self.detectors])

    def reset(self) -> None:
        for d in self.detectors:
            d.reset()

    def state_dict(self) -> dict[str, Any]:
        return {"detectors": [d.state_dict() for d in self.detectors]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for d, s in zip(self.detectors, state["detectors"], strict=True):
            d.load_state_dict(s)


def _rose_at_plateau(plateau: Verdict, overfit: Verdict, train_metric: str) -> Verdict:
    """A plateau stop whose held-out metric already sits above its best by more than its
    noise while training improves: the same stop, named for what it is (overfitting). The
    rise is seen on one check, not yet the confirmed streak the overfitting rule waits for,
    so this only renames a stop the plateau rule makes anyway."""
    gap = overfit.evidence.get("generalization_gap")
    rise = f"{100 * gap:.1f} % " if isinstance(gap, float) else ""
    climbing = "climbing " if overfit.evidence.get("climbing") else ""
    how = f"{climbing}while {train_metric} keeps improving"
    return Verdict(
        Reason.OVERFITTING,
        plateau.step,
        plateau.best_step,
        f"{plateau.signal} stopped improving and is {rise}above its best, {how}: overfitting "
        f"({plateau.message})",
        plateau.signal,
        {**plateau.evidence, **overfit.evidence, "overfitting_confirmed": False},
    )


class ConvergenceDetector(Detector):
    """The answer to "has this so-vits run converged?": divergence, overfitting, plateau.

    The judged signal is ``primary`` when given; otherwise the held-out ``val/mel`` as soon
    as it has been reported, and the training mel loss (``train_metric``) until then. On
    the training metric only a plateau can be judged - the verdict says so.

    Example:
        >>> det = ConvergenceDetector(budget=20_000)
        >>> det.update(200, {"loss/g/mel": 38.2, "loss/d/total": 2.4}).reason.value
        'continue'
    """

    def __init__(
        self,
        primary: str | None = None,
        *,
        train_metric: str = "loss/g/mel",
        held_out: str = "val/mel",
        budget: int | None = None,
        epsilon: float = 0.015,
        alpha: float = 0.05,
    ) -> None:
        self.primary = primary
        self.train_metric = train_metric
        self.held_out = primary if primary is not None else held_out
        self.budget = budget
        self.divergence = DivergenceDetector(explode_metrics=(self.held_out, train_metric))
        self.overfit = OverfitDetector(self.held_out, train_metric, alpha=alpha)
        self.held_out_plateau = PlateauDetector(
            self.held_out, budget=budget, epsilon=epsilon, alpha=alpha
        )
        self.train_plateau = PlateauDetector(
            train_metric, budget=budget, epsilon=epsilon, alpha=alpha
        )
        self.reset()

    def reset(self) -> None:
        for d in self._children():
            d.reset()
        self._seen_held_out = False
        # The training plateau's best step while it was judged: the checkpoint a DIVERGED
        # verdict names when the held-out metric broke before any finite value of it.
        self._train_best: int | None = None
        # The held-out metric's last two report steps: how long it has been silent, and
        # against what cadence (a held-out eval that stopped would otherwise freeze the
        # verdict on its last judgement without a word).
        self._held_out_steps: tuple[int, ...] = ()

    def _children(self) -> list[Detector]:
        return [self.divergence, self.overfit, self.held_out_plateau, self.train_plateau]

    def update(self, step: int, metrics: Mapping[str, float]) -> Verdict:
        # Values near the float limits (1e300, a run exploding) overflow inside the fits to
        # inf, which the rules read as it is; numpy's warnings would only be noise.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._update(step, metrics)

    def _numbers(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """The values some child reads, as floats; None (not reported) left out, so it
        neither marks the held-out metric as seen nor reaches a child as a value."""
        watched = (self.held_out, self.train_metric)
        numbers = {}
        for name, raw in metrics.items():
            if name in watched or self.divergence.watches(name):
                value = metric_value(name, raw)
                if value is not None:
                    numbers[name] = value
        return numbers

    def _update(self, step: int, metrics: Mapping[str, float]) -> Verdict:
        metrics = self._numbers(metrics)
        first_held_out = self.held_out in metrics and not self._seen_held_out
        if self.held_out in metrics:
            self._seen_held_out = True
            if not self._held_out_steps or step > self._held_out_steps[-1]:
                self._held_out_steps = (*self._held_out_steps[-1:], step)
        if first_held_out and self.primary is None:
            # Its last report, so that a held-out metric breaking at once still has a
            # checkpoint to name, whether the training value came in this call or before.
            self._train_best = self.train_plateau.update(step, metrics).best_step
        if self._seen_held_out or self.primary is not None:
            # The training-loss plateau is never consulted again: skip its fits (a third of
            # the work per report).
            verdicts = [d.update(step, metrics) for d in self._children()[:3]]
            diverged, overfit, held_plateau = verdicts
            verdict = most_urgent([held_plateau, diverged, overfit])
            if verdict.reason is Reason.CONVERGED and self.overfit.rising:
                verdict = _rose_at_plateau(verdict, overfit, self.train_metric)
            elif verdict.reason is Reason.CONTINUE and self.overfit.rising:
                verdict = self._suspected(verdict, overfit)
            elif verdict.reason is Reason.DIVERGED:
                # The divergence rule tracks no best; after a blow-up is exactly when the
                # checkpoint to keep is needed (it said None once val/mel had been seen).
                best = held_plateau.best_step
                best = best if best is not None else self._train_best
                verdict = dataclasses.replace(verdict, best_step=best)
            return self._silent(self._now(verdict, step))
        verdicts = [d.update(step, metrics) for d in self._children()]
        diverged, overfit, held_plateau, train_plateau = verdicts
        self._train_best = train_plateau.best_step
        verdict = most_urgent([train_plateau, diverged])
        note = (
            f" [judged on {self.train_metric}, a training loss: only a plateau can be judged; "
            f"overfitting needs a held-out metric such as {self.held_out}]"
        )
        verdict = Verdict(
            verdict.reason,
            verdict.step,
            train_plateau.best_step,
            verdict.message + note,
            verdict.signal or self.train_metric,
            {**verdict.evidence, "overfitting_judged": False},
        )
        return self._now(verdict, step)

    def _suspected(self, verdict: Verdict, overfit: Verdict) -> Verdict:
        """A CONTINUE whose held-out metric, taken on this check alone, sits above its best
        by more than its noise while training clearly improves: overfitting suspected, not
        confirmed (the test waits for ``min_points`` values and a streak). The evidence says
        so, for a reader such as ``sweeper diagnose`` (a run of 31 evaluations 17 % above
        its best was told "continue"); the decision is unchanged."""
        evidence = {
            **verdict.evidence,
            "overfitting_suspected": True,
            "generalization_gap": overfit.evidence.get("generalization_gap"),
            "overfit_noise_cv": overfit.evidence.get("noise_cv"),
            "overfit_points": overfit.evidence.get("points"),
            "overfit_points_needed": self.overfit.min_points,
            "train_metric": self.train_metric,
        }
        return dataclasses.replace(verdict, evidence=evidence)

    def _now(self, verdict: Verdict, step: int) -> Verdict:
        """A CONTINUE carries the step just passed. An update without the judged metric
        returns the plateau's previous judgement, and its step was that judgement's (so-vits
        cadence: 147 of 200 updates said an older step). A stop keeps the step where it was
        decided; a repeated or backward step (a restart) gets the previous verdict as is."""
        if verdict.stops or step <= verdict.step:
            return verdict
        return dataclasses.replace(verdict, step=step)

    def _silent(self, verdict: Verdict) -> Verdict:
        """A CONTINUE that says so when the held-out metric has not been reported for more
        than SILENT_AFTER of its own report intervals: its judgement is that old."""
        if verdict.stops or len(self._held_out_steps) < 2:
            return verdict
        before, last = self._held_out_steps
        if verdict.step - last <= SILENT_AFTER * (last - before):
            return verdict
        note = (
            f" [{self.held_out} not reported since step {last} (it came every {last - before} "
            f"steps): this is its judgement at step {last}]"
        )
        evidence = {**verdict.evidence, "held_out_last_step": last}
        return dataclasses.replace(verdict, message=verdict.message + note, evidence=evidence)

    def state_dict(self) -> dict[str, Any]:
        return {
            "children": [d.state_dict() for d in self._children()],
            "seen_held_out": self._seen_held_out,
            "train_best": self._train_best,
            "held_out_steps": list(self._held_out_steps),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for d, s in zip(self._children(), state["children"], strict=True):
            d.load_state_dict(s)
        self._seen_held_out = bool(state["seen_held_out"])
        self._train_best = state.get("train_best")  # absent from states saved before 2026-12-07
        self._held_out_steps = tuple(int(s) for s in state.get("held_out_steps", ()))
