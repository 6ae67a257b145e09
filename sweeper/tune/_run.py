"""Start, resume and inspect a sweep: Ray Tune with our searcher, scheduler and trainable."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import threading
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from sweeper.config import SweepConfig
from sweeper.config._schema import is_folder_name
from sweeper.errors import InputError
from sweeper.tune import remote
from sweeper.tune._checks import preflight
from sweeper.tune._deadline import Deadline, check_limit, format_duration
from sweeper.tune._edits import SPACE_KEY
from sweeper.tune._journal import open_existing
from sweeper.tune._lock import LOCK_FILE, DriverLock
from sweeper.tune._ray import check_resources, connect_ray
from sweeper.tune._recover import never_started
from sweeper.tune._signals import as_interrupt, interruptible
from sweeper.tune._study import JOURNAL, META_FILE, STUDY_KEY, SweepStudy
from sweeper.tune._table import Row, compute, ranked, rows
from sweeper.tune._undo import undo_start
from sweeper.tune.storage import check_storage_path

SWEEP_FILE = "sweep.yaml"  # the search space as given, copied into the sweep folder
DEFAULT_STORAGE = "sweeps"  # --storage default, relative to the working directory


@dataclass(frozen=True)
class Summary:
    """What a finished (or interrupted) sweep run reports."""

    sweep_dir: str  # the sweep folder
    table: list[Row]  # trials, best first
    steps_run: int  # training steps the trials that ended by a rule ran
    steps_budget: int  # steps they would have run without early stops
    not_counted: int  # started trials left out of both: unfinished or failed
    wall_s: float  # wall time of this driver run
    time_limit_s: float | None = None  # the --time-limit that stopped this run, if one did


def _study_and_parts(cfg: SweepConfig, sweep_dir: Path | str):
    from sweeper.pruning import ConvergencePruner
    from sweeper.tune._progress import SweepProgress
    from sweeper.tune._scheduler import PrunerScheduler
    from sweeper.tune._searcher import SpaceSearcher

    study = SweepStudy.for_sweep(cfg, sweep_dir)
    p, obj = cfg.pruner, cfg.objective
    pruner = None
    if p is not None:
        with warnings.catch_warnings():
            # Its short-budget warning counts steps as reports and names plain-Optuna fixes;
            # the sweep's own note counts evaluations (few_points_note, said before Ray).
            warnings.filterwarnings("ignore", message="ConvergencePruner: budget=")
            pruner = ConvergencePruner(
                budget=cfg.budget.max_steps,
                epsilon=p.epsilon,
                alpha=p.alpha,
                n_warmup_steps=p.n_warmup_steps,
                catch_up=p.catch_up and not obj.multi,  # trailing on one metric is not losing
                metric=obj.metrics[0],
                train_metric=_train_metric(cfg.trainer, p.train_metric),
            )
    scheduler = PrunerScheduler(
        study, list(obj.metrics), list(obj.modes), pruner, cfg.budget.max_steps
    )
    progress = SweepProgress(
        study, obj.metrics[0], obj.modes[0], cfg.budget.num_trials, cfg.budget.max_steps,
        others=obj.metrics[1:],  # shown beside the best (the line showed the first only)
    )  # fmt: skip
    return study, SpaceSearcher(study), scheduler, progress


def _train_metric(trainer: str, setting: str | None) -> str | None:
    """The pruner's training metric: the trainer's own for "auto", else as set (None: none)."""
    from sweeper.trainers import TRAIN_METRIC

    return TRAIN_METRIC.get(trainer) if setting == "auto" else setting


def _trainable(cfg: SweepConfig):
    from ray import tune

    from sweeper.tune._trainable import Job, run_trial

    options = None
    if cfg.sovits is not None:  # paths absolute: trials run in their own folders and nodes
        options = cfg.sovits.resolved(Path.cwd()).to_options()
    job = Job.from_sweep(cfg, options)
    resources = {"cpu": cfg.resources.cpu, "gpu": cfg.resources.gpu}
    return tune.with_resources(tune.with_parameters(run_trial, job=job), resources)


def _trial_dirname(trial) -> str:
    return f"trial_{trial.trial_id}"


def run_sweep(
    space_file: str | Path,
    *,
    address: str | None = None,
    name: str | None = None,
    storage: str | Path | None = None,
    time_limit_s: float | None = None,
) -> Summary:
    """Run the sweep of ``space_file``; results go to ``storage/name`` (a new folder).

    ``time_limit_s``: stop this driver run as Ctrl-C does after that many seconds (resumable).
    """
    with interruptible():  # from the start: Ray Tune's own handler comes with fit() only
        return _run_sweep(space_file, address, name, storage, time_limit_s)


def _run_sweep(space_file, address, name, storage, time_limit_s) -> Summary:
    check_limit(time_limit_s)
    cfg, absent, notes = preflight(space_file)
    if absent is not None:
        where = f"data.dir {cfg.data.dir!r} of {space_file}"
        if address is None:  # this machine is the only node: every trial would fail on it
            fix = (
                "set data.dir to the folder the filelists' relative wav paths start from "
                "(usually the so-vits-svc checkout), or sovits.train_list/val_list to the lists"
                if cfg.trainer == "sovits-svc"
                else "point data.dir at the dataset root (the folder holding filelists/), or "
                "make a toy set there with `sweeper data toy DIR`"
            )
            raise InputError(f"{where}: {absent}; fix: {fix}")
        print(f"warning: {where}: {absent} on this machine; every node that trains needs it")
    for note in notes:
        print(f"note: {note}")
    if name is not None and not is_folder_name(name):  # as the YAML name: one folder
        raise InputError(
            f"--name must be a folder-safe name (got {name!r}); fix: use letters, digits, "
            f". _ - (starting with a letter or digit), e.g. --name {cfg.name}-2"
        )
    name = name or cfg.name
    where = str(storage if storage is not None else DEFAULT_STORAGE)
    text = Path(space_file).read_text(encoding="utf-8")
    meta = {
        "source": str(Path(space_file).resolve()),
        "cwd": os.getcwd(),
        "started": time.time(),
        SPACE_KEY: text,  # sweep.yaml as started: a later edit is refused, not half-used
        STUDY_KEY: name,  # the study is the folder's: --name keeps sweeps of one file apart
    }
    sweep_dir: Path | str
    if remote.is_uri(where):
        root_text = check_storage_path(where)
        sweep_dir = remote.join(root_text, name)
        _check_remote_study(cfg, where)
        taken = remote.read_text(sweep_dir, SWEEP_FILE) is not None
    else:
        if "://" in where and not where.startswith("file://"):
            check_storage_path(where)  # an unknown scheme (ftp://, gcs://): refused, not a folder
        root = Path(
            check_storage_path(str(Path(where.removeprefix("file://")).expanduser().resolve()))
        )
        root_text, sweep_dir = str(root), root / name
        taken = (sweep_dir / SWEEP_FILE).exists()
    local = isinstance(sweep_dir, Path)
    lock = None
    if local:
        existed = sweep_dir.exists()
        sweep_dir.mkdir(parents=True, exist_ok=True)
        try:
            lock = DriverLock(sweep_dir, "sweeper run").acquire()  # held to the end
        except BaseException:
            if not existed:
                shutil.rmtree(sweep_dir, ignore_errors=True)
            raise
        if taken and never_started(sweep_dir):  # a start killed before any trial ran
            print(f"note: {sweep_dir} holds a start that never ran a trial: starting over")
            undo_start(sweep_dir, True, False, (SWEEP_FILE, META_FILE))
            taken = False
    try:
        if taken:
            journal = sweep_dir / JOURNAL
            if local and cfg.storage is None and journal.is_file() and not journal.stat().st_size:
                # An emptied journal: not "resume" (it refuses). Only then: opened under this
                # space's name, an older folder's study (no study key) read as lost.
                open_existing(cfg, sweep_dir)
            raise InputError(
                f"{str(sweep_dir)!r} already holds a sweep; fix: `sweeper resume {sweep_dir}` "
                f"to continue it, or --name {name}-2 for a new one"
            )
        journal_existed = local and (sweep_dir / JOURNAL).exists()
        try:
            # Ray and the cluster's size first: a request no node can meet writes nothing.
            note = check_resources(cfg, space_file, joined=connect_ray(address))
            if note is not None:
                print(f"note: {note}")
            tuner, study = _start(cfg, sweep_dir, name, root_text, text, meta)
        except BaseException:
            if local:  # a failed start leaves no half-made sweep (a retry would be refused)
                undo_start(sweep_dir, existed, journal_existed, (SWEEP_FILE, META_FILE, LOCK_FILE))
            raise
        return _fit(tuner, cfg, sweep_dir, study, time_limit_s, address)
    finally:
        if lock is not None:
            lock.release()


def _start(cfg: SweepConfig, sweep_dir: Path | str, name: str, root_text: str, text, meta):
    """Write the sweep folder's files, create the study, and build the Tuner."""
    if cfg.storage is not None:  # shared with other sweeps (the folder's own journal is not)
        SweepStudy.for_sweep(cfg, sweep_dir, name).check_new()  # before anything is written
    for file_name, content in ((SWEEP_FILE, text), (META_FILE, json.dumps(meta, indent=1))):
        if isinstance(sweep_dir, Path):
            sweep_dir.mkdir(parents=True, exist_ok=True)
            (sweep_dir / file_name).write_text(content, encoding="utf-8")
        else:
            remote.write_text(sweep_dir, file_name, content)
    from ray import tune
    from ray.tune.logger import JsonLoggerCallback

    from sweeper.tune._progress_csv import ProgressCsv
    from sweeper.tune._searcher import sweep_search

    study, searcher, scheduler, progress = _study_and_parts(cfg, sweep_dir)
    study.study  # noqa: B018 - create the study (and enqueue a grid) before any trial
    run_config = tune.RunConfig(
        name=name,
        storage_path=root_text,
        failure_config=tune.FailureConfig(max_failures=3),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
        callbacks=[progress, JsonLoggerCallback(), ProgressCsv()],
        verbose=0,
    )
    tuner = tune.Tuner(
        _trainable(cfg),
        tune_config=tune.TuneConfig(
            search_alg=sweep_search(searcher, cfg.budget.concurrency, run_config),
            scheduler=scheduler,
            num_samples=cfg.budget.num_trials,
            trial_dirname_creator=_trial_dirname,
            reuse_actors=False,
        ),
        run_config=run_config,
    )
    return tuner, study


