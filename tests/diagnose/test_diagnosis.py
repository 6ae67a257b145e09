"""diagnose(): per-signal replay, health guards, checkpoints, restrictions and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sweeper.detect import Reason, Verdict
from sweeper.diagnose import (
    checkpoint_for,
    diagnose,
    merged_by_step,
    render_text,
    signal_message,
    to_dict,
)
from sweeper.errors import InputError
from sweeper.logs import RunLog, Series

STEPS = np.arange(0, 20001, 200)


def flat_after_start(seed: int = 0) -> np.ndarray:
    """Drops fast, then sits at 20 with small noise: converges early."""
    noise = np.random.default_rng(seed).normal(0.0, 0.05, STEPS.size)
    return 20.0 + 10.0 * np.exp(-STEPS / 1500.0) + noise


def still_falling() -> np.ndarray:
    """A steady power-law decay: much is left when the log ends."""
    return 40.0 * (1.0 + STEPS / 100.0) ** -0.3


def make_run(checkpoints=(), logged=(), **curves) -> RunLog:
    series = {name.replace("__", "/"): Series(STEPS, values) for name, values in curves.items()}
    return RunLog(Path("run/44k"), series, checkpoints=checkpoints, logged_checkpoints=logged)


def test_flat_curve_converges_and_reports_when():
    run = make_run(loss__g__mel=flat_after_start(), checkpoints=(0, 4000, 8000))
    report = diagnose(run).signals["loss/g/mel"]
    assert report.final.reason is Reason.CONVERGED
    assert report.stop_step is not None and 2000 < report.stop_step < 20000
    assert report.best_step is not None
    assert report.checkpoint == f"G_{max(c for c in (0, 4000, 8000) if c <= report.best_step)}.pth"
    message = render_text(diagnose(run))
    assert f"converged at step {report.stop_step}" in message
    assert f"keep {report.checkpoint}" in message


def test_falling_curve_is_not_converged_and_says_how_much_is_left():
    diagnosis = diagnose(make_run(loss__g__mel=still_falling()))
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason is Reason.CONTINUE
    assert report.stop_step is None
    left = report.evidence("improvement_left")
    upper = report.evidence("improvement_left_upper")
    # A noise-free power law has 19 % left over as many steps again.
    assert left is not None and upper is not None and upper >= left > 0.05
    text = render_text(diagnosis)
    assert f"not converged — still improving; likely {100 * left:.0f} % better" in text
    assert "if you train as long again" in text
    assert "best so far at step 20000" in text


def test_budget_changes_the_horizon_wording():
    diagnosis = diagnose(make_run(loss__g__mel=still_falling()), budget=40000)
    assert "by step 40000" in render_text(diagnosis)


def test_health_guards_are_reported_apart_from_convergence():
    d_loss = np.full(STEPS.size, 2.5)
    d_loss[50] = math.nan
    diagnosis = diagnose(make_run(loss__g__mel=still_falling(), loss__d__total=d_loss,
                                  grad_norm_g=np.ones(STEPS.size)))  # fmt: skip
    assert list(diagnosis.signals) == ["loss/g/mel"]
    assert set(diagnosis.health) == {"loss/d/total", "grad_norm_g"}
    guard = diagnosis.health["loss/d/total"]
    assert (guard.non_finite, guard.first_non_finite_step) == (1, 10000)
    assert "1 non-finite value(s), first at step 10000" in render_text(diagnosis)



def test_guards_at_0_throughout_get_a_note_not_a_silent_ok():
    """A run without its GAN logs 0 for the adversarial terms: "ok" said nothing of that."""
    zero = np.zeros(STEPS.size)
    diagnosis = diagnose(make_run(loss__g__mel=still_falling(), loss__d__total=zero,
                                  loss__g__gen=zero, grad_norm_g=np.ones(STEPS.size)))  # fmt: skip
    notes = [n for n in diagnosis.notes if "0 at every point" in n]
    assert notes == [
        "loss/d/total, loss/g/gen are 0 at every point: the term is off (use_gan: false, or a "
        "weight of 0) or not logged, so its health says nothing"
    ]


def test_signals_come_in_priority_order_with_other_val_tags_after():
    curves = {"loss__g__kl": still_falling(), "val__f0": still_falling(),
              "loss__g__mel": still_falling(), "val__mel": still_falling()}  # fmt: skip
    assert list(diagnose(make_run(**curves)).signals) == [
        "val/mel",
        "loss/g/mel",
        "loss/g/kl",
        "val/f0",
    ]


def test_signals_argument_restricts_the_report():
    run = make_run(loss__g__mel=still_falling(), loss__g__kl=still_falling())
    diagnosis = diagnose(run, signals=["loss/g/kl"])
    assert list(diagnosis.signals) == ["loss/g/kl"]
    assert diagnosis.health == {}


def test_unknown_signal_lists_the_signals_present():
    run = make_run(loss__g__mel=still_falling(), loss__g__kl=still_falling())
    with pytest.raises(
        InputError, match=r"unknown signal 'val/mel': .* holds loss/g/kl, loss/g/mel;"
    ):
        diagnose(run, signals=["val/mel"])


def test_overfitting_is_said_to_be_unjudgeable_without_validation():
    text = render_text(diagnose(make_run(loss__g__mel=still_falling())))
    assert "overfitting: cannot be judged — no val/* signal" in text
    with_val = render_text(diagnose(make_run(val__mel=still_falling())))
    assert "overfitting: cannot be judged" not in with_val


def test_one_point_cannot_be_judged():
    run = RunLog(Path("x"), {"loss/g/mel": Series(np.array([0]), np.array([30.0]))})
    report = diagnose(run).signals["loss/g/mel"]
    assert report.final.reason is Reason.CONTINUE and report.stop_step is None
    assert "cannot judge yet: 1 finite point(s)" in render_text(diagnose(run))


def test_all_non_finite_cannot_be_judged():
    run = make_run(loss__g__mel=np.full(STEPS.size, math.nan))
    diagnosis = diagnose(run)
    assert diagnosis.signals["loss/g/mel"].best_step is None
    assert f"cannot judge: all {STEPS.size} value(s) are NaN or inf" in render_text(diagnosis)


def test_nan_in_a_signal_does_not_break_the_replay():
    values = flat_after_start()
    values[[10, 60, 61]] = [math.nan, math.inf, -math.inf]
    report = diagnose(make_run(loss__g__mel=values)).signals["loss/g/mel"]
    assert report.finite == STEPS.size - 3
    assert report.final.reason is not Reason.DIVERGED  # a NaN mid-run is not the end of it


UNKNOWN_12400 = "the G_<step>.pth saved last at or before step 12400, if any (none is known)"


@pytest.mark.parametrize(
    ("best", "saved", "logged", "expected"),
    [
        (12400, (0, 12000, 13000), (), "G_12000.pth"),
        (12000, (0, 12000), (), "G_12000.pth"),
        (12400, (), (0, 1000, 12000), "G_12000.pth (saved per train.log)"),
        # so-vits-svc keeps G_0 (the base model) and the last few: the best one may be gone.
        (25800, (0, 28000, 28800), (), "G_28000.pth, the earliest kept after step 25800"),
        (12400, (13000,), (), "G_13000.pth, the earliest kept after step 12400"),
        # The nearer one: before 2026-12-07 the one before always, here 27.8k steps off.
        (37800, (0, 10000, 38400, 40000), (), "G_38400.pth, the earliest kept after step 37800"),
        (12500, (0, 12000, 13000), (), "G_12000.pth"),  # a tie: the one before
        # Only G_0 listed: nothing to keep (advise() says so); no guess at a file.
        (12400, (0,), (), None),
        # No kept file known: checkpoints fall every eval_interval, rarely on the best step.
        (12400, (), (), UNKNOWN_12400),
        (None, (0,), (), None),
    ],
)
def test_checkpoint_is_the_nearest_kept_to_the_best_never_g_0(best, saved, logged, expected):
    run = RunLog(Path("x"), {}, checkpoints=saved, logged_checkpoints=logged)
    assert checkpoint_for(best, run) == expected


@pytest.mark.parametrize(
    ("best", "saved", "kept_best", "expected"),
    [
        # A sweep trial's run folder: the rolling pair is past the best (overfit), the best
        # is kept in best/ (before: "keep G_200.pth", the overfit one).
        (145, (200,), (145,), "best/G_145.pth"),
        (150, (200,), (145,), "best/G_145.pth"),
        (210, (200,), (145,), "G_200.pth"),
        (100, (200,), (145,), "best/G_145.pth, the earliest kept after step 100"),
    ],
)
def test_a_kept_best_beside_the_rolling_checkpoints_is_named(best, saved, kept_best, expected):
    run = RunLog(Path("x"), {}, checkpoints=saved, kept_best=kept_best)
    assert checkpoint_for(best, run) == expected


def test_reading_a_sweep_trial_folder_finds_its_kept_best(tmp_path):
    from sweeper.logs import read_run

    (tmp_path / "best").mkdir()
    for name in ("G_200.pth", "D_200.pth", "best/G_145.pth"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "train.log").write_text(
        "2026-01-01 00:00:00,000\t44k\tINFO\tLosses: [2.0, 2.5, 9.0, 20.0, 1.0], step: 5, "
        "lr: 0.0001, reference_loss: 34.5\n"
    )
    run = read_run(tmp_path)
    assert (run.checkpoints, run.kept_best) == ((200,), (145,))
    assert checkpoint_for(150, run) == "best/G_145.pth"
    # A so-vits-svc trial: train.py's logs and pairs in run/logs/44k, the kept best in run/.
    model_dir = tmp_path / "sovits" / "logs" / "44k"
    model_dir.mkdir(parents=True)
    (tmp_path / "best").rename(tmp_path / "sovits" / "best")
    (tmp_path / "train.log").rename(model_dir / "train.log")
    (model_dir / "G_200.pth").write_bytes(b"")
    run = read_run(model_dir)
    assert checkpoint_for(150, run) == "../../best/G_145.pth"


def test_the_learning_rate_is_not_judged_as_a_loss():
    run = make_run(loss__g__mel=flat_after_start(), learning_rate=np.full(STEPS.size, 1e-4))
    with pytest.raises(InputError, match=r"learning_rate is the learning-rate schedule.*g/mel"):
        diagnose(run, signals=["learning_rate"])


def test_budget_must_be_positive():
    with pytest.raises(InputError, match="--budget must be a positive number of steps, got 0"):
        diagnose(make_run(loss__g__mel=still_falling()), budget=0)


def test_run_without_any_known_signal_names_what_it_found():
    with pytest.raises(InputError, match=r"no convergence signal in .*: found learning_rate;"):
        diagnose(make_run(learning_rate=np.ones(STEPS.size)))


def test_overall_verdict_comes_from_the_combined_detector():
    diagnosis = diagnose(
        make_run(loss__g__mel=flat_after_start(), loss__d__total=np.ones(STEPS.size))
    )
    assert isinstance(diagnosis.overall, Verdict)


def test_merged_by_step_feeds_every_metric_logged_at_a_step():
    run = RunLog(Path("x"), {
        "a": Series(np.array([0, 200]), np.array([1.0, 2.0])),
        "b": Series(np.array([100, 200]), np.array([3.0, 4.0])),
    })  # fmt: skip
    assert list(merged_by_step(run.series)) == [
        (0, {"a": 1.0}),
        (100, {"b": 3.0}),
        (200, {"a": 2.0, "b": 4.0}),
    ]


def test_json_form_is_strict_and_complete():
    values = flat_after_start()
    values[5] = math.nan
    run = make_run(loss__g__mel=values, loss__g__kl=still_falling(), loss__d__total=values)
    data = json.loads(json.dumps(to_dict(diagnose(run)), allow_nan=False))
    assert set(data) >= {"source", "overall", "signals", "health", "notes"}
    mel = data["signals"]["loss/g/mel"]
    assert mel["verdict"] == "converged" and isinstance(mel["stop_step"], int)
    kl = data["signals"]["loss/g/kl"]
    assert kl["verdict"] == "continue" and kl["stop_step"] is None and kl["best_step"] == 20000
    for signal in data["signals"].values():
        assert set(signal) >= {
            "verdict", "stop_step", "best_step", "last_step", "improvement_left",
            "improvement_left_upper", "message",
        }  # fmt: skip
    assert data["health"]["loss/d/total"]["non_finite"] == 1
    assert data["overall"]["verdict"] in {r.value for r in Reason}


def test_a_rising_held_out_curve_is_overfitting_on_its_own_line_and_keeps_an_earlier_checkpoint():
    # Validation mel bottoms out at step 6000, then climbs 0.5 % per 1000 steps. The Overall
    # judges it overfitting; its own line said "converged ... now rising" until 2026-12-07.
    values = 0.5 + 0.3 * np.exp(-STEPS / 1500.0) + np.maximum(STEPS - 6000, 0) * 5e-6
    run = make_run(val__mel=values, checkpoints=(4000, 8000, 20000))
    diagnosis = diagnose(run)
    report = diagnosis.signals["val/mel"]
    assert diagnosis.overall is not None and diagnosis.overall.reason is Reason.OVERFITTING
    assert report.final.reason is Reason.OVERFITTING
    assert diagnosis.overall_since is not None
    assert report.stop_step == diagnosis.overall_since.step
    assert report.best_step is not None and report.best_step < 12000
    assert report.checkpoint in {"G_4000.pth", "G_8000.pth"}
    assert f"overfitting since step {report.stop_step}: " in render_text(diagnosis)


def per_step(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Lightning-style log: a point per step, each one batch's loss (10 % noise)."""
    steps = np.arange(1, n + 1)
    rng = np.random.default_rng(seed)
    flat = 20.0 * (1 + 0.1 * rng.normal(size=n))
    falling = 40.0 * (1.0 + steps / 20.0) ** -0.3 * (1 + 0.1 * rng.normal(size=n))
    return steps, flat, falling


