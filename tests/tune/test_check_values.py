"""`sweeper check` refuses what every trial (or some drawn ones) would fail on: values inside
a range the trainer refuses, and values that contradict the toy set or the budget."""

from __future__ import annotations

import pytest
from conftest import BASE_SWEEP, write_sweep

from sweeper.cli import main


def _with(tmp_path, **params):
    return write_sweep(
        tmp_path,
        parameters={**BASE_SWEEP["parameters"], **params},
        sampler={"kind": "random", "seed": 0},
    )


@pytest.mark.parametrize(
    ("spec", "got", "fix"),
    [
        # micro has n_heads 2: 31 is refused, though both bounds are fine
        ({"model.hidden_channels": {"type": "int", "low": 30, "high": 32}}, "got 31", "step: 2"),
        # hop 320: 3300 is refused; step 320 keeps to multiples of it
        (
            {"train.segment_size": {"type": "int", "low": 3200, "high": 6400, "step": 100}},
            "got 3300",
            "step: 320",
        ),
    ],
)
def test_check_refuses_a_range_with_values_the_trainer_refuses(tmp_path, capsys, spec, got, fix):
    space = _with(tmp_path, **spec, **{"train.learning_rate": {"type": "fixed", "value": 2e-3}})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    name = next(iter(spec))
    assert f"{space}:" in err and f"parameters[{name}]" in err and got in err, err
    assert f"fix: {fix} " in err, err


def test_check_accepts_a_range_on_the_step_the_trainer_needs(tmp_path, capsys):
    space = _with(
        tmp_path,
        **{"train.segment_size": {"type": "int", "low": 3200, "high": 6400, "step": 320}},
        **{"train.seed": {"type": "int", "low": 0, "high": 10**9}},  # sampled, not listed
        **{"train.learning_rate": {"type": "fixed", "value": 2e-3}},
    )
    assert main(["check", str(space), "--draws", "0"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("model.n_speakers", 1, "below the toy set's 2 speakers (got 1); fix: keep"),
        ("data.sampling_rate", 22050, "the toy set's rate, 16000 Hz"),
        # 2 x 2 training clips at micro's batch_size 4: one step per epoch, 30 steps budgeted
        ("train.epochs", 1, "before budget.max_steps (got 1 < 30); fix: train.epochs >= 30"),
    ],
)
def test_check_refuses_values_that_contradict_the_toy_set(tmp_path, capsys, name, value, fragment):
    """Each failed every trial, one after the other (epochs: ended before any validation)."""
    space = _with(tmp_path, **{name: {"type": "fixed", "value": value}})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{space}:" in err and fragment in err, err
    # run refuses it too, before Ray starts or a folder is written
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "sweeps").exists()


def test_check_names_the_budget_line_when_the_base_epochs_run_out(tmp_path, capsys):
    space = write_sweep(tmp_path, budget={"max_steps": 10**8, "num_trials": 2})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(space.read_text().splitlines(), 1) if "max_steps" in t)
    assert f"{space}:{line}: train.epochs " in err and "or lower budget.max_steps" in err, err
