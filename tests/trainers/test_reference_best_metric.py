"""best/ follows the metric and mode it is given (a sweep's first objective), by the rule of
the sweep's scheduler: after step 0, finite, strictly better. Until 2026-12-07 it was always
the lowest val/mel, and summarize found no best checkpoint in a sweep on another metric."""

from __future__ import annotations

import math

import pytest
import torch

from sweeper.errors import InputError
from sweeper.trainers.reference.best import Best
from sweeper.trainers.reference.config import from_dict
from sweeper.trainers.reference.training import train


def _scheduler_best(history, metric, mode):
    """The step sweeper/tune/_scheduler.py records as a trial's best, from the reports."""
    sign = 1.0 if mode == "min" else -1.0
    best, at = None, None
    for step, metrics in history:
        value = metrics.get(metric)
        if value is None:
            continue
        if step > 0 and math.isfinite(value) and (best is None or sign * value < best):
            best, at = sign * value, step
    return at


def _best_files(run):
    return sorted(p.name for p in (run / "best").iterdir())


@pytest.mark.parametrize(
    "metric, mode",
    # loss/g/mel is logged every 2 steps and validated every 4: best at step 10 here, a
    # step with no G_/D_ pair, whose state then goes to best/ directly.
    [("val/mel_l1", "max"), ("val/vuv_error", "min"), ("loss/g/mel", "min")],
)
def test_best_pair_is_the_step_the_sweep_calls_best(toy_dir, tmp_path, micro_cfg, metric, mode):
    run = tmp_path / "run"
    result = train(micro_cfg, toy_dir, run, max_steps=12, best_metric=metric, best_mode=mode)
    want = _scheduler_best(result.history, metric, mode)
    assert want is not None and result.best_step == want
    assert (result.best_metric, result.best_mode) == (metric, mode)
    assert _best_files(run) == [f"D_{want}.pth", f"G_{want}.pth"]
    g = torch.load(run / "best" / f"G_{want}.pth", weights_only=False)
    assert g["step"] == want and g["best_step"] == want
    assert (g["best_metric"], g["best_mode"]) == (metric, mode)
    assert g["best_val"] == pytest.approx(dict(result.history)[want][metric])


def test_max_mode_keeps_another_pair_than_val_mel_min(toy_dir, tmp_path, micro_cfg):
    # The repro: val/mel_l1 max is the worst val/mel, never the pair val/mel min keeps.
    low = train(micro_cfg, toy_dir, tmp_path / "a", max_steps=12)
    high = train(
        micro_cfg, toy_dir, tmp_path / "b", max_steps=12, best_metric="val/mel_l1",
        best_mode="max",
    )  # fmt: skip
    assert (low.best_metric, low.best_mode) == ("val/mel", "min")  # the default
    assert low.best_step == _scheduler_best(low.history, "val/mel", "min")
    assert high.best_step != low.best_step


def test_resume_keeps_the_best_metric_and_value(toy_dir, tmp_path, micro_cfg):
    run = tmp_path / "run"
    kw = {"best_metric": "val/mel_l1", "best_mode": "max"}
    whole = train(micro_cfg, toy_dir, tmp_path / "whole", max_steps=12, **kw)
    train(micro_cfg, toy_dir, run, max_steps=8, **kw)
    resumed = train(micro_cfg, toy_dir, run, max_steps=12, **kw)
    assert resumed.best_step == whole.best_step
    assert resumed.best_val_mel == pytest.approx(whole.best_val_mel)
    assert "best/ is replaced" not in (run / "train.log").read_text()


def test_resume_by_another_metric_says_so_and_starts_the_best_over(toy_dir, tmp_path, micro_cfg):
    run = tmp_path / "run"
    train(micro_cfg, toy_dir, run, max_steps=8, best_metric="val/mel_l1", best_mode="max")
    result = train(micro_cfg, toy_dir, run, max_steps=12)  # standalone: val/mel min
    assert result.best_step == 12  # the first val/mel after the resume
    log = (run / "train.log").read_text()
    assert "kept its best pair by val/mel_l1 (max), this run keeps it by val/mel (min)" in log


def test_a_metric_the_config_never_reports_is_one_line(toy_dir, tmp_path):
    cfg = from_dict({"preset": "micro", "train": {"use_gan": False}})
    with pytest.raises(InputError, match=r"'loss/d/total'.*use_gan is false; fix: ") as err:
        train(cfg, toy_dir, tmp_path / "run", max_steps=2, best_metric="loss/d/total")
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match=r"best_mode='lowest'.*fix: min or max"):
        train(cfg, toy_dir, tmp_path / "run", max_steps=2, best_mode="lowest")


def test_best_rule_matches_the_scheduler():
    best = Best("val/f0_rmse_cents", "min")
    assert not best.offer(0, {"val/f0_rmse_cents": 1.0})  # step 0: the untrained model
    assert not best.offer(2, {"val/f0_rmse_cents": math.nan})  # no voiced frame
    assert not best.offer(3, {"loss/g/mel": 1.0})  # not reported at this step
    assert best.offer(4, {"val/f0_rmse_cents": 50.0}) and best.step == 4
    assert not best.offer(6, {"val/f0_rmse_cents": 50.0})  # a tie keeps the first
    assert best.offer(8, {"val/f0_rmse_cents": 40.0}) and best.step == 8
    assert not best.offer(10, {"val/f0_rmse_cents": -math.inf})
