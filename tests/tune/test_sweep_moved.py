"""A sweep folder copied elsewhere under another name and resumed there: every new trial
goes to the copy, the original is left as it was. Real local Ray, real reference trainer."""

from __future__ import annotations

import os
import shutil
import signal

import pytest
from conftest import checkpoints, load_study, wait_for, write_sweep

pytestmark = pytest.mark.slow


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_resuming_a_copied_sweep_writes_only_into_the_copy(tmp_path, procs):
    budget = {"max_steps": 20, "num_trials": 2, "concurrency": 1}
    space = write_sweep(tmp_path, budget=budget)
    original = tmp_path / "sweeps" / "t"
    driver = procs.start("run", str(space), cwd=tmp_path, log=tmp_path / "run.log")

    def first_trial_checkpointed():
        # Ray's snapshot knows the first trial; the second is not created yet.
        trials = list(original.glob("trial_*"))
        return len(trials) == 1 and checkpoints(trials[0]) and any(
            original.glob("experiment_state-*.json")
        )

    wait_for(first_trial_checkpointed, 300, "a checkpoint of the first trial", driver)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(timeout=60)
    copy = tmp_path / "elsewhere" / "copied"
    shutil.copytree(original, copy)
    before, journal = _files(original), (original / "study.journal").read_bytes()

    text = procs.run("resume", str(copy), cwd=tmp_path, log=tmp_path / "resume.log")

    assert _files(original) == before  # nothing new in the folder the sweep started in
    trials = load_study(copy).get_trials(deepcopy=False)
    assert len(trials) == 2 and all(t.state.name == "COMPLETE" for t in trials), text[-2000:]
    for trial in trials:
        folder = copy / f"trial_{trial.user_attrs['ray_trial_id']}"
        assert (folder / "result.json").is_file() and checkpoints(folder), folder
    assert (original / "study.journal").read_bytes() == journal
    assert f"results: {copy}" in text
