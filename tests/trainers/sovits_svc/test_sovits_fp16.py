"""Non-finite training losses under fp16_run, against a STAND-IN train.py (the real one needs
CUDA) that logs NaN losses at chosen steps (STANDIN_NAN_STEPS), as GradScaler's skipped
overflow steps do. Before 2026-12-07 a lone one was reported, read as divergence, and the
trial was pruned with its valid score."""

from __future__ import annotations

import math

from sweeper.trainers.sovits_svc import run
from sweeper.trainers.sovits_svc.screen import RUN, NonFiniteScreen


class Recorder:
    def __init__(self) -> None:
        self.calls: dict[int, dict[str, float]] = {}

    def __call__(self, step, metrics, checkpoint_dir=None):
        self.calls[step] = dict(metrics)


def _nonfinite(metrics: dict[str, float]) -> set[str]:
    return {k for k, v in metrics.items() if not math.isfinite(v)}


def test_fp16_lone_nan_steps_are_left_out_and_the_val_score_kept(trial, monkeypatch):
    monkeypatch.setenv("STANDIN_NAN_STEPS", "15,20")  # 20 is a checkpoint step
    spec = trial(params={"train.fp16_run": True}, evaluate=True)
    rec = Recorder()
    run(spec, rec)
    assert sorted(rec.calls) == list(range(0, 45, 5))
    for step in (15, 20):
        assert not _nonfinite(rec.calls[step]), step
        assert "loss/g/mel" not in rec.calls[step] and "learning_rate" in rec.calls[step]
    assert math.isfinite(rec.calls[20]["val/mel"])
    assert math.isfinite(rec.calls[25]["loss/g/mel"])


def test_fp16_nan_that_persists_is_reported(trial, monkeypatch):
    monkeypatch.setenv("STANDIN_NAN_STEPS", "10,15,20,25")
    rec = Recorder()
    run(trial(params={"train.fp16_run": True}, evaluate=False), rec)
    assert not _nonfinite(rec.calls[10]) and not _nonfinite(rec.calls[15])
    assert "loss/g/mel" in _nonfinite(rec.calls[20])  # the third in a row


def test_fp32_nan_is_reported_at_once(trial, monkeypatch):
    monkeypatch.setenv("STANDIN_NAN_STEPS", "10")
    rec = Recorder()
    run(trial(evaluate=False), rec)
    assert "loss/g/mel" in _nonfinite(rec.calls[10])


def test_screen_counts_logged_steps_in_a_row_and_never_holds_back_val():
    screen = NonFiniteScreen({"train": {"fp16_run": True}})
    nan = math.nan
    assert screen.screen({"loss/g/mel": nan, "val/mel": nan}).keys() == {"val/mel"}
    assert "val/mel" in screen.screen({"loss/g/mel": nan, "val/mel": 1.0})
    assert screen.screen({"loss/g/mel": 2.0}) == {"loss/g/mel": 2.0}  # the run breaks
    for _ in range(RUN - 1):
        assert screen.screen({"loss/g/mel": nan}) == {}
    assert "loss/g/mel" in screen.screen({"loss/g/mel": nan})
    assert NonFiniteScreen({"train": {"fp16_run": False}}).screen({"x": nan}).keys() == {"x"}
