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
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from sweeper.errors import InputError
from sweeper.trainers.reference import checkpoint as ckpt
from sweeper.trainers.reference import runinfo
from sweeper.trainers.reference.config import SovitsConfig, load_config
from sweeper.trainers.reference.data import collate, epoch_batches, load_split
from sweeper.trainers.reference.losses import (
    discriminator_loss,
    feature_loss,
    generator_loss,
    kl_loss,
)
from sweeper.trainers.reference.mel import MelFrontEnd
from sweeper.trainers.reference.models import build_models
from sweeper.trainers.reference.validate import evaluate

Report = Callable[..., None]  # report(step, metrics, checkpoint_dir=None)


@dataclass
class TrainResult:
    """Where a run ended."""

    run_dir: str  # out_dir
    step: int  # optimizer steps completed
    epoch: int  # current epoch (1-based, as so-vits-svc)
    best_step: int | None  # step of the lowest val/mel
    best_val_mel: float  # lowest val/mel seen (inf if never evaluated)
    last_val: dict[str, float] = field(default_factory=dict)  # latest validation metrics
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)  # reports sent


def _grad_norm(params) -> float:
    norms = [p.grad.detach().float().norm(2) for p in params if p.grad is not None]
    return float(torch.norm(torch.stack(norms), 2)) if norms else 0.0


def _slice(x: torch.Tensor, ids: torch.Tensor, size: int) -> torch.Tensor:
    idx = ids[:, None] + torch.arange(size, device=x.device)[None, :]
    return torch.gather(x, 2, idx.unsqueeze(1).expand(-1, x.shape[1], -1))


