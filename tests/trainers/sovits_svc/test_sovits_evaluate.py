"""The evaluator process: imports the checkout by path, NaN for a diverged model, and a
failure that names the step and the log to read."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import pytest

from sweeper.trainers.sovits_svc.evaluate import Evaluation, EvaluationError, evaluator_argv
from sweeper.trainers.sovits_svc.launch import absolute_filelist

torch = pytest.importorskip("torch")


def _config(checkout: Path, tmp_path: Path) -> str:
    config = json.loads((checkout / "configs" / "config.json").read_text())
    val = tmp_path / "val.txt"
    val.write_text(absolute_filelist((checkout / "filelists" / "val.txt").read_text(), checkout))
    config["data"]["validation_files"] = str(val)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def _evaluate(checkout: Path, tmp_path: Path, checkpoint: Path) -> Evaluation:
    argv = evaluator_argv(
        sys.executable, str(checkout), _config(checkout, tmp_path), str(checkpoint), device="cpu"
    )
    job = Evaluation.start(7, argv, dict(os.environ), str(tmp_path), tmp_path / "logs")
    deadline = time.monotonic() + 120
    while job.popen.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return job


def test_a_diverged_checkpoint_gives_nan_metrics(checkout, tmp_path):
    ckpt = tmp_path / "G_7.pth"
    torch.save({"model": {"amplitude": torch.tensor([math.nan])}, "iteration": 1}, ckpt)
    metrics = _evaluate(checkout, tmp_path, ckpt).result()
    assert metrics is not None
    assert math.isnan(metrics["val/mel"]) and math.isnan(metrics["val/f0_rmse_cents"])


def test_a_good_checkpoint_scores_near_zero_and_the_checkout_is_not_copied(checkout, tmp_path):
    ckpt = tmp_path / "G_7.pth"
    torch.save({"model": {"amplitude": torch.tensor([0.3])}, "iteration": 1}, ckpt)
    metrics = _evaluate(checkout, tmp_path, ckpt).result()
    assert metrics is not None
    assert metrics["val/mel"] < 5 and metrics["val/vuv_error"] < 0.1
    assert metrics["val/f0_rmse_cents"] < 30
    assert not (tmp_path / "models.py").exists()


def test_a_failing_evaluation_names_the_step_and_its_log(checkout, tmp_path):
    job = _evaluate(checkout, tmp_path, tmp_path / "missing.pth")
    with pytest.raises(EvaluationError, match=r"step 7 failed .*eval_7\.err"):
        job.result()


def test_a_base_model_with_other_shapes_still_loads(checkout, tmp_path):
    # A community G_0 trained for another n_speakers: so-vits-svc keeps fresh weights there.
    ckpt = tmp_path / "G_0.pth"
    torch.save({"model": {"amplitude": torch.zeros(3), "emb_g": torch.zeros(200, 4)}}, ckpt)
    metrics = _evaluate(checkout, tmp_path, ckpt).result()
    assert metrics is not None and metrics["val/mel"] > 0


@pytest.mark.parametrize("evaluate", [True, False])
def test_a_python_without_the_requirements_is_one_input_error(trial, tmp_path, evaluate):
    """sovits.python without so-vits-svc's requirements (a stand-in: this python with -S, no
    site-packages), a base model G_0 evaluated first: the evaluator's failed import was an
    EvaluationError, retried, advising evaluate: false, before 2026-12-07."""
    from sweeper.errors import InputError
    from sweeper.trainers.sovits_svc import run

    python = tmp_path / "bare-python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    python.chmod(0o755)
    for name in ("G_0.pth", "D_0.pth"):
        torch.save({"model": {}, "iteration": 1}, tmp_path / name)
    spec = trial(
        evaluate=evaluate, python=str(python), pretrained_g=str(tmp_path / "G_0.pth"),
        pretrained_d=str(tmp_path / "D_0.pth"),
    )  # fmt: skip
    with pytest.raises(InputError, match=r"cannot import what it needs \(ModuleNotFound") as err:
        run(spec, lambda *a, **k: None)
    assert "install so-vits-svc's requirements" in str(err.value)
    assert "evaluate: false" not in str(err.value)
