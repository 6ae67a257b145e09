"""Reopen a sweep folder: resume it (one driver at a time, after mending what a killed
driver left), or show its status (reading only)."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

from optuna.trial import TrialState

from sweeper.config import SweepConfig, load_sweep, load_yaml_with_lines
from sweeper.errors import InputError
from sweeper.tune import remote
from sweeper.tune._checkpoints import mend_checkpoints
from sweeper.tune._checks import check_run_state
from sweeper.tune._deadline import check_limit
from sweeper.tune._edits import check_unchanged
from sweeper.tune._journal import (
    journal_gaps,
    open_existing,
    repair_journal,
    warn_gaps,
)
from sweeper.tune._lock import LOCK_FILE, DriverLock, driver_running
from sweeper.tune._recover import mend, never_started, not_started_error, ray_trial_ids
from sweeper.tune._run import (
    DEFAULT_STORAGE,
    META_FILE,
    SWEEP_FILE,
    Summary,
    _fit,
    _trainable,
    check_resources,
    connect_ray,
    summarize,
)
from sweeper.tune._signals import interruptible
from sweeper.tune._study import JOURNAL, SweepStudy

TUNER_FILE = "tuner.pkl"  # Ray Tune's Tuner, pickled at the start: what Tuner.restore needs


def load_sweep_dir(sweep_dir: str | Path) -> tuple[Path | str, SweepConfig]:
    """The folder (a URI for an object store) and its search space, or a one-line error
    saying what is missing."""
    if remote.is_uri(sweep_dir):
        uri = str(sweep_dir)
        local = remote.fetch(uri, SWEEP_FILE)
        if local is None:
            raise InputError(
                f"{uri!r} is not a sweep folder (no {SWEEP_FILE}); fix: give the folder "
                "`sweeper run --storage` made, e.g. s3://bucket/sweeps/<name>"
            )
        return uri, load_sweep(local)
    folder = Path(sweep_dir).expanduser().resolve()
    if not folder.exists():
        raise InputError(
            f"{str(folder)!r} does not exist; fix: give the folder `sweeper run` made, "
            f"e.g. {DEFAULT_STORAGE}/<name> (`ls {DEFAULT_STORAGE}` lists them)"
        )
    only_lock = folder.is_dir() and {p.name for p in folder.iterdir()} == {LOCK_FILE}
    if only_lock and driver_running(folder) is None:  # (a live start is run's to finish)
        raise InputError(
            f"{str(folder)!r} holds nothing but {LOCK_FILE}: a `sweeper run` died as it "
            "started, before writing anything; fix: run the space again, into it "
            f"(`sweeper run SPACE.yaml --name {folder.name} --storage {folder.parent}`) or "
            f"after `rm -r {folder}`"
        )
    if not (folder / SWEEP_FILE).is_file():
        example = f"{DEFAULT_STORAGE}/<name>"
        if folder.is_file() and folder.suffix in (".yaml", ".yml"):  # the space, not its folder
            example = f"{DEFAULT_STORAGE}/{_space_name(folder) or '<name>'}"
        raise InputError(
            f"{str(folder)!r} is not a sweep folder (no {SWEEP_FILE}); fix: give the folder "
            f"`sweeper run` made, e.g. {example}"
        )
    check_unchanged(folder, SWEEP_FILE, META_FILE)
    # Relative paths (base.config, data.dir, storage, sovits.*) are relative to where the
    # sweep ran, not to where this command runs (a probe: status, summarize and export-best
    # failed outside it, with a fix that editing the refused sweep.yaml could not apply).
    return folder, load_sweep(folder / SWEEP_FILE, root=_ran_in(folder))


def _ran_in(folder: Path) -> Path | None:
    """The working directory ``sweeper run`` recorded in sweep.json, if it is here."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cwd = meta.get("cwd") if isinstance(meta, dict) else None
    return Path(cwd) if isinstance(cwd, str) and Path(cwd).is_dir() else None


