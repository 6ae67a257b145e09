"""Verdicts settled against the whole run: a divergence voids later checkpoints, a blown-up
mel loss shows in the total, a held-out curve the Overall calls overfitting says so too."""

from __future__ import annotations

import json
import math

import numpy as np
from test_diagnosis import STEPS, flat_after_start, make_run, still_falling

from sweeper.detect import Reason
from sweeper.diagnose import diagnose, panel_title, render_text, to_dict

AFTER = (0, 17000, 18000, 19000)  # keep_ckpts 3: all written after step 16000


def nan_from_16000() -> np.ndarray:
    values = flat_after_start()
    values[80:] = math.nan  # STEPS[80] == 16000
    return values


def test_a_run_nan_since_16000_advises_none_of_the_checkpoints_kept_after_it():
    # Before 2026-12-07: "keep G_17000.pth, the earliest kept after step ...", NaN weights.
    run = make_run(checkpoints=AFTER, loss__g__mel=nan_from_16000(), loss__g__kl=still_falling())
    diagnosis = diagnose(run)
    text = render_text(diagnosis)
    assert "keep G_1" not in text
    for name in ("loss/g/mel", "loss/g/kl"):  # the kl term itself never went NaN
        assert diagnosis.signals[name].checkpoint is None
        line = next(x for x in text.splitlines() if x.startswith(f"  {name}"))
        assert "none of the kept checkpoints is usable: G_17000.pth to G_19000.pth" in line
        assert "step 16000" in line
    assert to_dict(diagnosis)["signals"]["loss/g/mel"]["checkpoint"] is None
    # One kept before the NaNs is still advised.
    run = make_run(checkpoints=(0, 2000, *AFTER[1:]), loss__g__mel=nan_from_16000())
    report = diagnose(run).signals["loss/g/mel"]
    assert report.best_step is not None and report.best_step < 16000
    assert report.checkpoint is not None and report.checkpoint.startswith("G_2000.pth")


def test_a_diverged_signal_names_its_divergence_in_json_and_plot():
    # It converged long before the NaNs: the plot said "diverged (first stop 8800)" and JSON
    # had no divergence step, while the text said "diverged since step 16000". JSON's
    # stop_step stays the first step the detector would have stopped at (the converged one).
    report = diagnose(make_run(loss__g__mel=nan_from_16000())).signals["loss/g/mel"]
    data = to_dict(diagnose(make_run(loss__g__mel=nan_from_16000())))["signals"]["loss/g/mel"]
    first = report.first_stop
    assert first is not None and first.reason is Reason.CONVERGED and first.step < 16000
    assert (data["verdict"], data["diverged_step"]) == ("diverged", 16000)
    assert (data["stop_step"], data["stop_reason"]) == (first.step, "converged")
    assert data["improvement_left"] is None and data["figures_step"] is None  # none after NaN
    assert (data["first_stop_step"], data["first_stop_reason"]) == (first.step, "converged")
    title = panel_title(report)
    assert title == f"loss/g/mel — diverged @ 16000 (converged @ {first.step} before)"


def test_a_mel_blow_up_is_dated_from_its_first_point_and_shows_in_the_total():
    mel = flat_after_start()
    mel[80:] *= 3.5  # from step 16000 to the end
    run = make_run(checkpoints=AFTER, loss__g__mel=mel, loss__g__total=mel + 11.0)
    diagnosis = diagnose(run)
    mel_report, total = diagnosis.signals["loss/g/mel"], diagnosis.signals["loss/g/total"]
    assert mel_report.blow_up is not None and mel_report.blow_up.step == 16000  # not 16400
    assert total.final.reason is Reason.DIVERGED and total.stop_step == 16000
    text = render_text(diagnosis)
    assert "Overall: diverged since step 16000" in text
    assert "loss/g/total (generator total): diverged since step 16000" in text
    assert "not converged" not in text and "keep G_1" not in text


def overfit_run(checkpoints: tuple[int, ...]):
    # Validation mel bottoms out at 6000 and climbs 30 %; the training mel keeps falling.
    val = 0.5 + 0.3 * np.exp(-STEPS / 1500.0) + np.maximum(STEPS - 6000, 0) * 1e-5
    val *= 1 + np.random.default_rng(3).normal(0.0, 0.01, STEPS.size)
    return make_run(checkpoints=checkpoints, val__mel=val, loss__g__mel=still_falling())


def test_an_overfitting_held_out_signal_says_so_in_text_json_and_plot():
    # Before 2026-12-07 val/mel read "not converged", JSON "continue", the plot "continue".
    diagnosis = diagnose(overfit_run((0, 19200, 19600, 20000)))
    assert diagnosis.overall is not None and diagnosis.overall.reason is Reason.OVERFITTING
    assert diagnosis.overall_since is not None
    onset = diagnosis.overall_since.step
    report = diagnosis.signals["val/mel"]
    assert report.final.reason is Reason.OVERFITTING and report.stop_step == onset
    data = json.loads(json.dumps(to_dict(diagnosis)))["signals"]["val/mel"]
    assert (data["verdict"], data["stop_step"]) == ("overfitting", onset)
    assert "saved while it overfitted" in data["checkpoint_advice"]
    assert panel_title(report) == f"val/mel — overfitting @ {onset}"
    line = next(x for x in render_text(diagnosis).splitlines() if x.startswith("  val/mel"))
    assert line.startswith(f"  val/mel (validation mel L1): overfitting since step {onset}: ")
    assert "not converged" not in line
    # The best (near 6000) was deleted: the kept ones are the overfitted ones, not advised.
    assert "was deleted: the kept ones (G_19200.pth to G_20000.pth)" in line
    assert "keep G_19200" not in render_text(diagnosis)


def test_an_overfitting_run_whose_best_is_kept_advises_it_everywhere():
    diagnosis = diagnose(overfit_run((0, 6000, 20000)))
    assert diagnosis.signals["val/mel"].checkpoint == "G_6000.pth"
    assert diagnosis.signals["loss/g/mel"].checkpoint == "G_6000.pth"  # not the last one
