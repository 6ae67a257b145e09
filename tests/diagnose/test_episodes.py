"""Episodes of a whole record: a mel blow-up (lasting or recovered), a spike at the very end,
a signal that never changed. Until 2026-12-06 the per-signal lines missed all three: a mel
loss 50x its best for its last 3 points was "still improving" while Overall said diverged."""

from __future__ import annotations

import numpy as np
import pytest
from test_diagnosis import STEPS, flat_after_start, make_run

from sweeper.detect import Reason
from sweeper.diagnose import diagnose, render_text, to_dict

LAST = int(STEPS[-1])


def blown(points: slice, factor: float = 50.0, seed: int = 0) -> np.ndarray:
    values = flat_after_start(seed)
    values[points] *= factor
    return values


@pytest.mark.parametrize("tail", [3, 4, 8])
def test_a_mel_loss_blown_up_to_the_end_is_diverged_on_its_own_line(tail):
    diagnosis = diagnose(make_run(loss__g__mel=blown(slice(-tail, None))))
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason is Reason.DIVERGED
    # The flat curve converged long before; the stop behind "diverged" is the blow-up.
    assert report.blow_up is not None and report.stop_step == report.blow_up.step
    # The guard fires on the third high point; the blow-up is dated from the first one.
    assert report.blow_up.step == int(STEPS[-tail])
    assert report.best_step is not None and report.best_step < int(STEPS[-tail])
    text = render_text(diagnosis)
    assert f"diverged since step {report.blow_up.step}: loss/g/mel exploded" in text
    assert "has not come back" in text
    assert to_dict(diagnosis)["signals"]["loss/g/mel"]["verdict"] == "diverged"


def test_a_blow_up_the_run_came_back_from_is_named_with_its_step():
    diagnosis = diagnose(make_run(loss__g__mel=blown(slice(50, 53))))
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason is not Reason.DIVERGED
    assert report.blow_up is not None and int(STEPS[50]) <= report.blow_up.step <= int(STEPS[52])
    assert report.stop_step <= report.blow_up.step
    line = next(x for x in render_text(diagnosis).splitlines() if x.startswith("  loss/g/mel"))
    assert f"at step {report.blow_up.step} it blew up" in line and "came back" in line
    overall = next(x for x in render_text(diagnosis).splitlines() if x.startswith("Overall"))
    assert "came back" in overall and "[judged on" not in overall.split("came back")[0][-80:]


def test_one_spike_is_no_blow_up_and_a_last_spike_gets_a_note():
    mid = diagnose(make_run(loss__g__mel=blown(slice(50, 51))))
    assert mid.signals["loss/g/mel"].blow_up is None
    assert not any("spike" in note for note in mid.notes)
    end = diagnose(make_run(loss__g__mel=blown(slice(-1, None))))
    assert end.signals["loss/g/mel"].final.reason is not Reason.DIVERGED
    (note,) = [n for n in end.notes if n.startswith("loss/g/mel: its last point")]
    assert f"at step {LAST}) is 5" in note and "x the median of the 10 before it" in note


def test_an_adversarial_drift_or_kl_is_never_a_blow_up():
    kl = flat_after_start(1) / 10
    kl[-3:] *= 5  # KL is not a mel loss: only a note says the record ends high
    diagnosis = diagnose(make_run(loss__g__mel=flat_after_start(), loss__g__kl=kl))
    assert diagnosis.signals["loss/g/kl"].blow_up is None
    assert any(n.startswith("loss/g/kl: its last 3 points") for n in diagnosis.notes)


@pytest.mark.parametrize("seed", range(5))
def test_healthy_noisy_curves_get_no_episode(seed):
    rng = np.random.default_rng(seed)
    mel = flat_after_start(seed) * (1 + 0.09 * rng.standard_normal(STEPS.size))
    kl = 1.5 * (1 + 0.2 * rng.standard_normal(STEPS.size))
    diagnosis = diagnose(make_run(loss__g__mel=mel, loss__g__kl=kl))
    assert all(r.blow_up is None for r in diagnosis.signals.values())
    assert not any("spike" in n or "blow-up" in n or "at all" in n for n in diagnosis.notes)


@pytest.mark.parametrize(
    ("value", "words"), [(25.0, "nothing was learned"), (0.0, "switched off")]
)
def test_a_signal_that_never_changed_says_so(value, words):
    diagnosis = diagnose(
        make_run(loss__g__mel=flat_after_start(), loss__g__kl=np.full(STEPS.size, value))
    )
    (note,) = [n for n in diagnosis.notes if n.startswith("loss/g/kl is")]
    assert words in note and f"all {STEPS.size} points" in note


def test_two_blown_up_points_at_the_end_are_a_note_not_a_divergence():
    # Two points are what two spikes look like too: the guard needs three of five.
    diagnosis = diagnose(make_run(loss__g__mel=blown(slice(-2, None))))
    report = diagnosis.signals["loss/g/mel"]
    assert report.final.reason is not Reason.DIVERGED and report.blow_up is None
    assert "its last 2 points" in render_text(diagnosis) and "ends in a blow-up" in render_text(
        diagnosis
    )


def test_a_learning_rate_cut_gets_a_note_and_the_per_epoch_decay_does_not():
    # Until 2026-12-07 a cut from 1e-4 to 1e-5 at a restart went unmentioned.
    decay = 1e-4 * 0.999875 ** (STEPS // 50)
    cut = np.where(STEPS >= 10000, 1e-5, decay)
    notes = diagnose(make_run(loss__g__mel=flat_after_start(), learning_rate=cut)).notes
    (note,) = [n for n in notes if n.startswith("the learning rate changed")]
    assert note.startswith("the learning rate changed at step 10000 (9.76e-05 to 1e-05)")
    quiet = diagnose(make_run(loss__g__mel=flat_after_start(), learning_rate=decay)).notes
    assert not any("learning rate changed" in n for n in quiet)
