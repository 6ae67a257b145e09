"""One NaN/inf at the very last logged step is no confirmed divergence (an fp16 overflow the
GradScaler skips looks the same); two or more are."""

from __future__ import annotations

import math

from test_diagnosis import make_run, still_falling

from sweeper.detect import Reason
from sweeper.diagnose import diagnose, render_text


def test_a_lone_inf_at_the_last_step_is_noted_not_called_a_divergence():
    # Before 2026-12-07: "diverged since step 20000" from that one point.
    mel = still_falling()
    mel[-1] = math.inf
    diagnosis = diagnose(make_run(checkpoints=(0, 19000, 20000), loss__g__mel=mel))
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason is not Reason.DIVERGED
    assert diagnosis.overall is not None and diagnosis.overall.reason is not Reason.DIVERGED
    assert report.last_step == 19800
    assert report.checkpoint == "G_19000.pth"  # still a usable one: no divergence to void it
    text = render_text(diagnosis)
    assert "diverged" not in text.split("Notes:")[0]
    assert "NaN or inf at the last logged step (20000) only - one point" in text


def test_two_non_finite_points_at_the_end_are_still_a_divergence():
    mel = still_falling()
    mel[-2:] = math.nan
    report = diagnose(make_run(loss__g__mel=mel)).signals["loss/g/mel"]
    assert (report.final.reason, report.diverged_since) == (Reason.DIVERGED, 19800)
