"""What runs inside a Ray trial: restore the checkpoint, call the trainer, relay its reports."""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sweeper.config import SweepConfig, ToyData
from sweeper.errors import InputError
from sweeper.trainers._api import TrialSpec
from sweeper.tune import _scratch

TRAINERS = {
    "reference": "sweeper.trainers.reference.sweep",
    "sovits-svc": "sweeper.trainers.sovits_svc",
}
RUN = "run"  # the trainer's folder inside the trial's folder
PLACEMENT = "placement.jsonl"  # one line per start of the trial: node, pid, devices
REFUSED = "sweeper/input_error"  # result key: the trainer refused its input (no retry helps)


@dataclass(frozen=True)
class Job:
    """What every trial of one sweep shares; plain data so it pickles to any node."""

    trainer: str  # a key of TRAINERS
    max_steps: int  # budget.max_steps
    cpus: float  # resources.cpu
    preset: str | None  # base.preset
    config: str | None  # base.config, absolute
    data_dir: str | None  # data.dir, absolute
    toy: dict[str, Any] | None  # data.toy as a dict (generated per node, cached)
    options: dict[str, Any]  # trainer-specific settings
    # objective.metrics with their modes: the trainer keeps its best checkpoint by the first,
    # as the scheduler picks the study's best step (a Job pickled before has none: val/mel)
    objective: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_sweep(cls, cfg: SweepConfig, options: dict[str, Any] | None = None) -> Job:
        absolute = lambda p: None if p is None else str(Path(p).expanduser().resolve())  # noqa: E731
        toy = cfg.data.toy
        return cls(
            cfg.trainer,
            cfg.budget.max_steps,
            cfg.resources.cpu,
            cfg.base.preset,
            absolute(cfg.base.config),
            absolute(cfg.data.dir),
            None if toy is None else asdict(toy),
            dict(options or {}),
            tuple(zip(cfg.objective.metrics, cfg.objective.modes, strict=True)),
        )


def toy_data(job: Job) -> str:
    """The toy set of this sweep on this node: generated once, under a file lock, then reused
    (it is a pure function of its settings, so every node makes the same one)."""
    from sweeper.data.toy import ToySpec, write_toy_dataset
    from sweeper.trainers.reference.config import load_config

    toy = ToyData(**(job.toy or {}))
    base = load_config(job.preset if job.preset is not None else str(job.config))
    spec = ToySpec(
        n_speakers=toy.speakers,
        clips_per_speaker=toy.clips,
        val_per_speaker=toy.val,
        seconds=toy.seconds,
        sampling_rate=base.data.sampling_rate,
        hop_length=base.data.hop_length,
        seed=toy.seed,
    )
    key = hashlib.sha256(json.dumps(asdict(spec), sort_keys=True).encode()).hexdigest()[:16]
    if job.data_dir is not None:
        root = Path(job.data_dir)
    else:
        root = Path(tempfile.gettempdir()) / f"sweeper-toy-{os.getuid()}" / key
    done = root / TOY_DONE
    root.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two trials starting together make it once
        if not done.is_file() or done.read_text() != key:
            refuse_foreign_data(root)
            (root / TOY_STARTED).touch()  # a set cut short by a crash is ours to redo
            write_toy_dataset(root, spec)
            done.write_text(key)
    return str(root)


TOY_DONE, TOY_STARTED = ".sweeper-toy-done", ".sweeper-toy-started"


def refuse_foreign_data(root: Path) -> None:
    """data.dir with data.toy: the toy set is written into it, filelists included, so a
    folder holding anything but an earlier toy set (a user's dataset) is refused."""
    ours = (root / TOY_DONE).is_file() or (root / TOY_STARTED).is_file()
    if root.is_dir() and not ours and any(root.iterdir()):
        raise InputError(
            f"data.dir {str(root)!r} already holds files, and data.toy would write its "
            "filelists over them; fix: remove data.toy to train on that folder, or name a "
            "new or empty data.dir for the toy set"
        )


