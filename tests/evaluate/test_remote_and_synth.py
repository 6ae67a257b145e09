"""The Ray wrapper (no cluster started) and synthesis from a loaded generator."""

from __future__ import annotations

import json

import numpy as np
import pytest
from damage_audio import SR

from sweeper.evaluate import Settings, evaluate
from sweeper.evaluate._remote import evaluation_task, run_evaluation


def test_run_evaluation_returns_json_ready_dicts():
    x = np.sin(2 * np.pi * 200 * np.arange(SR) / SR).astype(np.float32)
    out = run_evaluation([x], [x], SR, ["mel_l1", "wer"])
    json.dumps(out)
    assert out["mel_l1"]["value"] == 0.0 and out["wer"]["status"] == "skipped"


def test_evaluation_task_is_a_ray_remote_function_with_the_resources():
    pytest.importorskip("ray")
    task = evaluation_task(num_cpus=2, num_gpus=0)
    assert hasattr(task, "remote") and hasattr(task, "options")


@pytest.fixture
def toy_val(tmp_path):
    torch = pytest.importorskip("torch")
    from sweeper.data.toy import ToySpec, write_toy_dataset
    from sweeper.trainers.reference.config import from_dict
    from sweeper.trainers.reference.data import load_split

    write_toy_dataset(tmp_path, ToySpec(n_speakers=2, clips_per_speaker=2, seconds=1.0,
                                        max_harmonics=20, seed=3))
    cfg = from_dict({"preset": "micro"})
    torch.set_num_threads(1)
    return cfg, load_split(cfg, tmp_path, "val")


def test_synthesis_feeds_evaluate_and_matches_the_trainers_val_metrics(toy_val):
    import torch

    from sweeper.evaluate.synth import synthesize
    from sweeper.trainers.reference.validate import evaluate as validate

    cfg, clips = toy_val

    class Replay(torch.nn.Module):  # stands in for a loaded generator: replays noisy clips
        def __init__(self):
            super().__init__()
            self.queue = [c.audio + 0.05 * torch.randn_like(c.audio) for c in clips]

        def infer(self, c, f0, uv, sid, noise_scale=0.35, generator=None):
            return self.queue.pop(0)[None, None]

    torch.manual_seed(0)
    net = Replay()
    queued = [q.clone() for q in net.queue]
    refs, outs, ref_f0 = synthesize(net, clips, "cpu")
    assert [len(o) for o in outs] == [len(c.audio) for c in clips]
    settings = Settings.from_data_config(cfg.data, threads=1, device="cpu")
    ours = evaluate(refs, outs, cfg.data.sampling_rate,
                    ["mel_l1", "f0_rmse_cents", "vuv_error"], ref_f0=ref_f0, settings=settings)
    net.queue = queued
    theirs = validate(net, clips, cfg, torch.device("cpu"))
    assert ours["mel_l1"].value == pytest.approx(theirs["val/mel_l1"], rel=1e-3)
    assert ours["f0_rmse_cents"].value == pytest.approx(theirs["val/f0_rmse_cents"], rel=1e-3)
    assert ours["vuv_error"].value == pytest.approx(theirs["val/vuv_error"], rel=1e-3)
