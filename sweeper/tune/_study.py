"""The sweep's Optuna study: new trials' parameters, and a Ray trial's Optuna trial.

The study lives in persistent storage (a journal file in the sweep folder by default), so a
driver that dies and resumes finds every suggestion, report and stop record again. Ray trials
and Optuna trials are joined by the user attribute ``ray_trial_id``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from sweeper.config import SweepConfig
from sweeper.errors import InputError
from sweeper.pruning._record import store_training
from sweeper.space import Space
from sweeper.space._fields import thaw
from sweeper.tune._sampling import build_sampler, grid_params, sample

JOURNAL = "study.journal"  # the study's file inside the sweep folder, unless storage: says else
META_FILE = "sweep.json"  # where the sweep came from, how it was started, its study's name
STUDY_KEY = "study"  # key of META_FILE: the study's name (absent before 2026-12-06)
FOLDER_ATTR = "sweeper:folder"  # study user attribute: the sweep folder that created it
RAY_ID = "ray_trial_id"  # user attribute joining a Ray trial to its Optuna trial
CONFIG = "config"  # user attribute: every parameter of the trial, fixed ones included
BEST = "best"  # user attribute: {"step", "values"} at the trial's best objective value
OUTCOME = "outcome"  # user attribute: how the trial ended (rule, message, step, ...)
REUSE = "reuse"  # user attribute: asked as the driver died, never known to Ray: ask reuses it
FORMER_RAY_IDS = "former_ray_ids"  # user attribute: the ids a reused trial had before


@dataclass
class Outcome:
    """How a trial ended, as the sweep records it (also Optuna's state for it)."""

    rule: str  # converged, overfitting, diverged, cannot_catch_up, budget, error, removed
    message: str  # one sentence for people
    step: int | None = None  # the step it stopped at (its last step)
    best_step: int | None = None  # the step of its best objective value (the checkpoint kept)
    best_value: float | None = None  # its best objective value (first metric)

    @property
    def state(self) -> TrialState:
        if self.rule in ("converged", "budget"):
            return TrialState.COMPLETE
        if self.rule in ("error", "removed"):
            return TrialState.FAIL
        return TrialState.PRUNED

    def to_dict(self) -> dict[str, Any]:
        best = self.best_value
        return {
            "rule": self.rule,
            "message": self.message,
            "step": self.step,
            "best_step": self.best_step,
            "best_value": best if best is not None and math.isfinite(best) else None,
        }


class SweepStudy:
    """Opens (lazily) the study of one sweep; pickles as its address, never as a connection.

    Args:
        name: the study name (the sweep's name).
        storage: a journal path or an RDB URL (``storage:`` of the sweep file).
        directions: "minimize"/"maximize" per objective metric.
        sampler_kind, seed: ``sampler:`` of the sweep file.
        space: the search space (grid points are enqueued once, at creation).
        num_trials: how many grid points to enqueue.
        folder: the sweep folder (kept in the study it creates: a restart knows its own).
    """

    def __init__(
        self,
        name: str,
        storage: str,
        directions: list[str],
        sampler_kind: str = "tpe",
        seed: int | None = None,
        space: Space | None = None,
        num_trials: int = 0,
        folder: str | None = None,
    ) -> None:
        self.name = name
        self.storage = storage
        self.directions = list(directions)
        self.sampler_kind = sampler_kind
        self.seed = seed
        self.space = space
        self.num_trials = num_trials
        self._study: optuna.Study | None = None
        self._by_ray_id: dict[str, int] = {}  # ray trial id -> optuna _trial_id
        self.folder = folder  # the sweep folder, recorded in the study it creates

    @classmethod
    def for_sweep(
        cls, cfg: SweepConfig, sweep_dir: str | Path, name: str | None = None
    ) -> SweepStudy:
        """The study of the sweep folder ``sweep_dir`` (``name``: before sweep.json says)."""
        storage = str(Path(sweep_dir) / JOURNAL)
        if cfg.storage is not None:  # a URL as given; a journal path from the working dir
            storage = cfg.storage if "://" in cfg.storage else str(Path(cfg.storage).resolve())
        return cls(
            name or study_name(cfg, sweep_dir),
            storage,
            ["minimize" if m == "min" else "maximize" for m in cfg.objective.modes],
            cfg.sampler.kind,
            cfg.sampler.seed,
            cfg.parameters,
            cfg.budget.num_trials,
            str(sweep_dir),
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_study=None, _by_ray_id={})
        return state

    def rebind(self, sweep_dir: str | Path) -> None:
        """Point a default journal at a sweep folder that moved (resume from another mount)."""
        if Path(self.storage).name == JOURNAL and "://" not in self.storage:
            self.storage = str(Path(sweep_dir) / JOURNAL)
            self._study = None

    @property
    def study(self) -> optuna.Study:
        if self._study is None:
            from sweeper.tune.storage import open_study_storage

            storage = open_study_storage(self.storage)
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            try:
                study = optuna.load_study(study_name=self.name, storage=storage)
            except KeyError:
                study = None
            n_done = 0 if study is None else len(study.get_trials(deepcopy=False))
            sampler = build_sampler(self.sampler_kind, self.seed)
            if study is None:
                study = optuna.create_study(
                    study_name=self.name,
                    storage=storage,
                    directions=self.directions,
                    sampler=sampler,
                    load_if_exists=True,  # another process may create it first
                )
                if getattr(self, "folder", None) is not None:  # (pickles from before: none)
                    study.set_user_attr(FOLDER_ATTR, self.folder)
            else:
                # Loading writes nothing: `status` and `summarize` read the journal only.
                study.sampler = sampler
            if n_done == 0 and self.sampler_kind == "grid" and self.space is not None:
                self._enqueue_grid(study)
            self._study = study
        return self._study

    def check_new(self) -> None:
        """A new sweep must not join another sweep's study in a shared storage (a database,
        a journal named by ``storage:``): it would count that sweep's trials as its own."""
        from sweeper.tune.storage import open_study_storage

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            storage = open_study_storage(self.storage)
            found = optuna.load_study(study_name=self.name, storage=storage)
        except KeyError:
            return
        n = len(found.get_trials(deepcopy=False))
        same = [d.name.lower() for d in found.directions] == self.directions
        if same and (n == 0 or found.user_attrs.get(FOLDER_ATTR) == self.folder):
            return  # this folder's own start that never ran a trial (it is started over)
        raise InputError(
            f"the study storage {self.storage!r} already holds a study named {self.name!r} "
            f"({n} trial(s), {'/'.join(d.name.lower() for d in found.directions)}): another "
            f"sweep's; fix: --name {self.name}-2 for this one, or `sweeper resume` that sweep"
        )

    def _enqueue_grid(self, study: optuna.Study) -> None:
        import random

        points = self.space.grid() if self.space is not None else []
        random.Random(self.seed).shuffle(points)  # a seeded order; num_trials may be < grid
        for point in points[: self.num_trials]:
            study.enqueue_trial(grid_params(self.space, point), user_attrs={"grid": True})

    def ask(self, ray_trial_id: str) -> dict[str, Any]:
        """The parameters of a new trial (or of the one already asked for ``ray_trial_id``)."""
        found = self.find(ray_trial_id)
        if found is not None:
            return dict(found.user_attrs[CONFIG])
        study = self.study
        for old in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if old.user_attrs.get(REUSE):  # asked as the driver died (see _recover.mend)
                former = [*old.user_attrs.get(FORMER_RAY_IDS, ()), old.user_attrs.get(RAY_ID)]
                self.set_attr(old._trial_id, FORMER_RAY_IDS, former)
                self.set_attr(old._trial_id, RAY_ID, ray_trial_id)
                self.set_attr(old._trial_id, REUSE, False)
                self._by_ray_id[ray_trial_id] = old._trial_id
                return dict(old.user_attrs[CONFIG])
        trial = study.ask()
        chosen = sample(trial, self.space) if self.space is not None else {}
        config = {name: thaw(value) for name, value in chosen.items()}
        trial.set_user_attr(RAY_ID, ray_trial_id)
        trial.set_user_attr(CONFIG, config)
        self._by_ray_id[ray_trial_id] = trial._trial_id
        return config

    def created(self) -> int:
        """How many trials Ray has been given (not the grid's enqueued ones, nor one that
        ``ask`` is to give again)."""
        trials = self.study.get_trials(deepcopy=False)
        return sum(t.state != TrialState.WAITING and not t.user_attrs.get(REUSE) for t in trials)

    def find(self, ray_trial_id: str) -> FrozenTrial | None:
        """The Optuna trial of a Ray trial, or None."""
        storage = self.study._storage
        trial_id = self._by_ray_id.get(ray_trial_id)
        if trial_id is not None:
            return storage.get_trial(trial_id)
        for trial in self.study.get_trials(deepcopy=False):
            if trial.user_attrs.get(RAY_ID) == ray_trial_id:
                self._by_ray_id[ray_trial_id] = trial._trial_id
                return trial
        return None

    def set_attr(self, trial_id: int, key: str, value: Any) -> None:
        self.study._storage.set_trial_user_attr(trial_id, key, value)

    def report(self, trial_id: int, step: int, value: float) -> None:
        """An intermediate value (the storage call ``Trial.report`` makes, without its
        single-objective check: the pruning series is the first metric in every study)."""
        self.study._storage.set_trial_intermediate_value(trial_id, step, value)

    def report_training(self, trial_id: int, step: int, value: float) -> None:
        """The training metric beside it, where the pruner reads it (non-finite: dropped)."""
        store_training(self.study._storage, trial_id, step, value)

    def tell(self, trial_id: int, outcome: Outcome) -> None:
        """Finish a trial with its best values (COMPLETE), or as PRUNED or FAIL."""
        trial = self.study._storage.get_trial(trial_id)
        if trial.state.is_finished():
            return  # told before the driver died; a resumed sweep must not tell it twice
        state = outcome.state
        values = None
        best = trial.user_attrs.get(BEST)
        if state == TrialState.COMPLETE:
            if best is not None:
                values = [best["values"].get(m) for m in best["metrics"]]
            if values is None or any(v is None or not math.isfinite(v) for v in values):
                # Completed without every objective value: nothing to rank, a FAIL that the
                # table counts as an error (it said "budget" until 2026-12-07).
                state, values = TrialState.FAIL, None
                message = f"{outcome.message} with no value of every objective to rank"
                outcome = replace(outcome, rule="error", message=message)
        self.set_attr(trial_id, OUTCOME, outcome.to_dict())
        self.study.tell(trial.number, values, state=state, skip_if_finished=True)


def study_name(cfg: SweepConfig, sweep_dir: str | Path) -> str:
    """The Optuna study of a sweep folder: the name its start recorded (the folder's name,
    so sweeps of one space file under several ``--name`` keep apart in a shared storage),
    or the space's ``name:`` for folders from before 2026-12-06."""
    from sweeper.tune import remote

    try:
        if remote.is_uri(sweep_dir):
            text = remote.read_text(str(sweep_dir), META_FILE)
        else:
            text = (Path(sweep_dir) / META_FILE).read_text(encoding="utf-8")
        meta = json.loads(text) if text is not None else None
    except (OSError, ValueError):
        meta = None
    name = meta.get(STUDY_KEY) if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name else cfg.name
