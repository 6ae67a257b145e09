"""Validation metrics: exact on a perfect generator, large on a silent one."""

from __future__ import annotations

import math

import pytest
import torch

from sweeper.trainers.reference.data import load_split
from sweeper.trainers.reference.validate import evaluate


class _Replay(torch.nn.Module):
    """A stand-in generator whose inference output is a fixed list of waveforms."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs = list(outputs)

    def infer(self, c, f0, uv, sid, noise_scale=0.35, generator=None):
        return self.outputs.pop(0)[None, None]


def test_perfect_output_scores_zero_mel_and_small_f0_error(toy_dir, micro_cfg):
    clips = load_split(micro_cfg, toy_dir, "val")
    net = _Replay(c.audio for c in clips)
    net.train()
    m = evaluate(net, clips, micro_cfg, torch.device("cpu"))
    assert net.training  # the caller's mode is restored
    assert m["val/mel"] == pytest.approx(0.0, abs=1e-4)
    assert m["val/f0_rmse_cents"] < 60  # Praat on the real clip against the true f0
    assert m["val/vuv_error"] < 0.2 and m["val/f0_gross_error"] < 0.2


def test_silent_output_scores_badly(toy_dir, micro_cfg):
    clips = load_split(micro_cfg, toy_dir, "val")
    silent = _Replay(torch.zeros_like(c.audio) for c in clips)
    m = evaluate(silent, clips, micro_cfg, torch.device("cpu"))
    assert m["val/mel_l1"] > 2.0
    assert m["val/mel"] == pytest.approx(m["val/mel_l1"] * micro_cfg.train.c_mel)
    assert math.isnan(m["val/f0_rmse_cents"])  # nothing voiced in the output
    assert m["val/vuv_error"] > 0.5
