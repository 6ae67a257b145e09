"""Smoothing is pure and NaN-safe; the PNG is a real PNG with one panel per signal."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sweeper.diagnose import diagnose, plot, smooth
from sweeper.logs import RunLog, Series

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_smooth_drops_a_single_spike():
    values = np.full(50, 10.0)
    values[25] = 1000.0
    assert np.allclose(smooth(values), 10.0)


def test_smooth_does_not_lag_a_trend_nor_jump_at_the_ends():
    # A forward-only EMA sat w/2 points behind a falling curve (0.4 here, 10 points late).
    truth = np.linspace(30.0, 10.0, 500)
    assert np.abs(smooth(truth) - truth).max() < 0.01
    # At the ends, in noise sds: the last value was the majority of its own edge-padded
    # median window and the pivot of the reflection, so the ends followed one noisy point
    # (95th percentile over seeds 2.1 sd; a line fitted beside each end: about 0.9).
    worst = []
    for seed in range(40):
        sd = 0.05 * truth
        noisy = truth + sd * np.random.default_rng(seed).normal(size=truth.size)
        error = (smooth(noisy) - truth) / sd
        worst.append(max(np.abs(error[:10]).max(), np.abs(error[-10:]).max()))
        assert abs(float(np.mean(error))) < 0.2
    assert np.percentile(worst, 95) < 1.3


def test_smooth_keeps_non_finite_positions_empty_and_smooths_the_rest():
    values = np.linspace(10.0, 5.0, 30)
    values[[3, 17]] = [math.nan, math.inf]
    out = smooth(values)
    assert np.isnan(out[[3, 17]]).all()
    assert np.isfinite(np.delete(out, [3, 17])).all()


def test_smooth_of_nothing_finite_is_all_nan():
    assert np.isnan(smooth(np.array([math.nan, math.inf]))).all()


@pytest.mark.parametrize(("window", "alpha"), [(2, None), (0, None), (3, 0.0), (3, 1.5)])
def test_smooth_rejects_bad_settings(window, alpha):
    with pytest.raises(ValueError, match="got"):
        smooth(np.ones(10), window=window, alpha=alpha)


def test_plot_writes_a_png(tmp_path):
    steps = np.arange(0, 10001, 200)
    values = 20.0 + 10.0 * np.exp(-steps / 1000.0)
    values[7] = math.nan
    run = RunLog(Path("run"), {
        "loss/g/mel": Series(steps, values),
        "loss/d/total": Series(steps, np.full(steps.size, 2.5)),
    })  # fmt: skip
    out = plot(diagnose(run), run, tmp_path / "d.png")
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 10_000


def test_a_path_the_font_cannot_draw_gives_no_glyph_warnings(tmp_path):
    # A run under "我的 模型/": boxes in the title and one warning per glyph until 2026-12-07.
    import warnings

    from sweeper.diagnose._plot import drawable

    steps = np.arange(0, 10001, 200)
    run = RunLog(Path("我的 模型/logs/44k/train.log"), {
        "loss/g/mel": Series(steps, 20.0 + 10.0 * np.exp(-steps / 1000.0)),
    })  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot(diagnose(run), run, tmp_path / "d.png")
    assert not [w for w in caught if "Glyph" in str(w.message)], caught
    assert drawable("我的 模型/logs/44k") == "?? ??/logs/44k"  # DejaVu Sans, matplotlib's own
    assert drawable("Müller — ü/44k") == "Müller — ü/44k"  # what the font holds stays


def test_plot_of_a_run_logged_every_step_draws_what_was_judged(tmp_path):
    # 100 000 points: smoothing them raw would hold a 100 000 x 4001 window (3 GB).
    steps = np.arange(1, 100_001)
    values = 20.0 + np.random.default_rng(0).normal(0.0, 2.0, steps.size)
    run = RunLog(Path("run"), {"loss/g/mel": Series(steps, values)})
    diagnosis = diagnose(run)
    assert diagnosis.signals["loss/g/mel"].points == 1000
    assert plot(diagnosis, run, tmp_path / "d.png").read_bytes().startswith(PNG_MAGIC)


def test_importing_diagnose_loads_no_matplotlib_or_torch():
    code = (
        "import sys, sweeper.diagnose, sweeper.cli._diagnose; "
        "print(sorted(m for m in ('matplotlib', 'torch', 'tensorboard') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
