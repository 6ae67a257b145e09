"""Words and JSON agree with the verdict they back: one step per event, no negative gains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from test_diagnosis import FLAT_300, STEPS_300

from sweeper.detect import Reason, Verdict
from sweeper.diagnose import Diagnosis, diagnose, render_text, to_dict
from sweeper.logs import RunLog, Series


def test_the_overall_of_a_flat_curve_converged_throughout_is_dated_at_its_first_stop():
    # Flat and noisy: the combined detector stops at 5200, its bound wanders over epsilon
    # and back, and at the end it is converged "since 33800" - while the signal's own line
    # and JSON's overall.stop_step said 5200 (one event, two steps until 2026-12-07).
    steps = np.arange(400) * 200
    values = 20.0 * (1 + np.random.default_rng(0).normal(0.0, 0.06, 400))
    diagnosis = diagnose(RunLog(Path("x"), {"loss/g/mel": Series(steps, values)}))
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason is Reason.CONVERGED and report.stop_step is not None
    text = render_text(diagnosis)
    assert f"Overall: converged since step {report.stop_step} — " in text
    assert f"converged at step {report.stop_step} (" in text
    overall = to_dict(diagnosis)["overall"]
    assert overall["verdict"] == "converged"
    assert overall["stop_step"] == overall["since_step"] == report.stop_step


def test_an_overall_estimate_at_or_below_zero_is_never_called_better():
    overall = Verdict(
        Reason.CONTINUE,
        40000,
        24800,
        "loss/g/mel is still improving: about -0.1 % better likely over the next 40000 steps "
        "(could be up to 2.1 %) [judged on loss/g/mel, a training loss]",
        "loss/g/mel",
        {"improvement_left": -0.001, "improvement_left_upper": 0.021},
    )
    diagnosis = Diagnosis(Path("x"), overall, None, {}, {})
    line = render_text(diagnosis).splitlines()[1]
    assert "-0.1 %" not in line and "better" not in line
    assert line == (
        "Overall: continue — loss/g/mel: no downward trend, but too noisy to rule out 2.1 % "
        "improvement if you train as long again [judged on loss/g/mel, a training loss]"
    )


def test_a_converged_signals_json_figures_are_those_its_message_quotes():
    # The stop at 12200 stands; at the last step the bound is 2.6 %, which JSON used to give
    # as improvement_left_upper beside the message "at most 1.x % improvement left".
    diagnosis = diagnose(RunLog(Path("x"), {"loss/g/mel": Series(STEPS_300, FLAT_300)}))
    data = to_dict(diagnosis)["signals"]["loss/g/mel"]
    assert data["verdict"] == "converged" and data["stop_step"] == 12200
    upper = data["improvement_left_upper"]
    assert upper is not None and upper <= diagnosis.epsilon
    assert f"at most {100 * upper:.1f} % improvement left" in data["message"]
    assert "has converged" in data["detector_message"]
    assert data["figures_step"] == 12200
    assert data["improvement_left_upper_now"] > diagnosis.epsilon  # named as such


def test_a_health_only_request_keeps_its_headers():
    # --signal loss/d/total: no Overall, and the overfitting line sat right under "Run:".
    steps = np.arange(0, 20001, 200)
    run = RunLog(Path("x"), {"loss/d/total": Series(steps, np.full(steps.size, 2.4)),
                             "loss/g/mel": Series(steps, np.full(steps.size, 20.0))})  # fmt: skip
    lines = render_text(diagnose(run, signals=["loss/d/total"])).splitlines()
    assert lines[1].startswith("Signals: none judged — only health guards were asked for")
    assert lines[2].startswith("  overfitting: cannot be judged")


def test_a_flat_run_whose_estimate_is_inside_the_noise_is_not_called_improving():
    """Mel falls for 2000 steps, then is flat with 5 % noise to 20000: both lines read "still
    improving; likely 0.1 % better" (a positive estimate far inside its noise)."""
    rng = np.random.default_rng(0)
    steps = np.arange(0, 20001, 200)
    values = np.round(20.0 * (1 + 0.05 * rng.standard_normal(steps.size)), 3)
    values = values + np.maximum(2000 - steps, 0) / 2000 * 15
    diagnosis = diagnose(RunLog(Path("x"), {"loss/g/mel": Series(steps, values)}))
    assert diagnosis.signals["loss/g/mel"].final.reason is Reason.CONTINUE
    text = render_text(diagnosis)
    assert "still improving" not in text, text
    assert text.count("no clear downward trend, but too noisy to rule out") == 2, text


def test_a_flat_curve_held_back_by_its_point_count_says_so_and_names_budget():
    # 30 points, flat within epsilon: without a budget 60 are needed. The line said "too
    # noisy to rule out 1.1 % improvement": noise was not the reason, 1.1 % < 1.5 %.
    steps = np.arange(1, 31) * 200
    flat = 20.0 * (1 + np.random.default_rng(3).normal(0.0, 0.01, 30))
    diagnosis = diagnose(RunLog(Path("x"), {"loss/g/mel": Series(steps, flat)}))
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason is Reason.CONTINUE
    assert report.final.evidence["points_needed"] == 60
    text = render_text(diagnosis)
    line = next(x for x in text.splitlines() if x.strip().startswith("loss/g/mel"))
    assert "looks flat (at most" in line and "30 points are too few" in line
    assert "--budget STEPS" in line and "too noisy" not in line
    assert "looks flat" in text.splitlines()[1]  # the Overall line too
    with_budget = diagnose(RunLog(Path("x"), {"loss/g/mel": Series(steps, flat)}), budget=6_200)
    assert with_budget.signals["loss/g/mel"].final.reason is Reason.CONVERGED