def test_a_run_logged_every_step_is_judged_on_span_means():
    steps, flat, falling = per_step(20000)
    series = {"loss/g/kl": Series(steps, flat), "loss/g/mel": Series(steps, falling)}
    run = RunLog(Path("44k"), series)
    diagnosis = diagnose(run)
    kl, mel = diagnosis.signals["loss/g/kl"], diagnosis.signals["loss/g/mel"]
    assert kl.points == mel.points == 1000
    assert kl.final.reason is Reason.CONVERGED and kl.stop_step is not None
    assert kl.stop_step % 20 == 0  # a span's last step
    assert mel.final.reason is Reason.CONTINUE and mel.stop_step is None
    assert any("20-step spans" in note for note in diagnosis.notes)


def test_a_fork_run_with_epoch_named_checkpoints_names_a_step_not_a_file():
    run = RunLog(Path("x"), {}, checkpoints=(0, 5, 10), checkpoint_unit="epoch")
    assert checkpoint_for(12400, run) == "the checkpoint saved last at or before step 12400"


def test_a_signal_nan_to_the_end_is_diverged_since_its_first_nan():
    values = flat_after_start()
    values[80:] = math.nan
    diagnosis = diagnose(make_run(loss__g__mel=values))
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason is Reason.DIVERGED and report.non_finite_since == 16000
    # It converged before that; the stop behind "diverged" is the NaN (one event, one step).
    assert report.first_stop is not None and report.first_stop.step < 16000
    assert report.stop_step == 16000
    text = render_text(diagnosis)
    assert "loss/g/mel (training mel, x c_mel): diverged since step 16000" in text
    assert "Overall: diverged since step 16000" in text  # not "... is nan at step 20000"