def _trial_folder(context: Any) -> tuple[Path, bool]:
    """Where the trial's ``run/`` goes, and whether that is a scratch folder: the trial's
    folder in the sweep's storage, which every node sees; for an object store, a scratch
    folder on this node.

    Not ``get_trial_dir()``: that is Ray's staging copy on the driver node, which Ray copies
    into storage by adding files and never removing any, so every checkpoint the trainer had
    deleted (``keep_ckpts``) and every former best would pile up in storage; and on another
    node it is a folder nobody copies. In an object store the run folder reaches storage as
    each checkpoint (the whole folder), and a restarted trial starts from the last one.
    """
    import pyarrow.fs

    storage = context.get_storage()
    if isinstance(storage.storage_filesystem, pyarrow.fs.LocalFileSystem):
        return Path(storage.trial_fs_path), False
    scratch = Path(tempfile.gettempdir()) / f"sweeper-runs-{os.getuid()}"
    return scratch / storage.experiment_dir_name / storage.trial_dir_name, True


def _restore(run_dir: Path, scratch: bool) -> None:
    """Put the last reported checkpoint (if Ray restarted this trial) into ``run_dir``. A
    ``scratch`` folder with no checkpoint to match is emptied: what an earlier attempt left
    there never reached storage."""
    from ray import tune

    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        if scratch and run_dir.exists():
            shutil.rmtree(run_dir)
        return
    if run_dir.exists():
        shutil.rmtree(run_dir)  # newer files than the checkpoint would not match Ray's state
    with checkpoint.as_directory() as folder:
        shutil.copytree(folder, run_dir)


def _write_placement(run_dir: Path, spec: TrialSpec) -> None:
    """Where this attempt of the trial runs (node, process, devices): one JSON line per start,
    kept in the run folder so it travels with the checkpoints and a restart appends to it."""
    import ray

    line = {
        "node": ray.get_runtime_context().get_node_id(),
        "pid": os.getpid(),
        "gpu_ids": list(spec.gpu_ids),
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "time": time.time(),
    }
    with open(run_dir / PLACEMENT, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def run_trial(config: dict[str, Any], job: Job) -> None:
    """The function trainable: ``config`` is ``{"params": {...}}`` from SpaceSearcher."""
    import ray
    from ray import tune

    folder, scratch = _trial_folder(tune.get_context())
    run_dir = folder / RUN
    held = None
    if scratch:  # node scratch: lock this trial's folder, remove those of trials gone
        held = _scratch.claim(folder)
        _scratch.sweep_stale(folder.parent, folder)
    _restore(run_dir, scratch)
    run_dir.mkdir(parents=True, exist_ok=True)
    data_dir = toy_data(job) if job.toy is not None else str(job.data_dir)
    spec = TrialSpec(
        params=dict(config["params"]),
        run_dir=str(run_dir),
        data_dir=data_dir,
        max_steps=job.max_steps,
        preset=job.preset,
        config=job.config,
        gpu_ids=tuple(str(g) for g in ray.get_gpu_ids()),
        cpus=job.cpus,
        options=job.options,
        objective=job.objective,
    )

    _write_placement(run_dir, spec)
    last_step = 0

    def report(step: int, metrics: dict[str, float], checkpoint_dir: str | None = None) -> None:
        nonlocal last_step
        last_step = int(step)
        result = {**metrics, "step": int(step)}
        if checkpoint_dir is None:
            tune.report(result)
        else:
            tune.report(result, checkpoint=tune.Checkpoint.from_directory(checkpoint_dir))

    trainer = importlib.import_module(TRAINERS[job.trainer])
    try:
        trainer.run(spec, report)
    except InputError as err:
        # A missing file or a value the trainer refuses fails the same way on every start:
        # end the trial with its reason now, rather than let Ray retry it from its checkpoint
        # (FailureConfig) and print the traceback each time. The scheduler records it FAIL.
        tune.report({"step": last_step, REFUSED: f"{type(err).__name__}: {err}"})
    finally:
        if held is not None:
            # Every checkpoint is in the bucket by now, and a restart rebuilds the folder
            # from the last one. Left behind, each trial's G/D pairs filled the node's disk.
            _scratch.release(folder, held)
