"""Sweep files: the shipped ones load; each bad file is a one-line error at the right line."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from sweeper.config import Resources, SweepConfig, load_sweep, load_yaml_with_lines
from sweeper.errors import InputError

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
name: t
trainer: reference
base:
  preset: tiny
data:
  toy: {speakers: 2, clips: 3}
objective:
  metrics: [val/mel]
  modes: [min]
budget:
  max_steps: 100
  num_trials: 4
  concurrency: 2
resources:
  cpu: 1
  gpu: 0
parameters:
  train.learning_rate: {type: float, low: 1e-4, high: 1.0e-2, log: true}
  train.batch_size: {type: categorical, choices: [2, 4]}
sampler:
  kind: tpe
  seed: 0
pruner:
  n_warmup_steps: 10
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_shipped_quick_loads():
    cfg = load_sweep(ROOT / "search_spaces" / "quick.yaml")
    assert isinstance(cfg, SweepConfig)
    assert (cfg.trainer, cfg.base.preset, cfg.resources) == ("reference", "tiny", Resources(1, 0))
    assert cfg.budget.concurrency == 2 and cfg.budget.num_trials >= 8
    assert cfg.budget.max_steps <= 1000
    lr = cfg.parameters.params["train.learning_rate"]
    assert lr.log and lr.high >= 0.02  # reaches a learning rate that diverges (0.016+)
    assert "dataset.train_clips" in cfg.parameters.params  # the overfitting knob
    assert cfg.data.toy is not None and cfg.objective.modes == ("min",)


def test_shipped_sovits_loads():
    cfg = load_sweep(ROOT / "search_spaces" / "sovits-4.1.yaml")
    assert cfg.base.preset == "sovits-4.1" and cfg.resources.gpu == 0.5
    wanted = {"learning_rate", "batch_size", "segment_size", "c_mel", "c_kl", "betas", "lr_decay"}
    assert {f"train.{k}" for k in wanted} <= set(cfg.parameters.params)
    assert cfg.parameters.params["train.betas"].choices[0] == (0.8, 0.99)
    assert cfg.parameters.nested({"train.betas": (0.8, 0.99)}) == {"train": {"betas": [0.8, 0.99]}}


def test_good_file_round_trips(tmp_path):
    cfg = load_sweep(_write(tmp_path, GOOD))
    assert cfg.parameters.params["train.learning_rate"].low == 1e-4  # 1e-4 is a float here
    assert cfg.pruner is not None and cfg.pruner.n_warmup_steps == 10
    assert cfg.pruner.train_metric == "auto"  # the trainer's own training metric
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_pruner_null_turns_stopping_off(tmp_path):
    cfg = load_sweep(
        _write(tmp_path, GOOD.replace("pruner:\n  n_warmup_steps: 10\n", "pruner:\n"))
    )
    assert cfg.pruner is None


def test_fractional_gpu_third(tmp_path):
    cfg = load_sweep(_write(tmp_path, GOOD.replace("gpu: 0", "gpu: 0.33")))
    assert cfg.resources.gpu == pytest.approx(1 / 3) and cfg.resources.trials_per_gpu == 3


PRUNER = "pruner:\n  n_warmup_steps: 10"
# (id, replace this, with this, a text on the expected line (first match), message fragment)
CASES = [
    ("unknown-top", "name: t\n", "name: t\ncolour: red\n", "colour", "colour is not a known key"),
    (
        "unknown-nested",
        "  concurrency: 2",
        "  concurency: 2",
        "concurency",
        "did you mean 'concurrency'",
    ),
    (
        "unknown-param-key",
        "log: true}",
        "lgo: true}",
        "lgo",
        "parameters[train.learning_rate].lgo is not a known key",
    ),
    ("wrong-type", "max_steps: 100", "max_steps: lots", "max_steps", "must be a whole number"),
    (
        "low-ge-high",
        "low: 1e-4, high: 1.0e-2",
        "low: 1.0e-2, high: 1e-4",
        "learning_rate",
        "parameters[train.learning_rate].low must be < high",
    ),
    ("log-low-0", "low: 1e-4,", "low: 0.0,", "learning_rate", "must be > 0 with log: true"),
    (
        "int-float-bounds",
        "  train.batch_size: {type: categorical, choices: [2, 4]}",
        "  train.batch_size: {type: int, low: 1.5, high: 4}",
        "batch_size",
        "must be an integer for type int",
    ),
    ("empty-choices", "choices: [2, 4]", "choices: []", "batch_size", "must be a non-empty list"),
    (
        "condition-unknown",
        "choices: [2, 4]}",
        "choices: [2, 4], when: {train.use_gan: true}}",
        "batch_size",
        "names no parameter of this space",
    ),
    (
        "condition-impossible",
        "log: true}",
        "log: true, when: {train.batch_size: 3}}",
        "learning_rate",
        "asks for a value train.batch_size never takes",
    ),
    (
        "condition-empty",
        "choices: [2, 4]}",
        "choices: [2, 4], when: {train.learning_rate: []}}",
        "batch_size",
        "parameters[train.batch_size].when[train.learning_rate] names no value (got [])",
    ),
    ("duplicate-key", "  cpu: 1\n", "  cpu: 1\n  cpu: 2\n", "cpu: 2", "is given twice"),
    ("gpu-0.3", "gpu: 0", "gpu: 0.3", "gpu", "does not pack"),
    ("gpu-1.5", "gpu: 0", "gpu: 1.5", "gpu", "whole number of cards"),
    ("cpu-0", "cpu: 1", "cpu: 0", "cpu", "resources.cpu must be >= 0.0001"),
    ("concurrency-0", "concurrency: 2", "concurrency: 0", "concurrency", "must be >= 1"),
    ("mode", "modes: [min]", "modes: [minimize]", "modes", "objective.modes[0] is not one of"),
    (
        "modes-length",
        "metrics: [val/mel]",
        "metrics: [val/mel, val/vuv_error]",
        "modes",
        "must have one entry per metric",
    ),
    ("grid-float", "kind: tpe", "kind: grid", "learning_rate", "is a continuous float"),
    ("yaml-syntax", "  seed: 0", "  seed: 0: 1", "seed", "mapping values are not allowed"),
    ("yaml-unclosed", "  seed: 0", "  seed: [0", "pruner:", "expected ',' or ']'"),
    ("yaml-tab", "  seed: 0", "\tseed: 0", "seed", "YAML does not allow tabs"),
    ("missing-section", "budget:\n", "budgetx:\n", "budgetx", "budgetx is not a known key"),
    ("warmup", "n_warmup_steps: 10", "n_warmup_steps: 100", "n_warmup", "must be < budget"),
    (
        "train-metric",
        "n_warmup_steps: 10",
        "n_warmup_steps: 10\n  train_metric: 3",
        "train_metric",
        "must be a metric name the trainer reports",
    ),
    ("sovits-cpu", "trainer: reference", "trainer: sovits-svc", "gpu", "refuses to train on CPU"),
    ("trainer", "trainer: reference", "trainer: nemo", "trainer", "use reference|sovits-svc"),
    ("name", "name: t", "name: a/b", "name", "must be a folder-safe name"),
    ("name-number", "name: t", "name: 123", "name", "must be a string (got 123); fix: quote it"),
    (
        "step",
        "choices: [2, 4]}",
        "choices: [2, 4]}\n  x.y: {type: int, low: 1, high: 4, step: 2}",
        "x.y",
        "must be >= 1 and divide high - low = 3",
    ),
    ("base-both", "preset: tiny", "preset: tiny\n  config: c.json", "base:", "exactly one of"),
    ("toy-val", "clips: 3}", "clips: 3, val: 3}", "toy", "data.toy.val must be < clips=3"),
    # Past the toy writer's 60 s every trial failed, one after the other (a review).
    ("toy-long", "clips: 3}", "clips: 3, seconds: 90}", "toy", "data.toy.seconds is too long"),
    # YAML 1.1 read these silently as other numbers: 010 as 8, 1:30 as 90, 0x10 as 16.
    ("octal", "max_steps: 100", "max_steps: 010", "max_steps", "fix: write 10, not 010"),
    ("octal-8", "max_steps: 100", "max_steps: 08", "max_steps", "fix: write 8, not 08"),
    ("base-60", "max_steps: 100", "max_steps: 1:30", "max_steps", "base-60"),
    ("hex", "max_steps: 100", "max_steps: 0x10", "max_steps", "fix: write 16, not 0x10"),
    ("octal-choice", "choices: [2, 4]", "choices: [2, 010]", "batch_size", "write 10, not 010"),
    ("thousands", "max_steps: 100", "max_steps: 1,000", "max_steps", "write 1000 or 1_000"),
    ("thousands-flow", "clips: 3}", "clips: 1,000}", "toy", "write 1000 or 1_000"),
    ("exponent-int", "max_steps: 100", "max_steps: 1e3", "max_steps", "fix: write 1000"),
    # fixes that did not fix: "indent keys under it" for a plain word
    ("pruner-false", PRUNER, "pruner: false", "pruner", "(got false); fix: pruner: null"),
    ("pruner-none", PRUNER, "pruner: none", "pruner", "fix: pruner: null turns it off"),
    ("sampler-word", "sampler:\n  kind: tpe\n  seed: 0", "sampler: tpe", "sampler",
     "fix: sampler: {kind: tpe}"),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_file_is_one_line_error_at_the_line(tmp_path, old, new, marker, fragment):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if marker in t)
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_sweep(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message, message
    assert "fix: " in message and "(got " in message


def test_grid_with_more_trials_than_points(tmp_path):
    text = GOOD.replace("kind: tpe", "kind: grid").replace(
        "  train.learning_rate: {type: float, low: 1e-4, high: 1.0e-2, log: true}\n", ""
    )
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=rf"^{path}:12: budget.num_trials exceeds the 2 points"):
        load_sweep(path)


def test_missing_required_section_points_at_top(tmp_path):
    text = GOOD.replace("objective:\n  metrics: [val/mel]\n  modes: [min]\n", "")
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=rf"^{path}:1: objective is required"):
        load_sweep(path)


def test_a_top_level_list_is_refused_with_a_fix_that_fixes(tmp_path):
    path = _write(tmp_path, "- name: t\n- trainer: reference\n")
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert str(info.value) == (
        f"{path}:1: top level must be a mapping of sections (name:, trainer:, base:, ...) "
        "(got 'list'); fix: start from search_spaces/quick.yaml"
    )


def test_a_sweep_file_as_base_config_is_named(tmp_path):
    """It said "base.yaml: unknown key 'name'", without the sweep file's line."""
    other = _write(tmp_path, GOOD)
    text = GOOD.replace("  preset: tiny", f"  config: {other}")
    path = tmp_path / "uses.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert str(info.value).startswith(f"{path}:4: base.config is a sweep file, not a so-vits")


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match=r":1: the file is empty"):
        load_sweep(_write(tmp_path, "# nothing\n"))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read the file"):
        load_sweep(tmp_path / "nope.yaml")


