"""A Ray Tune searcher that samples the sweep's search space through its Optuna study."""

from __future__ import annotations

import copy
import glob
import os
from typing import Any

from ray import cloudpickle
from ray.train._internal.storage import get_fs_and_path
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

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        # The study, not Ray's count, says when all are made: a resume whose count was lost
        # (a cut search state) would otherwise train a trial too many, or none.
        if self.sweep.find(trial_id) is None and self.sweep.created() >= self.sweep.num_trials:
            return Searcher.FINISHED
        return {"params": self.sweep.ask(trial_id)}

    def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
        pass  # told by PrunerScheduler.on_trial_complete / on_trial_error

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "w", encoding="utf-8") as f:
            f.write(self.sweep.storage)  # a marker Tune can find; the state is in the study

    def restore(self, checkpoint_path: str) -> None:
        pass  # the study is reopened where the sweep folder now is (SweepStudy.rebind)


EXPERIMENT_FILE = "search_experiment.pickle"  # not .pkl/.json: Ray never syncs it over


class SweepSearch(SearchGenerator):
    """Ray's search generator, with two mends for a resumed sweep.

    - **The folder moved** (copied, renamed, mounted elsewhere): new trials go to the folder
      being resumed. The generator's saved state holds the ``Experiment`` of the first run,
      whose storage names the original folder: every trial it created after a resume was
      written there. Its storage is repointed the way Ray repoints the restored trials'
      (``TuneController._restore_trials``).
    - **Its saved state is unreadable**: a driver killed while Ray copied its state into the
      sweep folder left ``search_gen_state-*.json`` cut (0 bytes, on CI); Ray then dropped
      the whole run state ("Failed to restore the run state") and the unfinished trial never
      ended. An older readable state is taken instead, else the ``Experiment`` this class
      wrote once at the start (:data:`EXPERIMENT_FILE`, outside Ray's syncing); the study,
      not the generator's count, says when every trial has been created.
    """

    def __init__(self, searcher: Searcher, storage_path: str, name: str, filesystem=None):
        super().__init__(searcher)
        self.storage_path, self.name, self.filesystem = storage_path, name, filesystem

    def add_configurations(self, experiments) -> None:
        super().add_configurations(experiments)
        storage = self._experiment.storage
        _write_atomic(
            storage.storage_filesystem,
            f"{storage.experiment_fs_path}/{EXPERIMENT_FILE}",
            cloudpickle.dumps(self._experiment),
        )

    def has_checkpoint(self, dirpath: str) -> bool:
        return True  # restore_from_dir finds what is readable (Ray's own raised on a cut file)

    def restore_from_dir(self, dirpath: str) -> None:
        pattern = os.path.join(dirpath, self.CKPT_FILE_TMPL.format("*"))
        cut = []
        for path in sorted(glob.glob(pattern), reverse=True):  # newest first, as Ray picks
            try:
                with open(path, "rb") as f:
                    state = cloudpickle.load(f)
            except Exception as err:  # any unreadable pickle (EOFError, ...): an older one
                cut.append(f"{os.path.basename(path)} (Ray's search state) cannot be read "
                           f"({type(err).__name__})")  # fmt: skip
                continue
            if cut:
                print(f"note: {'; '.join(cut)}; resuming from {os.path.basename(path)}")
            searcher = self.searcher
            while hasattr(searcher, "searcher"):  # the wrappers' state (ConcurrencyLimiter)
                key = "name:" + type(searcher).__name__
                if key in state:
                    searcher.set_state(state.pop(key))
                searcher = searcher.searcher
            searcher.restore_from_dir(dirpath)
            self.set_state(state)
            return
        experiment = self._saved_experiment()
        cut.append("no older one" if cut else "no search_gen_state-*.json is there")
        if experiment is None:
            print(f"note: {'; '.join(cut)}, nor {EXPERIMENT_FILE} (a sweep from before "
                  "2026-12-08): trials not created yet will not start")  # fmt: skip
            return
        created = self._created()
        print(f"note: {'; '.join(cut)}; resuming from {EXPERIMENT_FILE} ({created} trial(s) "
              "created so far)")  # fmt: skip
        self.set_state(
            {"counter": created, "total_samples": experiment.spec.get("num_samples", 1),
             "finished": False, "experiment": experiment}
        )  # fmt: skip

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        experiment = self._experiment
        if experiment is None:
            return
        storage = copy.copy(experiment.storage)
        fs, fs_path = get_fs_and_path(self.storage_path, self.filesystem)
        storage.storage_filesystem, storage.storage_fs_path = fs, fs_path
        storage.experiment_dir_name = self.name
        experiment.storage = storage
        experiment.spec["storage"] = storage

    def _saved_experiment(self):
        fs, fs_path = get_fs_and_path(self.storage_path, self.filesystem)
        try:
            with fs.open_input_stream(f"{fs_path}/{self.name}/{EXPERIMENT_FILE}") as f:
                return cloudpickle.loads(f.readall())
        except Exception:  # absent (a sweep from before it) or unreadable
            return None

    def _created(self) -> int:
        searcher = self.searcher
        while hasattr(searcher, "searcher"):
            searcher = searcher.searcher
        return searcher.sweep.created() if isinstance(searcher, SpaceSearcher) else 0


RelocatedSearch = SweepSearch  # its name until 2026-12-08: a resumed sweep's tuner.pkl holds it


def _write_atomic(fs, path: str, data: bytes) -> None:
    """Write through a temporary name and a rename: a kill leaves the old file or none."""
    tmp = f"{path}.tmp"
    with fs.open_output_stream(tmp) as f:
        f.write(data)
    fs.move(tmp, path)


def sweep_search(search_alg: Any, max_concurrent: int | None, run_config: Any) -> SweepSearch:
    """The search of a sweep, new or restored: at most ``max_concurrent`` trials at once,
    created where ``run_config`` (as ``Tuner.restore`` set it, on a resume) points."""
    where = (run_config.storage_path, run_config.name, run_config.storage_filesystem)
    if isinstance(search_alg, SweepSearch):
        search_alg.storage_path, search_alg.name, search_alg.filesystem = where
        return search_alg
    if max_concurrent:
        search_alg = ConcurrencyLimiter(search_alg, max_concurrent=max_concurrent)
    return SweepSearch(search_alg, *where)
