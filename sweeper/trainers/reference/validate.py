"""Held-out metrics on the validation clips, through the inference path.

- ``val/mel``: mean absolute difference between the natural-log mels of the generated and the
  real clip over all frames of all val clips, **times train.c_mel** — the scale of the
  training term ``loss/g/mel``, so the two curves can be compared directly. The unweighted
  value is ``val/mel_l1``.
- ``val/f0_rmse_cents``: RMS of 1200*log2(f0_generated / f0_reference) over frames voiced in
  both, where f0_generated is Praat's track of the output and f0_reference is the toy data's
  true f0 when saved, else the f0 the model was given; a reference frame is voiced where its
  f0 > 0 and, for so-vits-svc's ``(f0, uv)`` pair, ``uv`` > 0.
- ``val/f0_gross_error``: fraction of frames voiced in both that are off by more than 50
  cents (octave slips of the tracker or the model dominate the RMSE; this counts them).
- ``val/vuv_error``: fraction of frames whose voiced/unvoiced decision differs.

``train_infer/mel`` is the same mel measure on (up to as many as there are val clips)
training clips: the generalisation gap is ``val/mel - train_infer/mel`` on one path.

Generation uses so-vits-svc's evaluation settings (noise scale 0.35, ground-truth f0) and a
private seeded generator: validation never touches the training RNG, so the interval between
evaluations does not change the training run.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from sweeper.data.features import f0_praat
from sweeper.trainers.reference.config import SovitsConfig
from sweeper.trainers.reference.data import Clip
from sweeper.trainers.reference.mel import MelFrontEnd


def reference_f0(clip: Clip) -> tuple[np.ndarray, np.ndarray]:
    """The f0 the output is judged against, and which of its frames are voiced.

    so-vits-svc 4.1 saves f0 interpolated through unvoiced frames (non-zero everywhere) and
    the voicing in ``uv``: f0 > 0 alone would call every silent frame voiced.
    """
    if clip.true_f0 is not None:
        ref = clip.true_f0.numpy()
        return ref, ref > 0
    ref = clip.f0.numpy()
    return ref, (ref > 0) & (clip.uv.numpy() > 0)


@torch.no_grad()
def evaluate(
    net_g,
    clips: list[Clip],
    cfg: SovitsConfig,
    device: torch.device,
    seed: int = 0,
    with_f0: bool = True,
    prefix: str = "val",
) -> dict[str, float]:
    """Metrics over ``clips`` (batch size 1, full clips), keyed ``<prefix>/<name>``."""
    mel = MelFrontEnd(cfg.data)
    hop = cfg.data.hop_length
    was_training = net_g.training
    net_g.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    abs_sum, n_cells = 0.0, 0
    sq_cents, n_voiced, n_gross, vuv_sum, n_frames = 0.0, 0, 0, 0.0, 0
    try:
        for clip in clips:
            c = clip.content[None].to(device)
            f0 = clip.f0[None].to(device)
            uv = clip.uv[None].to(device)
            sid = torch.tensor([clip.sid], device=device)
            audio = net_g.infer(c, f0, uv, sid, noise_scale=0.35, generator=gen)[:, 0].float()
            mel_gen = mel.mel(audio)[0]
            mel_ref = mel.spec_to_mel(clip.spec[None].to(device))[0]
            t = min(mel_gen.shape[-1], mel_ref.shape[-1])
            abs_sum += float(torch.sum(torch.abs(mel_gen[:, :t] - mel_ref[:, :t])))
            n_cells += mel_ref.shape[0] * t
            if with_f0:
                ref, voiced = reference_f0(clip)
                track = f0_praat(audio[0].cpu().numpy(), cfg.data.sampling_rate, hop, len(ref))
                both = (track > 0) & voiced
                if both.any():
                    cents = 1200.0 * np.log2(track[both] / ref[both])
                    sq_cents += float(np.sum(cents**2))
                    n_voiced += int(both.sum())
                    n_gross += int(np.sum(np.abs(cents) > 50.0))
                vuv_sum += float(np.sum((track > 0) != voiced))
                n_frames += len(ref)
    finally:
        net_g.train(was_training)
    l1 = abs_sum / max(n_cells, 1)
    out = {f"{prefix}/mel": l1 * cfg.train.c_mel, f"{prefix}/mel_l1": l1}
    if with_f0:
        rmse = math.sqrt(sq_cents / n_voiced) if n_voiced else math.nan
        out[f"{prefix}/f0_rmse_cents"] = rmse
        out[f"{prefix}/f0_gross_error"] = n_gross / n_voiced if n_voiced else math.nan
        out[f"{prefix}/vuv_error"] = vuv_sum / max(n_frames, 1)
    return out