class _Trainer:
    def __init__(self, cfg: SovitsConfig, data_dir: Path, out_dir: Path, device: torch.device):
        self.cfg, self.out_dir, self.device = cfg, out_dir, device
        t = cfg.train
        self.train_clips = load_split(cfg, data_dir, "train")
        self.val_clips = load_split(cfg, data_dir, "val")
        self.data = runinfo.data_fingerprint(self.train_clips, self.val_clips)
        n_spk = cfg.model.n_speakers
        for clip in self.train_clips + self.val_clips:
            if clip.sid >= n_spk:
                raise InputError(
                    f"speaker id {clip.sid} of {clip.path!r} >= model.n_speakers="
                    f"{n_spk}; fix: raise model.n_speakers"
                )
        self.net_g, self.net_d = (m.to(device) for m in build_models(cfg))
        kw = {"lr": t.learning_rate, "betas": tuple(t.betas), "eps": t.eps}
        self.optim_g = torch.optim.AdamW(self.net_g.parameters(), **kw)
        self.optim_d = torch.optim.AdamW(self.net_d.parameters(), **kw)
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.optim_g, gamma=t.lr_decay)
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.optim_d, gamma=t.lr_decay)
        self.amp = t.fp16_run and device.type == "cuda"
        self.amp_dtype = torch.bfloat16 if t.half_type == "bf16" else torch.float16
        use_scaler = self.amp and t.half_type == "fp16"
        self.scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
        self.mel = MelFrontEnd(cfg.data)
        self.step, self.epoch, self.batch_in_epoch = 0, 1, 0
        self.best_val, self.best_step = math.inf, None
        self.mel_since_eval: list[float] = []

    # -- state ---------------------------------------------------------------------------
    def states(self):
        extra = {
            "step": self.step,
            "batch_in_epoch": self.batch_in_epoch,
            "best_val": self.best_val,
            "best_step": self.best_step,
            "mel_since_eval": list(self.mel_since_eval),
            "rng": ckpt.rng_state(),
            "config": self.cfg.to_dict(),
            "data": self.data,
        }
        lr0 = self.cfg.train.learning_rate
        g = {
            "model": self.net_g.state_dict(),
            "iteration": self.epoch,
            "optimizer": self.optim_g.state_dict(),
            "learning_rate": lr0,
            "scheduler": self.sched_g.state_dict(),
            "scaler": self.scaler.state_dict(),
            **extra,
        }
        d = {
            "model": self.net_d.state_dict(),
            "iteration": self.epoch,
            "optimizer": self.optim_d.state_dict(),
            "learning_rate": lr0,
            "scheduler": self.sched_d.state_dict(),
            "step": self.step,
        }
        return g, d

    def load(self, g: Mapping, d: Mapping) -> None:
        if "step" not in g or "rng" not in g:
            raise InputError(
                f"{self.out_dir} holds G_*.pth without resume state (a so-vits-svc "
                "checkpoint?); fix: use a fresh --out directory"
            )
        try:
            self.net_g.load_state_dict(g["model"])
            self.net_d.load_state_dict(d["model"])
        except RuntimeError as err:  # missing/unexpected keys or other shapes
            first = str(err).splitlines()[0]
            raise InputError(
                f"{self.out_dir} holds checkpoints of another model ({first}); fix: train with "
                "the config that made them, or use a fresh --out directory"
            ) from None
        self.optim_g.load_state_dict(g["optimizer"])
        self.optim_d.load_state_dict(d["optimizer"])
        self.sched_g.load_state_dict(g["scheduler"])
        self.sched_d.load_state_dict(d["scheduler"])
        self.scaler.load_state_dict(g["scaler"])
        self.step, self.epoch = int(g["step"]), int(g["iteration"])
        self.batch_in_epoch = int(g["batch_in_epoch"])
        self.best_val, self.best_step = float(g["best_val"]), g["best_step"]
        self.mel_since_eval = list(g["mel_since_eval"])
        ckpt.set_rng_state(g["rng"])

    # -- one step ------------------------------------------------------------------------
    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        cfg, dev = self.cfg, self.device
        hop, seg = cfg.data.hop_length, cfg.train.segment_size // cfg.data.hop_length
        b = {k: v.to(dev) for k, v in batch.items()}
        if b["spec"].shape[-1] < seg:  # short clips: pad so every slice exists
            pad = seg - b["spec"].shape[-1]
            for key in ("spec", "content", "f0", "uv"):  # frame axes stay aligned (the mask)
                b[key] = F.pad(b[key], (0, pad))
            b["audio"] = F.pad(b["audio"], (0, pad * hop))
        use_gan = cfg.train.use_gan
        with torch.autocast(dev.type, dtype=self.amp_dtype, enabled=self.amp):
            out = self.net_g(b["content"], b["f0"], b["uv"], b["spec"], b["lengths"], b["sid"])
        y_mel = _slice(self.mel.spec_to_mel(b["spec"]), out.ids_slice, seg)
        y_hat = out.audio.float()
        y_hat_mel = self.mel.mel(y_hat.squeeze(1))
        y = _slice(b["audio"], out.ids_slice * hop, seg * hop)
        metrics: dict[str, float] = {}
        if use_gan:
            with torch.autocast(dev.type, dtype=self.amp_dtype, enabled=self.amp):
                real, fake, _, _ = self.net_d(y, y_hat.detach())
            loss_disc = discriminator_loss(real, fake)
            self.optim_d.zero_grad(set_to_none=True)
            self.scaler.scale(loss_disc).backward()
            self.scaler.unscale_(self.optim_d)
            metrics["grad_norm_d"] = _grad_norm(self.net_d.parameters())
            self.scaler.step(self.optim_d)
            metrics["loss/d/total"] = loss_disc.item()
        loss_mel = F.l1_loss(y_mel, y_hat_mel) * cfg.train.c_mel
        loss_kl = kl_loss(out.z_p, out.logs_q, out.m_p, out.logs_p, out.mask) * cfg.train.c_kl
        total = loss_mel + loss_kl
        if use_gan:
            with torch.autocast(dev.type, dtype=self.amp_dtype, enabled=self.amp):
                _, fake, fmap_r, fmap_g = self.net_d(y, y_hat)
            loss_fm, loss_gen = feature_loss(fmap_r, fmap_g), generator_loss(fake)
            total = total + loss_fm + loss_gen
            metrics["loss/g/fm"], metrics["loss/g/gen"] = loss_fm.item(), loss_gen.item()
        if out.pred_lf0 is not None:
            mask = out.mask
            loss_lf0 = torch.sum((out.pred_lf0.float() - out.lf0) ** 2 * mask) / mask.sum()
            total = total + loss_lf0
            metrics["loss/g/lf0"] = loss_lf0.item()
        self.optim_g.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.unscale_(self.optim_g)
        metrics["grad_norm_g"] = _grad_norm(self.net_g.parameters())
        self.scaler.step(self.optim_g)
        self.scaler.update()
        metrics.update(
            {
                "loss/g/total": total.item(),
                "loss/g/mel": loss_mel.item(),
                "loss/g/kl": loss_kl.item(),
                "learning_rate": self.optim_g.param_groups[0]["lr"],
            }
        )
        return metrics

    def step_schedulers(self) -> None:
        with warnings.catch_warnings():
            # Right after a resume at an epoch's end no optimizer step has run in this
            # process yet; torch then warns about the order, wrongly for a resumed schedule.
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step")
            self.sched_g.step()
            if self.cfg.train.use_gan:  # D is never stepped without the GAN terms
                self.sched_d.step()

    def start_epoch(self) -> None:
        """so-vits-svc's linear warm-up: lr = lr0 / warmup_epochs * epoch while warming up."""
        t = self.cfg.train
        if self.epoch <= t.warmup_epochs:
            for optim in (self.optim_g, self.optim_d):
                for group in optim.param_groups:
                    group["lr"] = t.learning_rate / t.warmup_epochs * self.epoch