FLAT_300 = 20.0 * (1 + np.random.default_rng(17).normal(0.0, 0.06, 300))  # a flat noisy curve
STEPS_300 = np.arange(300) * 200


def test_a_converged_stop_stands_when_the_level_has_not_fallen_since():
    # The detector stops this flat curve at 12200, its first confirmed check after the 60
    # points a no-budget stop needs (13200 with 40 before the slope errors were calibrated,
    # 2026-12-08; 7400 before points were counted); looked at again at the last step its
    # bound happens to be above epsilon: that is noise, the curve never moved on.
    run = RunLog(Path("x"), {"loss/g/mel": Series(STEPS_300, FLAT_300)})
    diagnosis = diagnose(run)
    report = diagnosis.signals["loss/g/mel"]
    assert report.stop_step == 12200
    assert report.final.reason is Reason.CONVERGED
    assert to_dict(diagnosis)["signals"]["loss/g/mel"]["verdict"] == "converged"
    assert "converged at step 12200" in render_text(diagnosis)
    assert render_text(diagnosis).startswith("Run: x\nOverall: converged since step")


def test_a_curve_that_moved_on_after_a_stop_is_not_converged_and_says_how_far():
    values = FLAT_300.copy()
    values[150:] *= np.linspace(1.0, 0.75, 150)  # flat, then a fall of a quarter
    report = diagnose(RunLog(Path("x"), {"loss/g/mel": Series(STEPS_300, values)})).signals[
        "loss/g/mel"
    ]
    assert report.stop_step is not None and report.stop_step < 150 * 200
    assert report.final.reason is Reason.CONTINUE
    fall, noise = report.fall_after_stop
    assert 0.15 < fall < 0.3 and noise < 0.02
    assert f"its level has fallen {round(100 * fall)} % since" in signal_message(
        report, diagnose(RunLog(Path("x"), {"loss/g/mel": Series(STEPS_300, values)}))
    )


