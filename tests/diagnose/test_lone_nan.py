"""One NaN/inf at the very last logged step is a divergence with a note (an fp16 overflow the
GradScaler skips looks the same, but a sweep's diverged trial ends so); two or more are too."""

from __future__ import annotations

import math

from test_diagnosis import make_run, still_falling

from sweeper.detect import Reason
from sweeper.diagnose import diagnose, render_text


def test_a_lone_inf_at_the_last_step_is_a_divergence_with_a_note():
    # A sweep's pruner stops a trial at its first NaN: its log ends with exactly one. For a
    # few hours on 2026-12-07 that point was left out and such a trial read "continue".
    mel = still_falling()
    mel[-1] = math.inf
    diagnosis = diagnose(make_run(checkpoints=(0, 19000, 20000), loss__g__mel=mel))
    report = diagnosis.signals["loss/g/mel"]
    assert (report.final.reason, report.diverged_since) == (Reason.DIVERGED, 20000)
    assert diagnosis.overall is not None and diagnosis.overall.reason is Reason.DIVERGED
    assert report.checkpoint == "G_19000.pth"  # saved before the NaN: still usable
    text = render_text(diagnosis)
    assert "NaN or inf at the last logged step (20000) only - one point, judged as a " in text
    assert "GradScaler skips" in text


def test_two_non_finite_points_at_the_end_are_still_a_divergence():
    mel = still_falling()
    mel[-2:] = math.nan
    report = diagnose(make_run(loss__g__mel=mel)).signals["loss/g/mel"]
    assert (report.final.reason, report.diverged_since) == (Reason.DIVERGED, 19800)
