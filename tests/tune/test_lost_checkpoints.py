"""An unfinished trial whose latest Ray checkpoint folder was deleted (probe P): Ray failed
it 3 times on resume ("Could not recover from checkpoint ... /chec") and it ended FAIL,
unranked, though its run/ folder held its latest pair and its best checkpoint. The resume
now points it at what is left before Ray restores it. Ray's own objects, no cluster."""

from __future__ import annotations

import json
import shutil

import pytest
from ray.train import CheckpointConfig
from ray.train._internal.checkpoint_manager import _CheckpointManager
from ray.train._internal.session import _TrainingResult
from ray.tune import Checkpoint
from ray.tune.trainable.metadata import _TrainingRunMetadata


def _state(folder, trials):
    """An experiment_state-*.json as Ray writes it; ``trials``: id -> (status, checkpoints)."""
    data = []
    for trial_id, (status, names) in trials.items():
        meta = _TrainingRunMetadata()
        meta.checkpoint_manager = _CheckpointManager(CheckpointConfig(num_to_keep=2))
        for step, name in enumerate(names):
            path = folder / f"trial_{trial_id}" / name
            path.mkdir(parents=True, exist_ok=True)
            result = _TrainingResult(Checkpoint(str(path)), {"step": step})
            meta.checkpoint_manager.register_checkpoint(result)
        data.append([json.dumps({"trial_id": trial_id, "status": status}), meta.get_json_state()])
    path = folder / "experiment_state-2026-12-07_10-00-00.json"
    path.write_text(json.dumps({"trial_data": data, "runner_data": {}}))
    return path


def _latest(path, trial_id):
    for state, meta in json.loads(path.read_text())["trial_data"]:
        if json.loads(state)["trial_id"] == trial_id:
            result = _TrainingRunMetadata.from_json_state(meta).checkpoint_manager
            result = result.latest_checkpoint_result
            return None if result is None else result.checkpoint.path.rsplit("/", 1)[-1]
    raise KeyError(trial_id)


def test_a_trial_whose_latest_checkpoint_is_gone_goes_on_from_what_is_left(tmp_path):
    from sweeper.tune._checkpoints import mend_checkpoints

    names = ["checkpoint_000004", "checkpoint_000005"]
    path = _state(tmp_path, {"a": ("RUNNING", names), "b": ("PENDING", names),
                             "c": ("RUNNING", names), "d": ("TERMINATED", names)})  # fmt: skip
    before = path.read_text()
    assert mend_checkpoints(tmp_path) == []  # nothing lost: the file is left alone
    assert path.read_text() == before
    for trial in "abcd":
        (tmp_path / f"trial_{trial}" / "checkpoint_000005").rmdir()
    (tmp_path / "trial_a" / "checkpoint_000004").rmdir()
    (tmp_path / "trial_a" / "run").mkdir()
    (tmp_path / "trial_a" / "run" / "G_55.pth").write_bytes(b"")  # the trainer resumes here
    (tmp_path / "trial_c" / "checkpoint_000004").rmdir()  # nothing at all is left of c

    notes = mend_checkpoints(tmp_path)
    assert _latest(path, "a") is None and "goes on from its run/ folder" in notes[0]
    assert str(tmp_path / "trial_a" / "checkpoint_000005") in notes[0]  # the whole path
    assert _latest(path, "b") == "checkpoint_000004" and "from checkpoint_000004" in notes[1]
    assert _latest(path, "c") is None and "starts over" in notes[2]
    assert _latest(path, "d") == "checkpoint_000005" and len(notes) == 3  # ended: not restored
    assert (tmp_path / f"{path.name}.orig").read_text() == before  # Ray's state as it was


def test_a_failure_line_keeps_the_path_it_ends_in(tmp_path):
    # "trial #1 failed (ValueError: Could not recover ... /chec)": cut at 160 characters.
    import io
    from types import SimpleNamespace

    from sweeper.tune._progress import SweepProgress

    path = "/very/long/sweeps/folder/name/trial_8c7fa033/checkpoint_000005" * 2
    error = tmp_path / "error.txt"
    error.write_text(f"Traceback ...\nValueError: Could not recover from checkpoint: {path}\n")
    trial = SimpleNamespace(trial_id="8c7fa033", error_file=str(error), max_failures=3,
                            run_metadata=SimpleNamespace(num_failures=1))  # fmt: skip
    progress = SweepProgress.__new__(SweepProgress)
    progress.sweep = SimpleNamespace(find=lambda trial_id: None)
    progress.out, progress._start = io.StringIO(), 0.0
    progress.on_trial_recover(0, [], trial)
    assert f"{path}); Ray restarts it" in progress.out.getvalue()


@pytest.mark.slow
def test_resume_after_the_checkpoints_were_deleted_keeps_the_trial(tmp_path, procs):
    """End to end (real local Ray and trainer): Ctrl-C mid-trial, its checkpoint_* folders
    deleted, resume: the trial goes on from its run/ folder and ends by its budget (it
    ended FAIL after 3 failed restores)."""
    import os
    import signal

    from sweep_tools import load_study, wait_for, write_sweep

    space = write_sweep(tmp_path, budget={"max_steps": 40, "num_trials": 1, "concurrency": 1})
    folder = tmp_path / "sweeps" / "t"
    driver = procs.start("run", str(space), cwd=tmp_path, log=tmp_path / "run.log")
    wait_for(lambda: len(list(folder.glob("trial_*/checkpoint_*"))) >= 2, 180, "2 checkpoints",
             driver)  # fmt: skip
    os.killpg(driver.pid, signal.SIGINT)
    assert driver.wait(timeout=120) == 130, (tmp_path / "run.log").read_text()[-2000:]
    (trial_dir,) = folder.glob("trial_*")
    for checkpoint in trial_dir.glob("checkpoint_*"):
        shutil.rmtree(checkpoint)
    text = procs.run("resume", str(folder), cwd=tmp_path, log=tmp_path / "resume.log")
    (trial,) = load_study(folder).get_trials()
    assert trial.state.name == "COMPLETE" and trial.user_attrs["outcome"]["rule"] == "budget"
    assert "is gone (Ray's latest checkpoint of the trial): it goes on from its run/" in text
    assert "ERROR" not in text  # Ray's "Trial task failed" lines
    assert "resumed at step" in (trial_dir / "run" / "train.log").read_text()
