"""``--evaluate``: synthesise the validation clips with each trial's best checkpoint and
measure them with ``sweeper.evaluate``, as Ray tasks on the trial's own resources.

Results are cached in ``<sweep>/summary/eval/trial_<id>.json``, keyed by the checkpoint
(path, size, mtime), a digest of the validation data (filelist, each val wav's size and
mtime, ``transcripts.txt``) and the metrics asked for, so a second summary does not
recompute, and a newer checkpoint (a resumed trial) or changed val data is measured again.
A failed evaluation is never cached; one the data causes fails the summary once. The task
loads the models of ``sweeper.evaluate`` once per worker (``max_calls=0`` keeps the worker
between trials).
"""

from __future__ import annotations

import json
import math
import pickle
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweeper.errors import InputError
from sweeper.summarize.collect import SweepData, TrialRecord
from sweeper.tune._trainable import Job

CACHE_DIR = Path("summary") / "eval"  # inside the sweep folder
PREFIX = "eval/"
# Bump when what a cached entry means changes (4: WER at temperature 0, in parts; 5: synthesis
# seeded with the trial's train.seed, as its validation was).
_VERSION = 5


@dataclass(frozen=True)
class EvalRequest:
    """One checkpoint to measure; plain data, pickled to the Ray worker."""

    job: Job  # the sweep's trainer, base config and data (absolute paths)
    params: dict[str, Any]  # the trial's parameters (its ``config`` attribute)
    checkpoint: str  # G_<step>.pth
    metrics: list[str] | None  # sweeper.evaluate names; None = all
    cpus: float  # threads for torch and the metric models


class DataError(InputError):
    """The validation data (shared by every trial) cannot be used: reported once."""


def _key(rec: TrialRecord, data_digest: str | None) -> dict[str, Any]:
    st = rec.checkpoint.stat()  # type: ignore[union-attr]
    rel = rec.checkpoint.relative_to(rec.folder)  # type: ignore[union-attr, arg-type]
    return {
        "version": _VERSION, "checkpoint": str(rel), "size": st.st_size,
        "mtime": st.st_mtime_ns, "data": data_digest,
        # A trial's own val list (a fixed or searched data.validation_files) is not in the
        # digest, which reads the base config's: its name at least keys the entry.
        "val_list": rec.params.get("data.validation_files"),
    }  # fmt: skip


