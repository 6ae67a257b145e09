"""A Ray Tune searcher that samples the sweep's search space through its Optuna study."""

from __future__ import annotations

from typing import Any

from ray.tune.search import Searcher

from sweeper.tune._study import SweepStudy


class SpaceSearcher(Searcher):
    """Suggests each new Ray trial's parameters with ``study.ask()`` (TPE, random or grid).

    Its whole state is the study (persistent storage), so ``save``/``restore`` keep nothing
    else; the scheduler, not this class, tells Optuna how a trial ended, because only it
    knows whether the trial converged or was pruned.
    """

    def __init__(self, study: SweepStudy) -> None:
        super().__init__()
        self.sweep = study

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        return {"params": self.sweep.ask(trial_id)}

    def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
        pass  # told by PrunerScheduler.on_trial_complete / on_trial_error

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "w", encoding="utf-8") as f:
            f.write(self.sweep.storage)  # a marker Tune can find; the state is in the study

    def restore(self, checkpoint_path: str) -> None:
        pass  # the study is reopened where the sweep folder now is (SweepStudy.rebind)
