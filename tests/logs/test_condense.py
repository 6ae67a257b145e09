"""condense: dense logs (a point per step) become means over equal step spans."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sweeper.logs import RunLog, Series, condense


def per_step_run(n: int = 3000) -> RunLog:
    steps = np.arange(1, n + 1)
    rng = np.random.default_rng(0)
    mel = 20.0 + 10.0 * np.exp(-steps / 500.0) + rng.normal(0.0, 2.0, n)
    total = mel + 30.0
    sparse = Series(np.arange(200, n + 1, 200), np.full(n // 200, 5.0))
    series = {"loss/g/mel": Series(steps, mel), "loss/g/total": Series(steps, total)}
    return RunLog(Path("44k"), {**series, "val/mel": sparse}, notes=["read"])


def test_a_run_within_the_limit_is_returned_as_it_is():
    run = per_step_run(900)
    assert condense(run, max_points=1000) is run


def test_dense_tags_become_means_over_equal_step_spans_ending_at_their_last_step():
    run = per_step_run(3000)
    out = condense(run, max_points=1000)
    mel, raw = out.series["loss/g/mel"], run.series["loss/g/mel"]
    assert len(mel) == 1000
    assert mel.steps[:3].tolist() == [3, 6, 9]  # 3-step spans, each at its last step
    np.testing.assert_allclose(mel.values, raw.values.reshape(1000, 3).mean(axis=1))
    # Tags logged on the same steps stay aligned; a sparse tag is left alone.
    assert out.series["loss/g/total"].steps.tolist() == mel.steps.tolist()
    assert out.series["val/mel"] is run.series["val/mel"]
    assert out.notes[0] == "read" and "3-step spans" in out.notes[-1]
    assert "loss/g/mel, loss/g/total" in out.notes[-1] and "val/mel" not in out.notes[-1]
    assert run.series["loss/g/mel"] is raw  # the input is not modified


def test_a_span_holding_nan_or_inf_keeps_its_first_non_finite_value():
    values = np.ones(3000)
    values[[1234, 1235, 2000]] = [math.inf, math.nan, -math.inf]
    run = RunLog(Path("x"), {"loss/g/mel": Series(np.arange(1, 3001), values)})
    mel = condense(run, max_points=1000).series["loss/g/mel"]
    bad = ~np.isfinite(mel.values)
    assert mel.steps[bad].tolist() == [1236, 2001]
    assert mel.values[bad].tolist() == [math.inf, -math.inf]
    assert np.all(mel.values[~bad] == 1.0)


def test_uneven_steps_are_spanned_by_step_not_by_count():
    steps = np.r_[np.arange(1, 1001), np.arange(1010, 20001, 10)]  # dense, then every 10
    run = RunLog(Path("x"), {"m": Series(steps, steps.astype(float))})
    m = condense(run, max_points=1000).series["m"]
    assert len(m) <= 1000
    assert np.all(np.diff(m.steps) <= 20) and m.steps[-1] == 20000


def test_max_points_must_allow_a_curve():
    with pytest.raises(ValueError, match="max_points=1"):
        condense(per_step_run(10), max_points=1)