def _resume_notes(tr: _Trainer, saved: Mapping) -> list[str]:
    """What differs from the checkpoint; other validation clips restart the best checkpoint."""
    notes = []
    splits = runinfo.changed_splits(saved.get("data"), tr.data)
    if splits:
        notes.append(runinfo.data_note(saved["data"], tr.data, splits))
        if "val" in splits:
            tr.best_val, tr.best_step = math.inf, None
    lr_now = tr.optim_g.param_groups[0]["lr"]
    note = runinfo.config_note(saved.get("config"), tr.cfg, tr.epoch, lr_now)
    return notes if note is None else [*notes, note]


def train(
    config: SovitsConfig | str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    report: Report | None = None,
    max_steps: int | None = None,
    progress: bool = False,
    device: str | None = None,
) -> TrainResult:
    """Train (or resume) one run; returns when ``max_steps`` or ``train.epochs`` is reached.

    Example:
        >>> train("tiny", "toy/", "runs/a", report=print, max_steps=200)  # doctest: +SKIP
    """
    from torch.utils.tensorboard import SummaryWriter

    cfg = config if isinstance(config, SovitsConfig) else load_config(config)
    if max_steps is not None and max_steps < 0:
        raise InputError(f"max_steps must be >= 0, got {max_steps=}")
    t = cfg.train
    run_dir = Path(out_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    dev = torch.device(
        device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu")
    )
    torch.manual_seed(t.seed)
    np.random.seed(t.seed)
    random.seed(t.seed)
    tr = _Trainer(cfg, Path(data_dir), run_dir, dev)
    resumed = ckpt.latest(run_dir)
    notes = []
    if resumed is not None:
        tr.load(*resumed)
        notes = _resume_notes(tr, resumed[0])
    log = runinfo.TextLog(run_dir / "train.log")
    log.info(str(cfg.to_dict()) if resumed is None else f"resumed at step {tr.step}")
    summary = runinfo.data_summary(cfg, tr.train_clips, tr.val_clips)
    for line in (summary, *notes):
        log.info(line)
    if progress:  # a person is watching: say what was read and whether it is a resume
        resume = "" if resumed is None else f"; resuming {run_dir} at step {tr.step}"
        print(summary + resume, file=sys.stderr)
        for note in notes:
            print(note, file=sys.stderr)
    writer = SummaryWriter(str(run_dir))
    result = TrainResult(str(run_dir), tr.step, tr.epoch, tr.best_step, tr.best_val)
    limit = max_steps if max_steps is not None else math.inf

    def send(step: int, metrics: dict[str, float], checkpoint_dir: str | None = None) -> None:
        for tag, value in metrics.items():
            writer.add_scalar(tag, value, step)
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
    try:
        if tr.step == 0 and resumed is None:
            send(0, validate())
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
            if tr.step % t.eval_interval == 0 or tr.step >= limit:
                val = validate()
                metrics.update(val)
                metrics["train/mel"] = float(np.mean(tr.mel_since_eval))
                tr.mel_since_eval = []
                improved = val["val/mel"] < tr.best_val
                if improved:
                    tr.best_val, tr.best_step = val["val/mel"], tr.step
                path = ckpt.save_pair(run_dir, tr.step, *tr.states(), keep=t.keep_ckpts)
                log.info(f"Saving model and optimizer state at iteration {tr.epoch} to {path}")
                if improved:
                    ckpt.save_best(run_dir, tr.step)
                ckpt_dir = str(run_dir)
            if metrics:
                send(tr.step, metrics, ckpt_dir)
            if bar is not None:
                bar.update(1)
                shown = {"mel": f"{losses['loss/g/mel']:.2f}"}
                if result.last_val:
                    shown["val_mel"] = f"{result.last_val['val/mel']:.2f}"
                bar.set_postfix(shown, refresh=False)
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    result.step, result.epoch = tr.step, tr.epoch
    result.best_step, result.best_val_mel = tr.best_step, tr.best_val
    return result
