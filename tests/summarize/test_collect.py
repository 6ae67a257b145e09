"""Reading a trial of a sweep folder: its curves when Ray rewrote its result.json."""

from __future__ import annotations

import json

import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from sweeper.summarize.collect import _record


def _trial(ray_id: str, values: dict[int, float], best_step: int, *, ended: bool = True):
    """A sweep trial as the study holds it: val/mel reports, its best, and (``ended``) its
    outcome at the last report."""
    best = values[best_step]
    attrs = {
        "ray_trial_id": ray_id,
        "config": {"train.learning_rate": 1e-3},
        "best": {"step": best_step, "metrics": ["val/mel"], "values": {"val/mel": best}},
    }
    if ended:
        attrs["outcome"] = {
            "rule": "budget", "message": "ran to its budget", "step": max(values),
            "best_step": best_step, "best_value": best,
        }  # fmt: skip
    return create_trial(
        state=TrialState.COMPLETE if ended else TrialState.RUNNING,
        value=best if ended else None,
        params={"train.learning_rate": 1e-3},
        distributions={"train.learning_rate": FloatDistribution(1e-4, 1e-2, log=True)},
        user_attrs=attrs, intermediate_values=values,
    )  # fmt: skip


def test_a_resumed_trials_curve_keeps_the_steps_only_the_study_has(tmp_path):
    """Ray rewrites result.json of a trial restored by a driver resume from its checkpoint
    on: the objective curve started at step 10 instead of 0 in summarize's plots."""
    trial = _trial("r1", {0: 40.0, 5: 30.0, 10: 20.0, 15: 21.0}, best_step=10)
    folder = tmp_path / "trial_r1"
    folder.mkdir()
    rows = [{"step": s, "val/mel": v, "loss/g/mel": 1.0} for s, v in ((10, 20.0), (15, 21.5))]
    (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rec = _record(trial, tmp_path)
    assert rec.curves["val/mel"] == ([0, 5, 10, 15], [40.0, 30.0, 20.0, 21.5])  # file wins
    assert rec.curves["loss/g/mel"] == ([10, 15], [1.0, 1.0])


def test_a_nan_at_the_best_step_is_missing_not_an_older_value(tmp_path):
    """A metric NaN or inf at the best step has no value there: the last finite value before
    it (another checkpoint's) was shown and ranked. A metric logged at another interval
    keeps its last report before the step."""
    attrs = {
        "ray_trial_id": "r2",
        "config": {"train.learning_rate": 1e-3},
        "best": {"step": 10, "metrics": ["val/mel_l1"], "values": {"val/mel_l1": 0.7}},
        "outcome": {"rule": "budget", "message": "ran to its budget", "step": 10,
                    "best_step": 10, "best_value": 0.7},
    }  # fmt: skip
    trial = create_trial(
        state=TrialState.COMPLETE, value=0.7,
        params={"train.learning_rate": 1e-3},
        distributions={"train.learning_rate": FloatDistribution(1e-4, 1e-2, log=True)},
        user_attrs=attrs, intermediate_values={5: 0.8, 10: 0.7},
    )  # fmt: skip
    folder = tmp_path / "trial_r2"
    folder.mkdir()
    rows = [
        {"step": 5, "val/mel_l1": 0.8, "val/f0_rmse_cents": 500.0, "loss/g/total": 9.0,
         "train/mel": 3.0},
        {"step": 10, "val/mel_l1": 0.7, "val/f0_rmse_cents": float("nan"),
         "loss/g/total": float("inf")},
    ]  # fmt: skip
    (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "G_10.pth").write_bytes(b"")
    rec = _record(trial, tmp_path)
    assert rec.values == {"val/mel_l1": 0.7, "train/mel": 3.0}


def test_an_unfinished_trial_gives_the_step_status_shows_and_where_its_log_reaches(tmp_path):
    """summarize said "still running (step 115)" for a trial of an interrupted sweep that
    `sweeper status` showed at 110: its train.log had got past the last report (a probe)."""
    trial = _trial("r3", {100: 21.0, 105: 20.5, 110: 20.0}, best_step=110, ended=False)
    folder = tmp_path / "trial_r3"
    folder.mkdir()
    rows = [{"step": s, "val/mel": v} for s, v in ((110, 20.0), (115, 19.9))]
    (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rec = _record(trial, tmp_path)
    assert rec.problem == "unfinished (step 110; its log reaches 115)"
    (folder / "result.json").write_text(json.dumps(rows[0]) + "\n")
    assert _record(trial, tmp_path).problem == "unfinished (step 110)"


def test_a_report_result_json_lost_at_the_trials_end_comes_from_its_run_events(tmp_path):
    """A driver killed as a trial ended: the study has its step 60, result.json stops at 55,
    and a resume ends the trial without Ray, so every metric but the objective stopped at 55
    in summarize's curves, though the trial started once (a probe, 2026-12-08)."""
    from torch.utils.tensorboard import SummaryWriter

    trial = _trial("r4", {50: 21.0, 55: 20.5, 60: 20.0}, best_step=60)
    folder = tmp_path / "trial_r4"
    run = folder / "run"
    run.mkdir(parents=True)
    (run / "placement.jsonl").write_text('{"node": "a", "pid": 1}\n')  # started once
    writer = SummaryWriter(log_dir=str(run))
    for step, mel in ((50, 3.0), (55, 2.9), (60, 2.8)):
        writer.add_scalar("train/mel", mel, step)
    writer.close()
    rows = [{"step": s, "val/mel": v, "train/mel": t} for s, v, t in ((50, 21.0, 3.0),
                                                                      (55, 20.5, 2.9))]
    (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rec = _record(trial, tmp_path)
    assert rec.curves["train/mel"][0] == [50, 55, 60]
    assert rec.curves["train/mel"][1][-1] == pytest.approx(2.8)
    assert rec.curves["val/mel"][0] == [50, 55, 60]  # the study's, as before
