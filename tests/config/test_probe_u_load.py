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
    # loss/g/total keeps its other terms: it still ranks something
    objective = {"metrics": ["loss/g/total"], "modes": ["min"]}
    assert load_sweep(_write(tmp_path, parameters=params, objective=objective), new=True)


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


def _sovits(tmp_path, log_interval: str) -> object:
    import json

    sv = tmp_path / "so-vits-svc"
    (sv / "configs").mkdir(parents=True, exist_ok=True)
    (sv / "filelists").mkdir(exist_ok=True)
    (sv / "train.py").write_text("# stand-in: only its presence is checked here\n")
    (sv / "configs" / "config.json").write_text(json.dumps({"train": {}, "data": {}}))
    for name in ("train", "val"):
        (sv / "filelists" / f"{name}.txt").write_text("./dataset/44k/a/1.wav\n")
    path = tmp_path / "sv.yaml"
    path.write_text(
        f"name: sv\ntrainer: sovits-svc\nbase: {{config: {sv}/configs/config.json}}\n"
        f"data: {{dir: {sv}}}\nsovits: {{checkout: {sv}}}\n"
        "objective: {metrics: [val/mel_l1], modes: [min]}\n"
        "budget: {max_steps: 2000, num_trials: 4}\nresources: {gpu: 1}\nparameters:\n"
        "  train.learning_rate: {type: float, low: 1e-5, high: 1e-3, log: true}\n"
        f"  train.log_interval: {log_interval}\n"
    )
    return path


@pytest.mark.parametrize(
    "spec", ["{type: fixed, value: 0}", "{type: categorical, choices: [0, 50]}",
             "{type: int, low: 0, high: 100}"],
)  # fmt: skip
def test_a_sovits_log_interval_below_one_is_refused_at_load(tmp_path, spec):
    """Fixed train.log_interval: 0 passed check; every trial's launch refused it."""
    path = _sovits(tmp_path, spec)
    text = _refused(path, "parameters[train.log_interval] must be >= 1", "(got 0)")
    assert text.startswith(f"{path}:11:")  # the parameter's line
    assert load_sweep(_sovits(tmp_path, "{type: fixed, value: 50}"), new=True)


def test_check_warns_of_a_sovits_python_this_machine_lacks(tmp_path, capsys):
    """sovits.python: /nope/bin/python passed check without a word."""
    from sweeper.cli import main

    path = _sovits(tmp_path, "{type: fixed, value: 50}")
    text = path.read_text().replace("{checkout:", "{python: /nope/py, checkout:")
    path.write_text(text)
    assert main(["check", str(path), "--draws", "0"]) == 0
    out = capsys.readouterr().out
    assert "warning: sovits.python '/nope/py' is not an executable on this machine" in out
    path.write_text(path.read_text().replace("/nope/py", "python3"))
    assert main(["check", str(path), "--draws", "0"]) == 0
    assert "sovits.python" not in capsys.readouterr().out


def test_a_yaml_alias_bomb_is_refused_in_a_moment(tmp_path):
    """8 levels of 9 *aliases under an unknown key made check hang (9**8 values)."""
    import time

    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        levels.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n" + yaml.safe_dump(tiny_sweep()))
    start = time.monotonic()
    _refused(path, "more than 100000 values, *aliases expanded", "without &anchors")
    assert time.monotonic() - start < 20


def test_a_nul_byte_is_a_one_line_yaml_error(tmp_path):
    """A NUL byte in the name was "internal error: ReaderError ..."."""
    path = tmp_path / "nul.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep()).replace("name: ", "name: qu\x00", 1))
    _refused(path, "invalid YAML", "remove the control character")


def test_a_grid_too_large_names_its_line_and_counts_searched_parameters(tmp_path):
    """"the grid has more than 100000 points (got 8 parameters)": no file:line, and 3 of
    the 8 were searched."""
    params = {
        **tiny_sweep()["parameters"],  # fixed values among them
        "train.seed": {"type": "int", "low": 0, "high": 99},
        "train.c_kl": {"type": "int", "low": 0, "high": 99},
        "train.c_mel": {"type": "int", "low": 0, "high": 99},
    }
    budget = {"max_steps": 30, "num_trials": 2, "concurrency": 1}
    path = _write(tmp_path, parameters=params, sampler={"kind": "grid"}, budget=budget)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    text = str(err.value)
    searched = sum(1 for p in params.values() if p["type"] != "fixed")
    assert text.startswith(f"{path}:") and f"({searched} searched)" in text, text
    assert "more than 100000 points" in text and "fix:" in text


def test_a_float_range_of_train_clips_shows_the_range(tmp_path):
    """A float range for dataset.train_clips was reported as "(got [])"."""
    params = {**tiny_sweep()["parameters"],
              "dataset.train_clips": {"type": "float", "low": 1, "high": 4}}  # fmt: skip
    text = _refused(_write(tmp_path, parameters=params), "must take whole numbers")
    assert "(got {'low': 1.0, 'high': 4.0})" in text


@pytest.mark.parametrize(("key", "value"), [("clips", 100_000), ("speakers", 10**20)])
def test_a_toy_set_too_large_is_refused_naming_the_maximum(tmp_path, key, value):
    """data.toy.clips: 100000 passed check."""
    toy = {"speakers": 2, "clips": 3, key: value}
    _refused(_write(tmp_path, data={"toy": toy}), f"data.toy.{key} is more than", "at most")


def test_an_objective_that_is_a_searched_parameter_is_refused(tmp_path):
    """objective learning_rate with train.learning_rate searched ranked trials by their lr."""
    objective = {"metrics": ["learning_rate"], "modes": ["min"]}
    path = _write(tmp_path, objective=objective)
    assert "train.learning_rate" in tiny_sweep()["parameters"]
    _refused(path, "is the searched parameter train.learning_rate", "val/mel_l1")


@pytest.mark.parametrize(("setting", "metric"), [("val/mel", "val/mel"), ("auto", "train/mel")])
def test_a_pruner_train_metric_that_is_the_objective_is_refused(tmp_path, setting, metric):
    pruner = {"train_metric": setting}
    path = _write(tmp_path, pruner=pruner, objective={"metrics": [metric], "modes": ["min"]})
    _refused(path, "pruner.train_metric is the objective itself", "train_metric: null")
    path = _write(tmp_path, pruner={"train_metric": None},
                  objective={"metrics": [metric], "modes": ["min"]})  # fmt: skip
    assert load_sweep(path, new=True)
