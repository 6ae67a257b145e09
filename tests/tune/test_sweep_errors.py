"""A trial whose trainer refuses its input ends FAIL at its first start (Ray's retries could
only fail the same way), with its one-line reason and no traceback; the sweep goes on, and
resume does not train it again. Real local Ray, real reference trainer."""

from __future__ import annotations

import re

import pytest
from sweep_tools import load_study, write_sweep

pytestmark = pytest.mark.slow
TRAIN = "filelists/train.txt"


def test_a_trial_with_bad_input_fails_once_alone_and_resume_works(tmp_path, procs):
    params = {
        "train.learning_rate": {"type": "fixed", "value": 3.0e-3},
        "train.use_gan": {"type": "fixed", "value": False},
        "train.eval_interval": {"type": "fixed", "value": 5},
        "train.log_interval": {"type": "fixed", "value": 5},
        # A valid value that fails in the trainer (values the config refuses are refused
        # before Ray starts).
        "data.training_files": {"type": "categorical", "choices": [TRAIN, "filelists/gone.txt"]},
    }
    budget = {"max_steps": 20, "num_trials": 2, "concurrency": 2}
    space = write_sweep(tmp_path, parameters=params, budget=budget)
    sweep_dir = tmp_path / "sweeps" / "t"
    text = procs.run("run", str(space), cwd=tmp_path, log=tmp_path / "run.log")
    assert "internal error" not in text and "Traceback" not in text

    def by_filelist():
        trials = load_study(sweep_dir).get_trials(deepcopy=False)
        return {t.user_attrs["config"]["data.training_files"]: t for t in trials}

    trials = by_filelist()
    failed, healthy = trials["filelists/gone.txt"], trials[TRAIN]
    assert failed.state.name == "FAIL"
    outcome = failed.user_attrs["outcome"]
    assert outcome["rule"] == "error"
    assert outcome["message"].startswith("InputError: missing filelist"), outcome
    assert healthy.state.name == "COMPLETE", healthy.user_attrs
    assert max(healthy.intermediate_values) == 20
    assert re.search(r"trial #\d error before its first report: InputError: missing file", text)
    assert "1 error" in text
    assert "errored 1 of 2" in text  # the progress line counts it, though Ray ended it cleanly
    starts = (sweep_dir / f"trial_{failed.user_attrs['ray_trial_id']}" / "run" / "placement.jsonl")
    assert len(starts.read_text().splitlines()) == 1  # started once: no retry
    assert "1 unfinished or failed not counted" in text  # its missing steps were not saved

    again = procs.run("resume", str(sweep_dir), cwd=tmp_path, log=tmp_path / "resume.log")
    assert "1 error" in again and "1 budget" in again
    trials = by_filelist()
    assert len(trials) == 2 and trials["filelists/gone.txt"].user_attrs["outcome"] == outcome
    assert trials[TRAIN].intermediate_values == healthy.intermediate_values
