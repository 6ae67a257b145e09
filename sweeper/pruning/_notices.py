"""Warnings a pruner gives once each: input it can read but not judge as the user meant."""

from __future__ import annotations

import warnings
from dataclasses import dataclass


@dataclass
class Notices:
    """Which of the pruner's one-time warnings were given (pickled with the pruner)."""

    past_budget: bool = False
    out_of_order: bool = False
    no_budget: bool = False

    def check_budget(self, budget: int | None, number: int, step: int) -> None:
        """Steps past ``budget``: a budget in other units (epochs for steps) makes every
        trial read as converged, with nothing left to gain."""
        if budget is not None and not self.past_budget and step > budget:
            self.past_budget = True
            warnings.warn(
                f"ConvergencePruner: trial {number} reported step {step}, past "
                f"budget={budget}; past its budget a trial has nothing left to gain and "
                "reads as converged. budget is the last step passed to trial.report (in its "
                "units); fix: pass that step, or budget=None",
                stacklevel=5,
            )

    def check_order(self, number: int, skipped: int | None, last_step: int) -> None:
        """A step that came after a later one is skipped (steps are judged in increasing
        order), so a trial reported in reverse is never judged."""
        if skipped is not None and not self.out_of_order:
            self.out_of_order = True
            warnings.warn(
                f"ConvergencePruner: trial {number} reported step {skipped} after step "
                f"{last_step}; steps are judged in increasing order and that one is "
                "skipped; fix: report steps in increasing order (e.g. the epoch number)",
                stacklevel=5,
            )

    def check_no_budget(self, budget: int | None, number: int, step: int) -> None:
        """No budget: a trial's improvement left is judged over as many steps again as its
        step, so the catch-up rule may cut a late bloomer that a budget would keep (the
        docs' own demo: the eventual best cut at step 20-24 in 6 of 6 runs, 15 % regret)."""
        if budget is None and not self.no_budget:
            self.no_budget = True
            warnings.warn(
                f"ConvergencePruner: no budget, so trial {number} at step {step} is judged "
                f"over {step} more steps only, and the catch-up rule may cut a trial that "
                "improves late; fix: budget=<the last step a trial reports>, or "
                "catch_up=False",
                stacklevel=5,
            )
