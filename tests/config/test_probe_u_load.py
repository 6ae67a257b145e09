"""Probe U (2026-12-07): sweep files that `sweeper check` passed, or answered with a traceback,
though every trial of them would fail or rank by nothing. Each is now a one-line error at
load with the file, the line and a fix."""

from __future__ import annotations

import pytest
import yaml

from sweeper.config import load_sweep
from sweeper.errors import InputError
from sweeper.testing import tiny_sweep


def _write(tmp_path, **sections):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**tiny_sweep(), **sections}, sort_keys=False))
    return path


def _refused(path, *needles):
    with pytest.raises(InputError) as err:
        load_sweep(path, new=True)
    text = str(err.value)
    assert text.startswith(f"{path}:") and "\n" not in text and "fix:" in text, text
    for needle in needles:
        assert needle in text, text
    return text


@pytest.mark.parametrize(
    ("weight", "metric"), [("train.c_mel", "val/mel"), ("train.c_kl", "loss/g/kl")]
)
def test_a_loss_weight_fixed_to_zero_under_the_objective_is_refused(tmp_path, weight, metric):
    """Every trial reported val/mel 0.0: the ranking meant nothing."""
    params = {**tiny_sweep()["parameters"], weight: {"type": "fixed", "value": 0}}
    objective = {"metrics": [metric], "modes": ["min"]}
    path = _write(tmp_path, parameters=params, objective=objective)
    _refused(path, f"multiplied by {weight}, which this space fixes to 0", "val/mel_l1")
    # ... and in a summary ranking too
    summary = {"mode": "composite", "weights": {"val/mel_l1": 1, metric: 0.5}}
    objective = {"metrics": ["val/mel_l1"], "modes": ["min"]}
    path = _write(tmp_path, parameters=params, objective=objective, summary=summary)
    _refused(path, "fixes to 0")