def _check_remote_study(cfg: SweepConfig, where: str) -> None:
    """An object store holds Ray's files, not the Optuna study: a journal needs appends and
    locks, which object stores do not have."""
    if cfg.storage is None:
        raise InputError(
            f"--storage {where!r} is an object store, where the study journal cannot live; "
            "fix: set `storage:` in the search space to a database URL every node reaches "
            "(postgresql://user:pw@host:5432/db) or a journal on a shared folder"
        )


def resume_command(sweep_dir, address: str | None) -> str:
    """``sweeper resume DIR``, with the cluster's ``--address`` where the sweep ran on one
    (without it resume starts a local Ray; a probe, 2026-12-08)."""
    tail = "" if address is None else f" --address {shlex.quote(address)}"
    return f"sweeper resume {shlex.quote(str(sweep_dir))}{tail}"


def _fit(
    tuner,
    cfg: SweepConfig,
    sweep_dir: Path | str,
    study: SweepStudy,
    time_limit_s: float | None = None,
    address: str | None = None,
) -> Summary:
    started = time.monotonic()
    main = threading.current_thread() is threading.main_thread()
    if time_limit_s is not None and main:  # (off the main thread no deadline can stop it)
        limit = format_duration(time_limit_s)
        print(f"time limit: this run stops after {limit}, resumable with `sweeper resume`")
    # SIGTERM (a scheduler's stop, `kill`) as Ctrl-C: Ray Tune stops the trials and saves
    # its state, instead of Ray's core dumping a stack trace.
    previous = signal.signal(signal.SIGTERM, as_interrupt) if main else None
    try:
        with Deadline(time_limit_s) as deadline:
            tuner.fit()
        summary = summarize(cfg, sweep_dir, study, time.monotonic() - started)
    except KeyboardInterrupt:
        # A second Ctrl-C while Ray Tune stops its trials: no table follows, so the line
        # says how to go on (it said only "interrupted"; a probe, 2026-12-07).
        raise KeyboardInterrupt(
            f"before the trials stopped; `{resume_command(sweep_dir, address)}` continues "
            "the sweep"
        ) from None
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
    return replace(summary, time_limit_s=time_limit_s) if deadline.fired else summary


def summarize(
    cfg: SweepConfig, sweep_dir: Path | str, study: SweepStudy, wall_s: float
) -> Summary:
    table = ranked(rows(study), cfg.objective.modes[0])
    return Summary(str(sweep_dir), table, *compute(table, cfg.budget.max_steps), wall_s)