def data_digest(data: SweepData) -> str | None:
    """What the measured audio depends on besides the checkpoint: the toy set's settings, or
    the val filelist, each val wav's size and mtime, and ``transcripts.txt``. None when the
    data cannot be read (a summary away from its data still shows its cached metrics)."""
    import hashlib

    from sweeper.trainers.reference.config import load_config
    from sweeper.trainers.reference.data import read_filelist

    job = evaluation_job(data)
    h = hashlib.sha256(str(_VERSION).encode())
    if job.toy is not None:
        h.update(json.dumps(job.toy, sort_keys=True, default=str).encode())
        return h.hexdigest()[:16]
    try:
        root = Path(str(job.data_dir))
        rel = load_config(job.preset if job.preset is not None else str(job.config))
        vals = rel.data.validation_files
        h.update((root / vals).read_bytes())
        for wav in read_filelist(root, vals):
            st = wav.stat()
            h.update(f"{wav}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        if (root / "transcripts.txt").is_file():
            h.update((root / "transcripts.txt").read_bytes())
    except (InputError, OSError):
        return None
    return h.hexdigest()[:16]


def cache_path(data: SweepData, rec: TrialRecord) -> Path:
    return data.folder / CACHE_DIR / f"trial_{rec.ray_id}.json"


def _read_cache(
    data: SweepData, rec: TrialRecord, digest: str | None
) -> dict[str, Any] | None:
    """The cached entry of ``rec`` if it answers for this checkpoint and val data; a None
    ``digest`` (data not readable here) matches any data."""
    path = cache_path(data, rec)
    if rec.checkpoint is None or not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # a torn cache file is measured again
    if not isinstance(entry, dict) or not isinstance(entry.get("key"), dict):
        return None
    key, want = dict(entry["key"]), _key(rec, digest)
    if digest is None:
        key.pop("data", None)
        want.pop("data")
    if key != want or "metrics" not in entry:  # an error entry (cached before v4) is no answer
        return None
    return entry


def _apply(rec: TrialRecord, entry: dict[str, Any]) -> None:
    if entry.get("error"):
        rec.problem = f"evaluation failed: {entry['error']}"
        return
    for name, res in entry.get("metrics", {}).items():
        rec.evaluation[PREFIX + name] = res
        value = res.get("value")
        if res.get("status") == "ok" and isinstance(value, int | float) and math.isfinite(value):
            rec.values[PREFIX + name] = float(value)


def load_cached(data: SweepData) -> int:
    """Merge what an earlier ``--evaluate`` measured into the trials; returns how many."""
    n, digest = 0, data_digest(data)
    for rec in data.trials:
        if rec.problem is None and (entry := _read_cache(data, rec, digest)) is not None:
            _apply(rec, entry)
            n += 1
    return n


def evaluation_job(data: SweepData) -> Job:
    """The sweep's Job. Its relative paths were resolved from the directory the sweep ran in
    when the folder was loaded (``tune._resume.load_sweep_dir``)."""
    return Job.from_sweep(data.cfg)


def _transcripts(data_dir: Path, clips) -> list[str] | None:
    """Each val clip's sentence from ``transcripts.txt`` (``sweeper data speech``), if all
    are there; without them WER/CER are "skipped". One without words is refused by name."""
    path = data_dir / "transcripts.txt"
    if not path.is_file():
        return None
    from sweeper.data.speech import read_transcripts
    from sweeper.evaluate.asr import normalize

    by_path = {str((data_dir / k).resolve()): v for k, v in read_transcripts(path).items()}
    found = [by_path.get(str(Path(c.path).resolve())) for c in clips]
    if any(t is None for t in found):
        return None
    for clip, text in zip(clips, found, strict=True):
        if not normalize(str(text)):
            raise InputError(
                f"{str(path)!r} gives {clip.path} the sentence {text!r}, no words after "
                "normalisation; fix: write what the clip says"
            )
    return [str(t) for t in found]


def evaluate_checkpoint(req: EvalRequest) -> dict[str, Any]:
    """In the worker: ``{"metrics": {name: MetricResult dict}, ...}`` or ``{"error": why}``."""
    import tempfile

    import torch

    from sweeper.evaluate import Settings
    from sweeper.evaluate._remote import run_evaluation
    from sweeper.evaluate.synth import synthesize
    from sweeper.trainers._api import TrialSpec
    from sweeper.trainers.reference.data import load_split
    from sweeper.trainers.reference.models import SynthesizerTrn
    from sweeper.trainers.reference.sweep import trial_config
    from sweeper.tune._trainable import toy_data

    started = time.monotonic()
    job = req.job
    torch.set_num_threads(max(1, int(req.cpus)))
    stage = "data"  # an error there is the val data's, every trial's: said once
    try:
        data_dir = toy_data(job) if job.toy is not None else str(job.data_dir)
        with tempfile.TemporaryDirectory() as run_dir:  # where a train_clips subset is written
            spec = TrialSpec(req.params, run_dir, data_dir, job.max_steps, job.preset, job.config)
            stage = "config"
            cfg = trial_config(spec)
            stage = "data"
            clips = load_split(cfg, data_dir, "val")
        texts = _transcripts(Path(data_dir), clips)
        stage = "checkpoint"
        device = "cuda" if torch.cuda.is_available() and _has_gpu() else "cpu"
        state = torch.load(req.checkpoint, map_location="cpu", weights_only=False)
        net_g = SynthesizerTrn(cfg)
        net_g.load_state_dict(state["model"])
        # The trainer's validation seeds its noise with train.seed: the same seed gives the
        # same audio, so eval/mel_l1 equals the val/mel_l1 reported at this checkpoint.
        refs, outs, ref_f0 = synthesize(net_g.to(device), clips, device, seed=cfg.train.seed)
        settings = Settings.from_data_config(cfg.data, threads=max(1, int(req.cpus)))
        metrics = run_evaluation(
            refs, outs, cfg.data.sampling_rate, req.metrics, texts, ref_f0, settings,
        )  # fmt: skip
    except (InputError, RuntimeError, OSError, KeyError, EOFError, pickle.UnpicklingError,
            zipfile.BadZipFile) as err:  # fmt: skip
        if stage == "data" and isinstance(err, InputError | OSError):
            return {"error": str(err).splitlines()[0][:500], "data_error": True}
        # A checkpoint that does not load is this trial's problem, not the summary's.
        return {"error": f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"}
    return {
        "metrics": metrics,
        "clips": len(clips),
        "device": device,
        "seconds": round(time.monotonic() - started, 2),
    }


def _has_gpu() -> bool:
    """Ray gave this task a GPU (a CPU task must not take one it did not reserve)."""
    import ray

    return ray.is_initialized() and bool(ray.get_gpu_ids())


def _resources(cfg) -> tuple[float, float, str]:
    """The trial's resources, shrunk to what this Ray cluster has (else the task waits
    forever); the note says what changed."""
    import ray

    total = ray.cluster_resources()
    cpu = min(cfg.resources.cpu, total.get("CPU", 1.0))
    gpu = cfg.resources.gpu
    note = ""
    if gpu > total.get("GPU", 0.0):
        gpu, note = 0.0, " (no GPU in this Ray cluster: on CPU)"
    return cpu, gpu, note


def evaluate_trials(
    data: SweepData,
    *,
    metrics: list[str] | None = None,
    address: str | None = None,
    refresh: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> None:
    """Measure every rankable trial's best checkpoint (cache first), results into the trials."""
    from sweeper.evaluate import get_metrics

    if metrics is not None:
        get_metrics(metrics)  # an unknown name fails here, naming the known ones
    if data.cfg.trainer != "reference":
        raise InputError(
            f"--evaluate synthesises with the reference trainer's model, not {data.cfg.trainer}"
            " (its trials already report val/* metrics from so-vits-svc); fix: drop --evaluate"
        )
    todo: list[TrialRecord] = []
    digest = data_digest(data)
    for rec in data.trials:
        if rec.problem is not None:
            continue
        entry = None if refresh else _read_cache(data, rec, digest)
        # A cache of a --metrics subset does not answer a request for all of them.
        covered = entry is not None and (
            entry.get("all") is True
            if metrics is None
            else set(metrics) <= set(entry.get("metrics", {}))
        )
        if covered:
            _apply(rec, entry)
        else:
            todo.append(rec)
    if todo:
        _measure(data, todo, metrics, address, digest, log)
    for line in unavailable_lines(data.trials):
        log(line)


def unavailable_lines(trials: list[TrialRecord]) -> list[str]:
    """One warning per install command, naming the metrics it would add: without them the
    terminal showed fewer columns and said nothing (only summary.json said why)."""
    groups: dict[str, dict[str, None]] = {}  # fix -> metric names, in registry order
    for rec in trials:
        for name, res in rec.evaluation.items():
            if isinstance(res, dict) and res.get("status") == "unavailable":
                fix = str(res.get("detail", "")).partition("; fix: ")[2] or "see summary.json"
                groups.setdefault(fix, {})[name.removeprefix(PREFIX)] = None
    return [
        f"warning: --evaluate could not measure {', '.join(names)} (packages missing here); "
        f"fix: {fix}"
        for fix, names in groups.items()
    ]


def _measure(
    data: SweepData,
    todo: list[TrialRecord],
    metrics: list[str] | None,
    address: str | None,
    digest: str | None,
    log: Callable[[str], None],
) -> None:
    """Measure ``todo`` as Ray tasks; results cached and put into the trials."""
    import ray

    from sweeper.tune._run import connect_ray

    connect_ray(address)
    cpu, gpu, note = _resources(data.cfg)
    log(f"evaluating {len(todo)} checkpoint(s) as Ray tasks ({cpu:g} CPU, {gpu:g} GPU each){note}")
    task = ray.remote(num_cpus=cpu, num_gpus=gpu, max_calls=0)(evaluate_checkpoint)
    job = evaluation_job(data)
    refs = {
        task.remote(EvalRequest(job, rec.params, str(rec.checkpoint), metrics, cpu)): rec
        for rec in todo
    }
    data_errors = []
    for ref, rec in refs.items():
        found = ray.get(ref)
        if found.get("data_error"):
            data_errors.append(found["error"])
            continue
        entry = {"key": _key(rec, digest), "trial": rec.number, **found}
        if "error" not in found:  # a failure is not cached: a fixed re-run measures again
            entry["all"] = metrics is None
            _write_cache(cache_path(data, rec), entry)
        _apply(rec, entry)
        what = found.get("error") or f"{len(found['metrics'])} metrics in {found['seconds']} s"
        log(f"  trial #{rec.number}: {what}")
    if data_errors:
        raise DataError(f"--evaluate cannot use the validation data: {data_errors[0]}")


def _write_cache(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry, indent=1), encoding="utf-8")
    tmp.replace(path)  # atomic: a summary interrupted here never reads half a file
