"""A Ray Tune searcher that samples the sweep's search space through its Optuna study."""

from __future__ import annotations

import copy
from typing import Any

from ray.tune.search import ConcurrencyLimiter, Searcher, SearchGenerator

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


class RelocatedSearch(SearchGenerator):
    """Ray's search generator for a resumed sweep whose folder moved (copied, renamed, or
    mounted elsewhere): new trials go to the folder being resumed.

    Ray restores its trials into the new folder, but the generator's saved state holds the
    ``Experiment`` of the first run, whose storage names the original folder: every trial it
    created after a resume was written there. Its storage is repointed the way Ray repoints
    the restored trials' (``TuneController._restore_trials``).
    """

    def __init__(self, searcher: Searcher, storage_path: str, name: str, filesystem=None):
        super().__init__(searcher)
        self.storage_path, self.name, self.filesystem = storage_path, name, filesystem

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        experiment = self._experiment
        if experiment is None:
            return
        from ray.train._internal.storage import get_fs_and_path

        storage = copy.copy(experiment.storage)
        fs, fs_path = get_fs_and_path(self.storage_path, self.filesystem)
        storage.storage_filesystem, storage.storage_fs_path = fs, fs_path
        storage.experiment_dir_name = self.name
        experiment.storage = storage
        experiment.spec["storage"] = storage


def relocated(search_alg: Any, max_concurrent: int | None, run_config: Any) -> RelocatedSearch:
    """The restored searcher (limited to ``max_concurrent`` trials at once, as a fresh run
    does), creating trials where ``run_config`` (as ``Tuner.restore`` set it) points."""
    where = (run_config.storage_path, run_config.name, run_config.storage_filesystem)
    if isinstance(search_alg, RelocatedSearch):
        search_alg.storage_path, search_alg.name, search_alg.filesystem = where
        return search_alg
    if max_concurrent:
        search_alg = ConcurrencyLimiter(search_alg, max_concurrent=max_concurrent)
    return RelocatedSearch(search_alg, *where)
