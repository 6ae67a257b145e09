"""The Overall line is judged on a signal the run has and that moved; G_0 is never advised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sweeper.diagnose import diagnose, render_text, to_dict
from sweeper.logs import RunLog, Series

STEPS = np.arange(0, 20001, 200)


def still_falling() -> np.ndarray:
    return 40.0 * (1.0 + STEPS / 100.0) ** -0.3


def flat() -> np.ndarray:
    noise = np.random.default_rng(0).normal(0.0, 0.05, STEPS.size)
    return 20.0 + 10.0 * np.exp(-STEPS / 1500.0) + noise


def run_of(**curves: np.ndarray) -> RunLog:
    series = {name.replace("__", "/"): Series(STEPS, values) for name, values in curves.items()}
    return RunLog(Path("run/44k"), series)


def test_a_run_with_only_the_generator_total_is_judged_on_it():
    # so-vits-svc-fork / RVC minimal logs: no loss/g/mel at all.
    diagnosis = diagnose(run_of(loss__g__total=still_falling()))
    assert diagnosis.overall is not None
    assert diagnosis.overall.signal == "loss/g/total"
    assert "no loss/g/mel reported" not in diagnosis.overall.message
    assert json.loads(json.dumps(to_dict(diagnosis)))["overall"]["signal"] == "loss/g/total"
    assert "Overall: continue" in render_text(diagnosis)


def test_a_mel_loss_that_is_zero_throughout_is_skipped_for_the_next_signal():
    diagnosis = diagnose(run_of(loss__g__mel=np.zeros(STEPS.size), loss__g__total=still_falling()))
    assert diagnosis.overall is not None
    assert diagnosis.overall.signal == "loss/g/total"
    assert diagnosis.overall.reason.value == "continue"  # not mel's meaningless "converged"


def test_a_moving_mel_loss_is_still_preferred():
    diagnosis = diagnose(run_of(loss__g__mel=flat(), loss__g__total=still_falling()))
    assert diagnosis.overall is not None and diagnosis.overall.signal == "loss/g/mel"


def test_a_best_step_of_0_never_advises_g_0():
    # No checkpoint files and no "Saving model" lines: the last fallback used to be G_0.pth.
    from sweeper.diagnose import checkpoint_for

    for unit in ("step", "epoch"):
        run = RunLog(Path("x"), {}, checkpoint_unit=unit)
        advice = checkpoint_for(0, run)
        assert advice is not None and "G_0" not in advice
    one_point = RunLog(Path("x"), {"loss/g/mel": Series(np.array([0]), np.array([30.0]))})
    assert "G_0" not in render_text(diagnose(one_point))


def test_a_nan_tail_in_a_per_step_log_is_dated_from_its_first_raw_step():
    # 3000 points, one a step: judged on span means (3-step spans), dated on the raw steps.
    steps = np.arange(1, 3001)
    values = 30.0 * (1.0 + steps / 100.0) ** -0.3
    values[1999:] = np.nan  # from step 2000, inside the span 1999..2001, to the end
    run = RunLog(Path("run/44k"), {"loss/g/mel": Series(steps, values)})
    diagnosis = diagnose(run)
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason.value == "diverged"
    assert "Overall: diverged since step 2000 — " in render_text(diagnosis)
    assert diagnosis.overall_stop is not None and diagnosis.overall_stop.step == 2000
    assert report.non_finite_since == 2000
    assert report.stop_step == 2000
    assert "from step 2000 to the end (1001 point(s))" in report.final.message


def _short_run(rise: float, seed: int) -> RunLog:
    """31 evaluations (the docs/trainer.md overfitting run's count, under the 40 the
    overfitting test needs): val/mel falls, then climbs ``rise`` from 40 % of the run on,
    while the training mel keeps falling; cv 2 %."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, 31)
    val = (1 + 0.5 * np.exp(-t / 0.08) + rise * np.clip(t - 0.4, 0, None) / 0.6) * (
        1 + 0.02 * rng.standard_normal(t.size)
    )
    train = 20 * (1 + 2 * np.exp(-t / 0.3)) * (1 + 0.03 * rng.standard_normal(t.size))
    steps = np.arange(31) * 50
    series = {"val/mel": Series(steps, val), "loss/g/mel": Series(steps, train)}
    return RunLog(Path("run/44k"), series)


def test_a_short_run_climbing_while_training_falls_is_likely_overfitting_not_continue():
    """It was told "continue — val/mel turned up ...": the overfitting test waits for 40
    evaluations. The Overall says what the rise looks like and which checkpoint to keep;
    JSON keeps the detector's verdict (no stop) and flags the suspicion in its evidence."""
    for seed in range(5):
        diagnosis = diagnose(_short_run(0.15, seed))
        line = render_text(diagnosis).splitlines()[1]
        assert line.startswith("Overall: likely overfitting — val/mel "), line
        assert "while loss/g/mel keeps improving" in line
        assert "(it needs 40 evaluations, 31 so far)" in line
        assert f"keep the checkpoint at or before step {diagnosis.overall.best_step}" in line
        overall = json.loads(json.dumps(to_dict(diagnosis)))["overall"]
        assert overall["verdict"] == "continue" and overall["stop_step"] is None
        assert overall["evidence"]["overfitting_suspected"] is True
        assert overall["message"] == line.removeprefix("Overall: ")


def test_a_short_flat_run_is_not_called_likely_overfitting():
    lines = [render_text(diagnose(_short_run(0.0, seed))).splitlines()[1] for seed in range(20)]
    assert not any("overfitting" in line for line in lines), lines