def resume_sweep(
    sweep_dir: str | Path, *, address: str | None = None, time_limit_s: float | None = None
) -> Summary:
    """Continue a sweep whose driver died (or was interrupted): unfinished and errored trials
    go on from their checkpoints, finished ones stay as they are, missing ones start.
    ``time_limit_s`` limits this driver run as in :func:`run_sweep`."""
    with interruptible():  # from the start: Ray Tune's own handler comes with fit() only
        return _resume_sweep(sweep_dir, address, time_limit_s)


def _resume_sweep(sweep_dir, address, time_limit_s) -> Summary:
    check_limit(time_limit_s)
    folder, cfg = load_sweep_dir(sweep_dir)
    if not isinstance(folder, Path):
        return _resume(folder, cfg, address, time_limit_s)
    lock = DriverLock(folder, "sweeper resume").acquire()  # not two drivers on one folder
    try:
        if never_started(folder):
            try:
                meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}  # the fix then names SPACE.yaml
            raise not_started_error(folder, meta if isinstance(meta, dict) else {})
        note = repair_journal(folder / JOURNAL)  # before anything appends to it
        if note is not None:
            print(f"note: {note}")
        # A lost journal: refuse, rather than start an empty study; a cut one would train
        # the trials it lost again.
        gaps = journal_gaps(open_existing(cfg, folder), folder)
        if gaps is not None:
            raise InputError(
                f"{gaps}; resuming would train them again; fix: restore {JOURNAL} (a backup, "
                "or the copy on the machine that ran the sweep)"
            )
        try:
            check_run_state(folder)
            lost = None if (folder / TUNER_FILE).is_file() else _no_tuner(folder)
        except InputError as err:
            lost = err
        if lost is not None:  # before Ray starts: Ray cannot go on without them
            return _finished_without_ray_state(folder, cfg, lost)
        for note in mend_checkpoints(folder):  # else Ray fails such a trial 3 times: FAIL
            print(f"note: {note}")
        return _resume(folder, cfg, address, time_limit_s)
    finally:
        lock.release()


def _resume(
    folder: Path | str, cfg: SweepConfig, address: str | None, time_limit_s: float | None
) -> Summary:
    note = check_resources(cfg, joined=connect_ray(address))
    if note is not None:
        print(f"note: {note}")
    from ray import tune

    from sweeper.tune._progress import SweepProgress
    from sweeper.tune._searcher import sweep_search
    from sweeper.tune._settle import settle

    if not tune.Tuner.can_restore(str(folder)):
        raise _no_tuner(folder, "its unfinished trials")
    try:
        tuner = tune.Tuner.restore(
            str(folder), trainable=_trainable(cfg), resume_unfinished=True, resume_errored=True
        )
    except (EOFError, pickle.UnpicklingError) as err:
        raise InputError(
            f"{folder}/tuner.pkl cannot be read ({err}); fix: restore it (a backup), or keep "
            "the finished trials (status, summarize, export-best read them) and `sweeper "
            "run` its sweep.yaml as a new sweep (--name NAME-2)"
        ) from None
    config = tuner._local_tuner._tune_config  # restored from tuner.pkl with our parts in it
    # New trials go where the folder is now, not where the sweep started (it may have moved).
    config.search_alg = sweep_search(
        config.search_alg, config.max_concurrent_trials, tuner._local_tuner._run_config
    )
    config.max_concurrent_trials = None  # the limiter is inside search_alg now
    study: SweepStudy = config.scheduler.sweep
    study.rebind(folder)  # the folder may be mounted elsewhere now
    if isinstance(folder, Path):
        for note in mend(study, ray_trial_ids(folder)):
            print(f"note: {note}")
        for note in settle(config.scheduler, folder):  # else RUNNING for ever: exit 130
            print(f"note: {note}")
    for callback in tuner._local_tuner._run_config.callbacks or ():
        if isinstance(callback, SweepProgress):
            callback.sweep = study  # (the one rebound above)
            callback.restart()  # pickled at the first start: counts what has ended since
    return _fit(tuner, cfg, folder, study, time_limit_s, address)