def test_lines_of_keys_and_items(tmp_path):
    data, lines = load_yaml_with_lines(_write(tmp_path, GOOD))
    assert data["budget"]["max_steps"] == 100
    assert lines.line(("budget", "max_steps")) == 11
    assert lines.line(("objective", "metrics", 0)) == 8
    assert lines.line(("budget", "nope")) == 10  # nearest written ancestor


def test_no_arbitrary_objects(tmp_path):
    path = _write(tmp_path, GOOD.replace("name: t", "name: !!python/object/apply:os.getcwd []"))
    with pytest.raises(InputError, match=r":1: "):
        load_sweep(path)
    # with arguments it was read as the plain list ['echo PWNED'] (nothing ran, but no word)
    tag = "!!python/object/apply:os.system"
    path = _write(tmp_path, GOOD.replace("name: t", f"name: t\nstorage: {tag} ['echo x']"))
    with pytest.raises(InputError, match=r":2: storage has a tag that is not plain YAML.*"
                       r"python/object/apply:os.system.*fix: remove the tag"):
        load_sweep(path)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("{type: categorical, choices: [1, 40]}", "more clips than the toy set's 4 training"),
        ("{type: float, low: 1, high: 4}", "must take whole numbers >= 1"),
        ("{type: fixed, value: 0}", "must take whole numbers >= 1"),
    ],
)
def test_train_clips_knob_fits_the_data(tmp_path, spec, fragment):
    text = GOOD.replace("parameters:\n", f"parameters:\n  dataset.train_clips: {spec}\n")
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=rf"^{path}:18: parameters\[dataset.train_clips\]") as e:
        load_sweep(path)
    assert fragment in str(e.value)