def test_a_curve_that_turned_up_is_not_called_improving():
    values = 15.0 + 10.0 * np.exp(-STEPS / 3000.0)
    values[STEPS > 14000] *= 1.0 + (STEPS[STEPS > 14000] - 14000) / 6000.0  # up 100 % by 20k
    values *= 1 + np.random.default_rng(0).normal(0.0, 0.03, STEPS.size)
    diagnosis = diagnose(make_run(loss__g__mel=values))
    message = signal_message(diagnosis.signals["loss/g/mel"], diagnosis)
    assert "turned up" in message and "still improving" not in message
    assert "loss/g/mel turned up" in render_text(diagnosis).splitlines()[1]


@pytest.mark.parametrize("seed", range(5))
def test_a_flat_noisy_curve_is_not_said_to_have_turned_up(seed):
    # KL-like noise (20 %): the last points' median against the lowest of ~290 such medians.
    values = 1.5 * (1 + np.random.default_rng(seed).normal(0.0, 0.2, 300))
    diagnosis = diagnose(RunLog(Path("x"), {"loss/g/kl": Series(STEPS_300, values)}))
    assert "turned up" not in signal_message(diagnosis.signals["loss/g/kl"], diagnosis)


def test_shallow_diffusion_tags_are_named_as_not_judged():
    run = make_run(train__loss=still_falling(), validation__loss=still_falling())
    with pytest.raises(InputError, match=r"loss \(shallow-diffusion logs, not judged\)"):
        diagnose(run)


