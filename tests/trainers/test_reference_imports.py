"""The config layer and the data generator import without torch; the trainer never imports
ray or optuna."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(','.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in out.strip().split(",")}


def test_config_and_toy_data_do_not_import_torch():
    mods = _modules_after(
        "import sweeper.trainers.reference as r, sweeper.data.toy; r.load_config('tiny')"
    )
    assert "torch" not in mods


def test_trainer_does_not_import_ray_or_optuna():
    mods = _modules_after(
        "from sweeper.trainers.reference import train; import sweeper.trainers.reference.validate"
    )
    assert "torch" in mods
    assert "ray" not in mods and "optuna" not in mods


def test_config_pickles():
    import pickle

    from sweeper.trainers.reference import load_config

    cfg = load_config("tiny")
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_the_package_train_is_the_function_whatever_was_imported_first():
    """docs/trainer.md's `from sweeper.trainers.reference import load_config, train`: the
    submodule was named train too, and importing it replaced the package's `train` with the
    module (TypeError: 'module' object is not callable)."""
    code = (
        "import sweeper.trainers.reference.training, sweeper.trainers.reference.sweep; "
        "from sweeper.trainers.reference import train, TrainResult; "
        "print(callable(train), train.__name__, TrainResult.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "train", "TrainResult"]