def test_a_train_clips_choice_that_is_no_whole_number_is_named_at_its_line(tmp_path):
    # A probe (2026-12-07): [1, 2, "2"] was named at the parameter's line with every value.
    spec = '\n    type: categorical\n    choices:\n      - 1\n      - 2\n      - "2"'
    text = GOOD.replace("parameters:\n", f"parameters:\n  dataset.train_clips:{spec}\n")
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as e:
        load_sweep(path)
    assert str(e.value).startswith(
        f"{path}:23: parameters[dataset.train_clips].choices[2] must take whole numbers >= 1 "
        "(got '2'); fix: write a whole number"
    )


def test_summary_modes_may_not_contradict_the_objective_when_a_sweep_starts(tmp_path):
    """It passed check and run, and only summarize refused it, after the sweep (a review)."""
    text = GOOD + "summary:\n  modes:\n    val/mel: max\n"
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_sweep(path, new=True)
    line = len(text.splitlines())
    assert str(info.value) == (
        f"{path}:{line}: summary.modes.val/mel contradicts objective.modes (min) (got 'max'); "
        "fix: remove val/mel from summary.modes"
    )
    ok = _write(tmp_path, text.replace("val/mel: max", "val/mel: min"))
    assert load_sweep(ok, new=True).summary.modes == {"val/mel": "min"}
