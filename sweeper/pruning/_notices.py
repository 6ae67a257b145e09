"""Warnings a pruner gives once per study: input it can read but not judge as the user meant.

Once per study, not per pruner (until 2026-12-07 a pruner reused across studies, a seed loop,
warned in its first study only, and a pickled pruner carried the flags to other processes),
nor per trial: every trial of a study runs the same objective, so a warning per trial would
repeat one mistake as many times as there are trials.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

# The reports the detector needs to judge a trend (its plateau rule's ``min_points``).
TREND_REPORTS = 20
_MAX_KEYS = 4096  # (kind, study) pairs remembered; beyond, the oldest are forgotten


@dataclass
class Notices:
    """Which of the pruner's warnings were given, per (kind, study) (not pickled)."""

    given: dict[tuple[str, Any], None] = field(default_factory=dict)

    def _first(self, kind: str, study: Any) -> bool:
        key = (kind, study)
        if key in self.given:
            return False
        if len(self.given) >= _MAX_KEYS:
            self.given.pop(next(iter(self.given)))
        self.given[key] = None
        return True

    def check_budget(self, study: Any, budget: int | None, number: int, step: int) -> None:
        """Steps past ``budget``: a budget in other units (epochs for steps) makes every
        trial read as converged, with nothing left to gain."""
        if budget is not None and step > budget and self._first("past_budget", study):
            warnings.warn(
                f"ConvergencePruner: trial {number} reported step {step}, past "
                f"budget={budget}; past its budget a trial has nothing left to gain and "
                "reads as converged. budget is the last step passed to trial.report (in its "
                "units); fix: pass that step, or budget=None",
                stacklevel=5,
            )

    def check_order(self, study: Any, number: int, skipped: int | None, last_step: int) -> None:
        """A step that came after a later one is skipped (steps are judged in increasing
        order), so a trial reported in reverse is never judged."""
        if skipped is not None and self._first("out_of_order", study):
            warnings.warn(
                f"ConvergencePruner: trial {number} reported step {skipped} after step "
                f"{last_step}; steps are judged in increasing order and that one is "
                "skipped (a NaN or inf there still stops the trial as diverged); fix: report "
                "steps in increasing order (e.g. the epoch number)",
                stacklevel=5,
            )

    def check_no_budget(self, study: Any, budget: int | None, number: int, step: int) -> None:
        """No budget: a trial's improvement left is judged over as many steps again as its
        step, so the catch-up rule may cut a late bloomer that a budget would keep (the
        docs' own demo: the eventual best cut at step 20-24 in 6 of 6 runs, 15 % regret)."""
        if budget is None and self._first("no_budget", study):
            warnings.warn(
                f"ConvergencePruner: no budget, so trial {number} at step {step} is judged "
                f"over {step} more steps only, and the catch-up rule may cut a trial that "
                "improves late; fix: budget=<the last step a trial reports>, or "
                "catch_up=False",
                stacklevel=5,
            )

    def check_train_rises(
        self, study: Any, number: int, name: str | None, rise: tuple[float, float]
    ) -> None:
        """A maximised study whose training metric rises over the run: likely an accuracy,
        where a loss is needed (it is never negated), so overfitting is never confirmed."""
        if self._first("train_rises", study):
            warnings.warn(
                f"ConvergencePruner: the study maximises, and trial {number}'s training "
                f"metric {name} rose from about {rise[0]:.4g} to {rise[1]:.4g}; the training "
                "metric must be a loss (lower is better; it is never negated), else the "
                "overfitting rule, which wants training still improving, never confirms; "
                "fix: report_training a training loss (or 1 - accuracy)",
                stacklevel=5,
            )

    def check_train_missing(self, study: Any, number: int, name: str | None) -> None:
        """A training metric set but never found at a judged step: reported at other steps
        (a batch counter where trial.report has the eval step) or not at all; overfitting
        was then judged without it in silence (a probe, 2026-12-07)."""
        if self._first("train_missing", study):
            warnings.warn(
                f"ConvergencePruner: train_metric={name!r} is set, but trial {number} has no "
                f"training value at any of its first {TREND_REPORTS} reported steps, so "
                "overfitting is judged without it; fix: call report_training(trial, value, "
                "step) with the same step as trial.report, before should_prune (a sweeper "
                "sweep: set pruner.train_metric to a metric the trainer reports with each "
                "evaluation, or null)",
                stacklevel=5,
            )

    def check_train_order(self, study: Any, number: int, step: int) -> None:
        """A training value reported for a step the pruner already judged is never read."""
        if self._first("train_order", study):
            warnings.warn(
                f"ConvergencePruner: trial {number} reported its training metric for step "
                f"{step} after should_prune() had judged that step, so it is not read and "
                "overfitting is judged without it; fix: call report_training(trial, value, "
                "step) before trial.report and trial.should_prune for that step",
                stacklevel=5,
            )


def warn_short_budget(budget: int | None) -> None:
    """A budget under the reports a trend needs leaves the pruner nothing to judge but a
    divergence: the classic 10-epoch setup ran every trial to its end, silently (a probe,
    2026-12-07: 0 of 8 pruned at budgets 10 and 19, 6 of 8 at 25)."""
    if budget is not None and budget < TREND_REPORTS:
        warnings.warn(
            f"ConvergencePruner: budget={budget} leaves a trial at most {budget + 1} "
            f"reports (steps 0 to {budget}), and the detector judges a trend from "
            f"{TREND_REPORTS}: only a NaN, an inf or an explosion can stop a trial, no "
            "convergence, overfitting or catch-up; fix: report more often (every few "
            "hundred batches rather than per epoch, budget the last step reported) so "
            f"that a trial reports at least {TREND_REPORTS} values, or use another pruner",
            stacklevel=3,
        )