def _finished_without_ray_state(folder: Path, cfg: SweepConfig, lost: InputError) -> Summary:
    """A folder that lost Ray's state (tuner.pkl, experiment_state-*.json): a finished sweep
    needs none (resuming it is a no-op); an unfinished one cannot go on (``lost`` says so).
    A lost tuner.pkl used to say "remove the folder": every finished trial deleted with it."""
    study = SweepStudy.for_sweep(cfg, folder)
    study._study = open_existing(cfg, folder)
    summary = summarize(cfg, folder, study, 0.0)
    open_ = sum(1 for row in summary.table if row.state in ("RUNNING", "WAITING"))
    left = open_ + max(0, cfg.budget.num_trials - len(summary.table))
    if left:
        raise lost
    print(f"note: {folder} is a finished sweep ({len(summary.table)} trials ended): nothing "
          "to resume (Ray's state is gone, but no trial needs it)")  # fmt: skip
    return summary


def _no_tuner(folder: Path | str, what: str = "its unfinished trials") -> InputError:
    name = str(folder).rstrip("/").rsplit("/", 1)[-1]
    where = f" --storage {folder.parent}" if isinstance(folder, Path) else ""
    return InputError(
        f"{folder}/{TUNER_FILE} (Ray Tune's state) is missing, so {what} cannot be resumed; "
        "fix: restore it (a backup), or keep the finished trials as they are (status, "
        f"summarize and export-best read them) and `sweeper run` its {SWEEP_FILE} as a new "
        f"sweep (--name {name}-2{where})"
    )


def sweep_status(sweep_dir: str | Path) -> Summary:
    """The table of a sweep folder, running or not (reads only the study: never writes)."""
    folder, cfg = load_sweep_dir(sweep_dir)
    study = SweepStudy.for_sweep(cfg, folder)
    study._study = open_existing(cfg, folder)
    summary = summarize(cfg, folder, study, 0.0)
    if isinstance(folder, Path):
        warn_gaps(study._study, folder)
        stopped = _stopped(folder, summary)
        if stopped is not None:
            print(f"warning: {stopped}", file=sys.stderr)
    return summary


def _stopped(folder: Path, summary: Summary) -> str | None:
    """Trials the study has RUNNING while no driver holds the folder: it was killed."""
    running = sum(1 for row in summary.table if row.state == "RUNNING")
    if not running or not (folder / LOCK_FILE).exists() or driver_running(folder) is not None:
        return None
    return (
        f"{running} trial(s) RUNNING in the study, but no driver is running this sweep (it "
        f"was stopped or killed); fix: `sweeper resume {folder}` continues them"
    )


def unfinished_warning(sweep_dir: str | Path) -> str | None:
    """For summarize and export-best: a sweep with trials not done (running, killed, or
    not started yet) ranks what has ended so far, and its winner may change (they used to
    print a winner and "#1 still running" of a killed sweep without a word)."""
    folder, cfg = load_sweep_dir(sweep_dir)
    trials = open_existing(cfg, folder).get_trials(deepcopy=False)
    left = sum(1 for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING))
    left += max(0, cfg.budget.num_trials - len(trials))
    if not left:
        return None
    if not isinstance(folder, Path):
        who, fix = "its driver may be running", f"`sweeper status {folder}`"
    elif driver_running(folder) is not None:
        who, fix = "its driver is running", "wait for it to end"
    else:
        who, fix = "no driver is running it", f"`sweeper resume {folder}` finishes it"
    return (
        f"{folder} is an unfinished sweep ({left} of {cfg.budget.num_trials} trial(s) not "
        f"done; {who}): the ranking and the winner may change; fix: {fix}"
    )


def _space_name(space: Path) -> str | None:
    """The ``name:`` of a search space file, if it reads (for a hint only)."""
    try:
        data, _ = load_yaml_with_lines(space)
    except InputError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None