def test_a_loss_still_falling_keeps_a_recent_checkpoint_not_a_lucky_draw():
    """A probe (2026-12-08): a training mel falling steadily to 10k steps (3 % noise) was
    advised G_2000.pth to G_8000.pth, by the lowest median of 3 neighbours; the newest was
    the best. The best step is the smoothed curve's lowest point (as the plot draws it)."""
    steps = np.arange(0, 10_001, 200)
    kept = tuple(range(1000, 10_001, 1000))
    picked = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        values = (20 - 3 * steps / 10_000) * (1 + 0.03 * rng.standard_normal(steps.size))
        run = RunLog(Path("run/44k"), {"loss/g/mel": Series(steps, values)}, checkpoints=kept)
        report = diagnose(run).signals["loss/g/mel"]
        picked.append(report.checkpoint)
    assert all(name in ("G_9000.pth", "G_10000.pth") for name in picked), picked


def test_an_overfitting_minimum_is_found_through_the_smoothing():
    steps = np.arange(0, 40_001, 200)
    truth = 20 + 10 * np.exp(-steps / 3000) + 3 * (np.maximum(steps - 20_000, 0) / 20_000) ** 1.5
    rng = np.random.default_rng(0)
    values = truth * (1 + 0.04 * rng.standard_normal(steps.size))
    report = diagnose(RunLog(Path("x"), {"loss/g/mel": Series(steps, values)})).signals
    assert 14_000 <= report["loss/g/mel"].best_step <= 26_000
