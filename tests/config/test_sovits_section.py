"""The sovits: section: strict keys, files checked, one-line errors at the right line."""

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
from pathlib import Path

import pytest

from sweeper.config import SovitsSection, load_sweep
from sweeper.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def _checkout(root: Path) -> Path:
    sv = root / "so-vits-svc"
    (sv / "configs").mkdir(parents=True)
    (sv / "filelists").mkdir()
    (sv / "train.py").write_text("# stand-in: only its presence is checked here\n")
    (sv / "configs" / "config.json").write_text(json.dumps({"train": {}, "data": {}}))
    (sv / "filelists" / "train.txt").write_text("./dataset/44k/a/1.wav\n")
    (sv / "filelists" / "val.txt").write_text("./dataset/44k/a/2.wav\n")
    return sv


GOOD = """\
name: sv
trainer: sovits-svc
base:
  config: {sv}/configs/config.json
data:
  dir: {sv}
sovits:
  checkout: {sv}
  eval_points: 20
  stop_grace_s: 10
objective:
  metrics: [val/mel]
  modes: [min]
budget:
  max_steps: 2000
  num_trials: 4
resources:
  gpu: 1
parameters:
  train.learning_rate: {{type: float, low: 1e-5, high: 1e-3, log: true}}
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return load_sweep(path)


def test_good_section_loads_and_travels(tmp_path):
    sv = _checkout(tmp_path)
    cfg = _load(tmp_path, GOOD.format(sv=sv))
    assert cfg.sovits == SovitsSection(checkout=str(sv), eval_points=20, stop_grace_s=10.0)
    options = cfg.sovits.to_options()
    assert SovitsSection(**options) == cfg.sovits
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_resolved_makes_paths_absolute(tmp_path):
    section = SovitsSection(checkout="sv", pretrained_g="p/G_0.pth", pretrained_d="p/D_0.pth",
                            python="venv/bin/python")  # fmt: skip
    got = section.resolved(tmp_path)
    assert got.checkout == str(tmp_path / "sv")
    assert got.pretrained_d == str(tmp_path / "p" / "D_0.pth")
    assert got.python == str(tmp_path / "venv" / "bin" / "python")
    bare = SovitsSection(checkout="sv", python="python3.8")
    assert bare.resolved(tmp_path).python == "python3.8"  # a name looked up on PATH


# (id, replace this, with this, line of the error, message fragment)
CASES = [
    ("no-section", "sovits:\n  checkout: {sv}\n  eval_points: 20\n  stop_grace_s: 10\n", "",
     2, "trainer needs a sovits: section"),
    ("unknown-key", "  eval_points: 20", "  eval_point: 20", 9, "did you mean 'eval_points'"),
    ("no-train-py", "  checkout: {sv}", "  checkout: {sv}/configs", 8, "has no train.py"),
    ("preset", "  config: {sv}/configs/config.json", "  preset: tiny", 4, "has no presets"),
    ("toy", "  dir: {sv}", "  toy: {{}}", 6, "cannot feed sovits-svc"),
    ("half-pair", "  eval_points: 20", "  pretrained_g: {sv}/train.py", 9,
     "given without pretrained_d"),
    ("bad-grace", "stop_grace_s: 10", "stop_grace_s: 0", 10, "stop_grace_s must be > 0"),
    ("tracker", "  eval_points: 20", "  f0_tracker: rmvpe", 9, "is not one of the options"),
    ("reference", "trainer: sovits-svc", "trainer: reference", 7, "only read with trainer"),
    ("no-gpu", "  gpu: 1", "  gpu: 0", 18, "must be > 0 for sovits-svc"),
    ("missing-val", "  eval_points: 20", "  val_list: {sv}/nope.txt", 9, "val_list is not a file"),
    ("no-lists", "  dir: {sv}", "  dir: {sv}/configs", 6, "has no filelists/train.txt"),
    # "must be a folder name" of "my model", which is one: it says which names it takes.
    ("model-name", "  eval_points: 20", "  model_name: my model", 9,
     "must be one folder name of letters, digits, '_', '.' and '-' (no space or slash"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "old", "new", "line", "fragment"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_section_is_one_line_at_its_line(tmp_path, case, old, new, line, fragment):
    sv = _checkout(tmp_path)
    text = GOOD.replace(old, new)
    assert text != GOOD, case
    with pytest.raises(InputError) as err:
        _load(tmp_path, text.format(sv=sv))
    message = str(err.value)
    assert "\n" not in message
    assert f"s.yaml:{line}:" in message and fragment in message, message


def test_shipped_example_loads_next_to_a_checkout(tmp_path, monkeypatch):
    _checkout(tmp_path)
    shutil.copyfile(ROOT / "search_spaces" / "sovits-svc.yaml", tmp_path / "sovits-svc.yaml")
    monkeypatch.chdir(tmp_path)
    cfg = load_sweep("sovits-svc.yaml")
    assert cfg.trainer == "sovits-svc" and cfg.sovits is not None
    assert cfg.sovits.checkout == "so-vits-svc" and cfg.resources.gpu == 0.5
    from sweeper.trainers.sovits_svc import check_keys

    check_keys(cfg.parameters.params, {})  # every swept name is a so-vits-svc key
    assert load_sweep("sovits-svc.yaml", new=True).objective.metrics == ("val/mel_l1",)
    # 40 checkpoints on multiples of its log_interval 50: the pruner can judge both.
    from sweeper.tune._checks import few_points_note

    assert few_points_note(cfg) is None
    # log_interval 400: checkpoints on its multiples, every 400 steps: 25 per trial.
    params = dict(cfg.parameters.params)
    from sweeper.space import FixedParam, Space

    params["train.log_interval"] = FixedParam(400)
    wide = dataclasses.replace(cfg, parameters=Space(params))
    note = few_points_note(wide)
    assert note is not None and note.startswith("25 held-out evaluations per trial")
    assert "can judge a plateau only" in note


def test_a_sovits_key_error_names_the_file_and_line(tmp_path):
    """so-vits-svc's parameter checks named the parameter only; the reference trainer's give
    file:line."""
    from sweeper.tune._checks import check_keys

    sv = _checkout(tmp_path)
    text = GOOD.format(sv=sv).replace("train.learning_rate:", "train.learnig_rate:")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        check_keys(load_sweep(path))
    line = text.splitlines().index(next(t for t in text.splitlines() if "learnig" in t)) + 1
    assert str(info.value).startswith(f"{path}:{line}: parameter train.learnig_rate "), info.value


# Refused at load for a new sweep (check, run): every trial failed on them, check said ok.
NEW_CASES = [
    ("eval-interval-fixed", "  train.learning_rate:",
     "  train.eval_interval: {{type: fixed, value: 100}}\n  train.learning_rate:",
     "parameters[train.eval_interval] is set by sovits.eval_points (20 per trial) (got 100); "
     "fix: remove it, or set sovits.eval_points: null"),
    ("eval-interval-searched", "  train.learning_rate:",
     "  train.eval_interval: {{type: categorical, choices: [100, 200]}}\n  train.learning_rate:",
     "(got [100, 200]); fix: remove it, or set sovits.eval_points: null"),
    ("toy-with-dir", "  dir: {sv}", "  dir: {sv}\n  toy: {{speakers: 2}}",
     "data.toy cannot feed sovits-svc (its train.py needs preprocessed features) (got 'toy'); "
     "fix: remove data.toy"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "old", "new", "fragment"), NEW_CASES, ids=[c[0] for c in NEW_CASES]
)
def test_what_every_trial_would_fail_on_is_refused_at_load(tmp_path, case, old, new, fragment):
    sv = _checkout(tmp_path)
    text = GOOD.replace(old, new).format(sv=sv)
    path = tmp_path / "s.yaml"
    path.write_text(text)
    key = "eval_interval" if case.startswith("eval") else "toy:"
    line = next(i for i, t in enumerate(text.splitlines(), 1) if key in t)
    with pytest.raises(InputError) as err:
        load_sweep(path, new=True)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: ") and fragment in message, message
    assert "\n" not in message
    null = text.replace("  eval_points: 20", "  eval_points: null")
    if case.startswith("eval"):  # the config.json's own interval, as the docs say
        path.write_text(null)
        assert load_sweep(path, new=True).sovits.eval_points is None
    load_sweep(path)  # a sweep folder that ran with it still opens (status, summarize)


def test_check_and_run_name_missing_or_empty_filelists_before_any_trial(tmp_path, capsys):
    """Every trial failed on them one after the other (a probe, 2026-12-08); a reference
    sweep's were named before Ray starts, a sovits-svc sweep's were not."""
    from sweeper.cli import main
    from sweeper.tune._checks import preflight

    sv = _checkout(tmp_path)
    space = tmp_path / "s.yaml"
    space.write_text(GOOD.format(sv=sv))
    absent = preflight(space)[1]
    assert absent is not None and "1 of 1 wavs listed in" in absent and "train.txt" in absent
    assert "fix:" not in absent  # run and check give the fix
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err
    assert "do not exist" in err and "fix: set data.dir to the folder the filelists'" in err
    assert not (tmp_path / "sweeps" / "sv").exists()
    for name in ("1", "2"):
        wav = sv / "dataset" / "44k" / "a" / f"{name}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        wav.write_bytes(b"RIFF")
    assert preflight(space)[1] is None
    (sv / "filelists" / "val.txt").write_text("\n")
    absent = preflight(space)[1]
    assert absent is not None and "val.txt lists no wav files" in absent


def test_a_base_config_that_is_not_json_gets_a_fix(tmp_path):
    from sweeper.tune._checks import preflight

    sv = _checkout(tmp_path)
    (sv / "configs" / "config.json").write_text('{"train": {"epochs": 10,},\n "data": {}}')
    space = tmp_path / "s.yaml"
    space.write_text(GOOD.format(sv=sv))
    with pytest.raises(InputError) as err:
        preflight(space)
    message = str(err.value)
    bad = f"s.yaml:4: base.config: {sv}/configs/config.json is not valid JSON (Expecting"
    assert "\n" not in message and bad in message, message
    assert "fix: correct it there (a trailing comma" in message
