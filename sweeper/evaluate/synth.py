"""Synthesise a trial's validation items from a loaded reference generator (torch, lazy).

The settings are the reference trainer's validation ones (``validate.evaluate``): noise scale
0.35, the clip's own content, f0, uv and speaker, a private seeded generator. The returned
refs/outs/ref_f0 feed ``sweeper.evaluate.evaluate`` directly.
"""

from __future__ import annotations

import numpy as np


def synthesize(net_g, clips, device=None, seed: int = 0, noise_scale: float = 0.35):
    """``(refs, outs, ref_f0)``: numpy lists, one entry per clip, in clip order.

    ``clips`` are ``sweeper.trainers.reference.data.Clip``; ``ref_f0`` is the toy set's true
    f0 where saved, else the f0 the model was given.
    """
    import torch

    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    was_training = net_g.training
    net_g.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    refs, outs, ref_f0 = [], [], []
    try:
        with torch.no_grad():
            for clip in clips:
                audio = net_g.infer(
                    clip.content[None].to(device),
                    clip.f0[None].to(device),
                    clip.uv[None].to(device),
                    torch.tensor([clip.sid], device=device),
                    noise_scale=noise_scale,
                    generator=gen,
                )[0, 0]
                outs.append(audio.float().cpu().numpy())
                refs.append(clip.audio.float().cpu().numpy())
                f0 = clip.true_f0 if clip.true_f0 is not None else clip.f0
                ref_f0.append(np.asarray(f0.cpu().numpy(), dtype=np.float64))
    finally:
        net_g.train(was_training)
    return refs, outs, ref_f0
