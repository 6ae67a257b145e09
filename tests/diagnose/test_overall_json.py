"""The Overall names one step in text and JSON: JSON's overall message is the text's line,
and a NaN tail in a health guard is dated from its raw points, as the signals' lines are."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sweeper.diagnose import diagnose, render_text, to_dict
from sweeper.logs import RunLog, Series

STEPS = np.arange(0, 52001, 10)  # logged every 10 steps: judged as span means
NAN_FROM = 51950  # inside a span, not at its end


def nan_run() -> RunLog:
    rng = np.random.default_rng(1)
    mel = 40.0 * (1.0 + STEPS / 100.0) ** -0.3 * (1.0 + rng.normal(0.0, 0.02, STEPS.size))
    disc = 2.5 + rng.normal(0.0, 0.1, STEPS.size)
    for values in (mel, disc):
        values[STEPS >= NAN_FROM] = math.nan
    series = {"loss/g/mel": Series(STEPS, mel), "loss/d/total": Series(STEPS, disc)}
    return RunLog(Path("run/44k"), series)


def test_text_and_json_date_a_nan_tail_at_one_step():
    # Before 2026-12-07: text "since step 52000" (a span's end) while the mel line said
    # 51950, and JSON's overall message "nan at step 52000" beside stop_step 52000.
    diagnosis = diagnose(nan_run())
    overall_line = next(x for x in render_text(diagnosis).splitlines() if x.startswith("Overall"))
    data = to_dict(diagnosis)
    assert overall_line.startswith(f"Overall: diverged since step {NAN_FROM} — ")
    assert data["signals"]["loss/g/mel"]["diverged_step"] == NAN_FROM
    assert (data["overall"]["stop_step"], data["overall"]["since_step"]) == (NAN_FROM, NAN_FROM)
    assert "Overall: " + data["overall"]["message"] == overall_line
    assert data["overall"]["detector_message_now"].startswith("diverged: ")


def test_a_nan_tail_in_the_discriminator_alone_is_dated_from_its_raw_points():
    run = nan_run()
    mel = run.series["loss/g/mel"].values.copy()
    mel[STEPS >= NAN_FROM] = 20.0  # finite to the end: only the guard went NaN
    run.series["loss/g/mel"] = Series(STEPS, mel)
    data = to_dict(diagnose(run))["overall"]
    assert (data["verdict"], data["signal"]) == ("diverged", "loss/d/total")
    assert data["since_step"] == NAN_FROM  # before: 52000, the end of its span
    assert data["message"].startswith(f"diverged since step {NAN_FROM} — loss/d/total is NaN")
