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


def test_resource_shares_ray_would_refuse_are_refused_at_load(tmp_path):
    """cpu: 1e-9 passed check; run died with an internal error, trials left RUNNING."""
    _refused(_write(tmp_path, resources={"cpu": 1e-9, "gpu": 0}), "resources.cpu", "0.0001")
    _refused(_write(tmp_path, resources={"cpu": 0, "gpu": 0}), "resources.cpu")
    _refused(_write(tmp_path, resources={"cpu": 1, "gpu": 1e-9}), "resources.gpu")
    assert load_sweep(_write(tmp_path, resources={"cpu": 0.0001, "gpu": 0})).resources.cpu


def test_a_seed_beyond_the_samplers_range_is_refused_at_load(tmp_path):
    """sampler.seed: 4294967296 was an internal ValueError in check and run."""
    path = _write(tmp_path, sampler={"kind": "tpe", "seed": 2**32})
    _refused(path, "sampler.seed must be <= 4294967295", "4294967296")
    assert load_sweep(_write(tmp_path, sampler={"kind": "tpe", "seed": 2**32 - 1}))


def test_a_list_of_trainers_is_a_one_line_error(tmp_path):
    """trainer: [reference] was an internal TypeError (unhashable type: 'list')."""
    _refused(_write(tmp_path, trainer=["reference"]), "trainer must be one trainer's name")


@pytest.mark.parametrize("name", [None, True, ["a"]])
def test_a_name_that_is_no_string_gets_a_real_name_as_fix(tmp_path, name):
    """name: null suggested "quote it: name: 'None'"."""
    text = _refused(_write(tmp_path, name=name), "name must be a string", "name: my-sweep")
    assert "'None'" not in text and "'True'" not in text
