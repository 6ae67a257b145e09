"""Validation metrics: exact on a perfect generator, large on a silent one."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

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


@pytest.mark.parametrize("unvoiced_output", ["silence", "430 Hz"])
def test_reference_voicing_of_a_4_1_pair_comes_from_uv_not_f0(
    write_sovits_files, toy_dir, tmp_path, micro_cfg, unvoiced_output
):
    # so-vits-svc 4.1 interpolates f0 through unvoiced frames: f0 > 0 everywhere, uv = 0 on
    # the first quarter. Output that is silent there is no vuv error, and no pitch there is an
    # f0 error.
    shutil.copytree(toy_dir, tmp_path / "d")
    rel = (tmp_path / "d" / "filelists" / "val.txt").read_text().splitlines()[0]
    wav = (tmp_path / "d" / rel).resolve()
    Path(f"{wav}.f0_true.npy").unlink()  # judge against the given f0, as on real data
    write_sovits_files(wav, micro_cfg)
    clip = next(c for c in load_split(micro_cfg, tmp_path / "d", "val") if c.path == str(wav))
    sr, hop = micro_cfg.data.sampling_rate, micro_cfg.data.hop_length
    t = torch.arange(clip.audio.numel()) / sr
    out = 0.5 * torch.sin(2 * math.pi * 300.0 * t)
    gap = clip.f0.shape[0] // 4 * hop
    high = 0.5 * torch.sin(2 * math.pi * 430.0 * t[:gap])
    out[:gap] = 0.0 if unvoiced_output == "silence" else high
    m = evaluate(_Replay([out]), [clip], micro_cfg, torch.device("cpu"))
    assert m["val/f0_rmse_cents"] < 20 and m["val/f0_gross_error"] < 0.05
    if unvoiced_output == "silence":
        assert m["val/vuv_error"] < 0.08  # f0 > 0 as voicing gave about 0.25
    else:
        assert m["val/vuv_error"] > 0.2  # voiced output where uv says unvoiced
