"""The training loop: so-vits-svc's recipe, plus validation, a step limit and exact resume.

The trainer talks to the outside world only through ``report(step, metrics,
checkpoint_dir=None)`` (called at most once per step, so step numbers strictly increase),
TensorBoard event files with so-vits-svc's tags in ``out_dir``, a so-vits-style ``train.log``
and ``G_<step>.pth``/``D_<step>.pth``. It never imports ray or optuna.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from sweeper.errors import InputError
from sweeper.trainers.reference import checkpoint as ckpt
from sweeper.trainers.reference import rundir, runinfo
from sweeper.trainers.reference._trainer import Trainer
from sweeper.trainers.reference.best import Best
from sweeper.trainers.reference.config import SovitsConfig, load_config
from sweeper.trainers.reference.data import collate, epoch_batches
from sweeper.trainers.reference.datanotes import data_notes
from sweeper.trainers.reference.memory import memory_notes
from sweeper.trainers.reference.validate import evaluate

Report = Callable[..., None]  # report(step, metrics, checkpoint_dir=None)


@dataclass
class TrainResult:
    """Where a run ended."""

    run_dir: str  # out_dir
    step: int  # optimizer steps completed
    epoch: int  # current epoch (1-based, as so-vits-svc)
    best_step: int | None  # step of the pair in best/: the best best_metric (None: none yet)
    best_val_mel: float  # its best_metric value (lowest val/mel by default; inf: none yet)
    last_val: dict[str, float] = field(default_factory=dict)  # latest validation metrics
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)  # reports sent
    best_metric: str = "val/mel"  # the metric best/ is kept by (a sweep's first objective)
    best_mode: str = "min"


def _resume_notes(tr: Trainer, saved: Mapping) -> list[str]:
    """What differs from the checkpoint; other validation clips (other training clips, for
    a metric measured on those) or another best metric restart the best checkpoint."""
    notes = [] if tr.best_note is None else [tr.best_note]
    splits = runinfo.changed_splits(saved.get("data"), tr.data)
    if splits:
        notes.append(runinfo.data_note(saved["data"], tr.data, splits))
        measured_on = "val" if tr.best.metric.startswith("val/") else "train"
        if measured_on in splits:
            tr.best.reset()
    speakers = runinfo.speaker_note(saved.get("data"), tr.data)
    if speakers is not None:
        notes.append(speakers)
    lr_now = tr.optim_g.param_groups[0]["lr"]
    note = runinfo.config_note(saved.get("config"), tr.cfg, tr.epoch, lr_now)
    return notes if note is None else [*notes, note]


def torch_device(name: str | None) -> torch.device:
    """``name`` as a torch device this torch can use (None: CUDA when there is one)."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError, ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(
            f"device={name!r} is not a torch device ({first}); fix: cpu, cuda or cuda:N"
        ) from None
    backend = getattr(torch, dev.type, None) if dev.type != "mps" else torch.backends.mps
    usable = dev.type == "cpu" or bool(
        backend is not None and hasattr(backend, "is_available") and backend.is_available()
    )
    if not usable:
        why = "cannot use it here"
        if dev.type == "cuda":
            cpu_only = torch.version.cuda is None and torch.version.hip is None
            why = "is a CPU-only build" if cpu_only else "sees no CUDA GPU"
        raise InputError(
            f"device={name!r}: this torch ({torch.__version__}) {why}; fix: --device cpu, "
            "or a torch build and machine for that device"
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise InputError(
            f"device={name!r}: only {torch.cuda.device_count()} CUDA device(s) here; fix: "
            f"cuda:0 to cuda:{torch.cuda.device_count() - 1}"
        )
    return dev


def train(
    config: SovitsConfig | str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    report: Report | None = None,
    max_steps: int | None = None,
    progress: bool = False,
    device: str | None = None,
    notes_to_stderr: bool | None = None,
    best_metric: str = "val/mel",
    best_mode: str = "min",
    lock_wait_s: float = 0.0,
) -> TrainResult:
    """Train (or resume) one run; returns when ``max_steps`` or ``train.epochs`` is reached.

    Example:
        >>> train("tiny", "toy/", "runs/a", report=print, max_steps=200)  # doctest: +SKIP

    The data line and the resume notes go to train.log, and to stderr when
    ``notes_to_stderr`` (default: as ``progress``; ``sweeper train`` always sets it).

    ``best/`` holds the pair of the step with the best ``best_metric`` (``best_mode`` min or
    max) among the reports after step 0, by the rule a sweep's scheduler uses for the study's
    best step (best.py); a sweep passes its first objective metric and mode.

    A second run on the same ``out_dir`` is refused while this one runs (``lock_wait_s``:
    how long to wait for it first); a full disk or a read-only folder is a one-line error.
    """
    cfg = config if isinstance(config, SovitsConfig) else load_config(config)
    if max_steps is not None and max_steps < 0:
        raise InputError(f"max_steps must be >= 0, got {max_steps=}")
    t = cfg.train
    best = Best(best_metric, best_mode)
    best.check(t.use_gan, cfg.model.use_automatic_f0_prediction)
    dev = torch_device(device)  # before the data: a bad name costs no loading time
    run_dir = Path(out_dir)
    rundir.make(run_dir)
    # Before the data too: a second run on this folder is refused at once.
    with rundir.RunLock(run_dir, lock_wait_s), rundir.write_errors(run_dir):
        return _train(cfg, best, dev, Path(data_dir), run_dir, report, max_steps, notes_to_stderr,
                      progress)  # fmt: skip


def _train(
    cfg: SovitsConfig,
    best: Best,
    dev: torch.device,
    data_dir: Path,
    run_dir: Path,
    report: Report | None,
    max_steps: int | None,
    notes_to_stderr: bool | None,
    progress: bool,
) -> TrainResult:
    """train() in its locked run folder."""
    from torch.utils.tensorboard import SummaryWriter

    t = cfg.train
    torch.manual_seed(t.seed)
    np.random.seed(t.seed)
    random.seed(t.seed)
    # Said before decoding, and on stderr whoever runs it (a sweep trial too): a run killed
    # for memory leaves no message of its own.
    big = memory_notes(cfg, data_dir)
    log = runinfo.TextLog(run_dir / "train.log")
    for note in big:
        print(note, file=sys.stderr)
        log.info(note)  # in train.log too before decoding: the run may die in it
    tr = Trainer(cfg, data_dir, run_dir, dev)
    tr.best = best
    resumed, notes = ckpt.latest(run_dir)
    if resumed is not None:
        ckpt.check_finite(run_dir, *resumed)
        tr.load(*resumed)
        notes += _resume_notes(tr, resumed[0])
    notes += ckpt.lone_notes(run_dir, tr.step)
    notes += runinfo.setting_notes(cfg, tr.train_clips, dev.type, tuple(tr.val_clips))
    shared = runinfo.shared_clips_note(tr.train_clips, tr.val_clips)
    if shared is not None:
        notes.append(shared)
    notes += data_notes(cfg, tr.train_clips, tr.val_clips)
    log.info(str(cfg.to_dict()) if resumed is None else f"resumed at step {tr.step}")
    summary = runinfo.data_summary(cfg, tr.train_clips, tr.val_clips)
    for line in (summary, *notes):
        log.info(line)
    if progress if notes_to_stderr is None else notes_to_stderr:
        # A person or a script's log: say what was read and whether it is a resume.
        resume = "" if resumed is None else f"; resuming {run_dir} at step {tr.step}"
        print(summary + resume, file=sys.stderr)
        for note in notes:
            print(note, file=sys.stderr)
    # A resume replays the steps after its checkpoint: purge_step hides the points of those
    # steps that the stopped run wrote, so TensorBoard shows each step once.
    writer = SummaryWriter(str(run_dir), purge_step=None if resumed is None else tr.step + 1)
    result = TrainResult(
        str(run_dir), tr.step, tr.epoch, best.step, best.value, best_metric=best.metric,
        best_mode=best.mode,
    )  # fmt: skip
    limit = max_steps if max_steps is not None else math.inf

    def scalars(step: int, metrics: dict[str, float]) -> None:
        for tag, value in metrics.items():
            writer.add_scalar(tag, value, step)

    def send(step: int, metrics: dict[str, float], checkpoint_dir: str | None = None) -> None:
        result.history.append((step, dict(metrics)))
        if report is not None:
            report(step, dict(metrics), checkpoint_dir=checkpoint_dir)

    def validate() -> dict[str, float]:
        metrics = evaluate(tr.net_g, tr.val_clips, cfg, dev, seed=t.seed)
        seen = tr.train_clips[: len(tr.val_clips)]
        metrics.update(
            evaluate(tr.net_g, seen, cfg, dev, seed=t.seed, with_f0=False, prefix="train_infer")
        )
        result.last_val = dict(metrics)
        return metrics

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=None if math.isinf(limit) else int(limit),
            initial=tr.step,
            unit="step",
            dynamic_ncols=True,
        )
    saved = tr.step if resumed is not None else None  # the newest pair on disk
    try:
        if tr.step == 0 and resumed is None:
            first = validate()
            scalars(0, first)
            send(0, first)
        tr.start_epoch()
        while tr.step < limit and tr.epoch <= t.epochs:
            batches = epoch_batches(len(tr.train_clips), t.batch_size, t.seed, tr.epoch)
            if tr.batch_in_epoch >= len(batches):  # epoch rollover (also right after resume)
                log.info(f"====> Epoch: {tr.epoch}")
                tr.epoch, tr.batch_in_epoch = tr.epoch + 1, 0
                if t.lr_decay_unit == "epoch":
                    tr.step_schedulers()
                tr.start_epoch()
                continue
            clips = [tr.train_clips[i] for i in batches[tr.batch_in_epoch]]
            batch = collate(clips, cfg.data.hop_length, t.max_crop_frames)
            losses = tr.train_step(batch)
            tr.step += 1
            tr.batch_in_epoch += 1
            if t.lr_decay_unit == "step":
                tr.step_schedulers()
            tr.mel_since_eval.append(losses["loss/g/mel"])
            if not all(math.isfinite(v) for v in losses.values()):
                log.info(f"non-finite loss at step {tr.step}: {losses}")
            metrics: dict[str, float] = {}
            if tr.step % t.log_interval == 0:
                metrics.update(losses)
                pct = 100.0 * tr.batch_in_epoch / len(batches)
                log.info(f"Train Epoch: {tr.epoch} [{pct:.0f}%]")
                five = [
                    losses.get(k, 0.0)
                    for k in ("loss/d/total", "loss/g/gen", "loss/g/fm", "loss/g/mel", "loss/g/kl")
                ]
                log.info(
                    f"Losses: {five}, step: {tr.step}, lr: {losses['learning_rate']}, "
                    f"reference_loss: {sum(five)}"
                )
            ckpt_dir = None
            evaluating = tr.step % t.eval_interval == 0 or tr.step >= limit
            if evaluating:
                val = validate()
                metrics.update(val)
                metrics["train/mel"] = float(np.mean(tr.mel_since_eval))
                tr.mel_since_eval = []
            # Judged on everything this step reports, as the sweep judges the report: a
            # training loss as best metric can be best at a step that logs but does not
            # validate, and that step's pair then goes to best/ without a G_/D_ pair beside.
            improved = best.offer(tr.step, metrics)
            if evaluating and not tr.weights_finite():
                # Diverged for good: every step from here is NaN. Training on to max_steps
                # saved NaN pairs that pushed the finite ones out under keep_ckpts, and a
                # resume then had none but NaN ones (a probe, 2026-12-08).
                scalars(tr.step, metrics)
                log.info(_diverged_note(tr.step, saved))
                send(tr.step, metrics)  # no checkpoint: a sweep's scheduler stops it DIVERGED
                break
            if evaluating:
                # The step's scalars reach disk before its checkpoint: a resume starts after
                # the checkpoint, so a stop between the two would lose them for good.
                scalars(tr.step, metrics)
                writer.flush()
                path = ckpt.save_pair(run_dir, tr.step, *tr.states(), keep=t.keep_ckpts)
                log.info(f"Saving model and optimizer state at iteration {tr.epoch} to {path}")
                saved = tr.step
                if improved:
                    ckpt.save_best(run_dir, tr.step)
                ckpt_dir = str(run_dir)
            if metrics:
                if ckpt_dir is None:
                    scalars(tr.step, metrics)
                    if improved:
                        ckpt.save_best(run_dir, tr.step, states=tr.states())
                send(tr.step, metrics, ckpt_dir)  # after the save: report names the checkpoint
            if bar is not None:
                bar.update(1)
                shown = {"mel": f"{losses['loss/g/mel']:.2f}"}
                if result.last_val:
                    shown["val_mel"] = f"{result.last_val['val/mel']:.2f}"
                bar.set_postfix(shown, refresh=False)
    except KeyboardInterrupt:
        # Said, not only lost: the steps since the newest pair are trained again on resume.
        note = _interrupted_note(tr.step, saved, run_dir)
        log.info(note)
        raise KeyboardInterrupt(note) from None
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    result.step, result.epoch = tr.step, tr.epoch
    result.best_step, result.best_val_mel = best.step, best.value
    return result


def _diverged_note(step: int, saved: int | None) -> str:
    """Why a run stopped before its last step: its weights went NaN or inf."""
    kept = "no pair was saved" if saved is None else f"the newest pair is G_{saved}.pth"
    return f"diverged: the weights hold NaN or inf at step {step}; stopped here ({kept})"


def _interrupted_note(step: int, saved: int | None, run_dir: Path) -> str:
    """Where a Ctrl-C left the run, and where running it again starts."""
    if saved is None:
        return (
            f"at step {step}, before the first checkpoint: nothing of this run was kept, "
            f"the same command starts {run_dir} again from step 0"
        )
    redo = f" ({step - saved} step(s) to train again)" if step > saved else ""
    return (
        f"at step {step}; the newest checkpoint is G_{saved}.pth: the same command resumes "
        f"{run_dir} from step {saved}{redo}"
    )
