"""One run's models, optimizers, schedulers and data, and so-vits-svc's training step
(generator and discriminator updates, its loss terms and weights)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch.nn import functional as F

from sweeper.errors import InputError
from sweeper.trainers.reference import checkpoint as ckpt
from sweeper.trainers.reference import runinfo
from sweeper.trainers.reference.best import Best
from sweeper.trainers.reference.config import SovitsConfig
from sweeper.trainers.reference.data import load_split
from sweeper.trainers.reference.losses import (
    discriminator_loss,
    feature_loss,
    generator_loss,
    kl_loss,
)
from sweeper.trainers.reference.mel import MelFrontEnd
from sweeper.trainers.reference.models import build_models


def _grad_norm(params) -> float:
    norms = [p.grad.detach().float().norm(2) for p in params if p.grad is not None]
    return float(torch.norm(torch.stack(norms), 2)) if norms else 0.0


def _slice(x: torch.Tensor, ids: torch.Tensor, size: int) -> torch.Tensor:
    idx = ids[:, None] + torch.arange(size, device=x.device)[None, :]
    return torch.gather(x, 2, idx.unsqueeze(1).expand(-1, x.shape[1], -1))


class Trainer:
    """Models, optimizers, schedulers and data of one run, and one optimizer step."""

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
        self.best = Best()  # train() sets the metric and mode before a resume loads it
        self.best_note: str | None = None  # load(): the checkpoint kept its best by another
        self.mel_since_eval: list[float] = []

    # -- state ---------------------------------------------------------------------------
    def states(self):
        extra = {
            "step": self.step,
            "batch_in_epoch": self.batch_in_epoch,
            **self.best.state(),
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
        self.best_note = self.best.restore(g)  # None: the same metric and mode as before
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

    def weights_finite(self) -> bool:
        """False once any weight of G or D is NaN or inf: the run has diverged for good."""
        nets = (self.net_g, self.net_d)
        return all(bool(torch.isfinite(w).all()) for net in nets for w in net.parameters())

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
