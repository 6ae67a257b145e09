"""A start killed before any trial ran can be run again under its name (it was refused by
`run` and by `resume`, each naming the other); a driver stopped by SIGTERM ends as Ctrl-C
does: Ray Tune saves its state, the CLI says the sweep is unfinished and how to go on, and
exits 130 (it exited 0, or 1 with a C++ stack dump); a resume under --time-limit stops the
same way at its limit and exits 124. Real local Ray, real reference trainer."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from sweep_tools import checkpoints, load_study, wait_for, write_sweep

pytestmark = pytest.mark.slow


def test_a_start_killed_early_runs_again_and_sigterm_stops_cleanly(tmp_path, procs):
    params = {
        "train.learning_rate": {"type": "fixed", "value": 2.0e-3},
        "train.use_gan": {"type": "fixed", "value": False},
        "train.eval_interval": {"type": "fixed", "value": 5},
        "train.log_interval": {"type": "fixed", "value": 5},
    }
    space = write_sweep(tmp_path, parameters=params, budget={"max_steps": 4000, "num_trials": 1})
    sweep_dir = tmp_path / "sweeps" / "t"
    # What a driver killed as Ray started leaves: the sweep files, no trial, no Ray state.
    sweep_dir.mkdir(parents=True)
    (sweep_dir / "sweep.yaml").write_text(space.read_text())
    meta = {"source": str(space), "cwd": str(tmp_path)}
    (sweep_dir / "sweep.json").write_text(json.dumps(meta))
    argv = [sys.executable, "-m", "sweeper", "resume", str(sweep_dir)]
    refused = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "no trial of" in refused.stderr and f"sweeper run {space}" in refused.stderr

    driver = procs.start("run", str(space), cwd=tmp_path, log=tmp_path / "run.log")
    trial = wait_for(
        lambda: next((d for d in sweep_dir.glob("trial_*") if checkpoints(d)), None),
        300, "a first checkpoint", driver,
    )  # fmt: skip
    driver.send_signal(signal.SIGTERM)
    assert driver.wait(timeout=120) == 130
    text = (tmp_path / "run.log").read_text(errors="replace")
    assert "holds a start that never ran a trial: starting over" in text
    assert "interrupted with 1 trial(s) unfinished" in text and "sweeper resume" in text
    assert "SIGTERM received" not in text  # Ray's core no longer dumps its stack
    assert checkpoints(trial) and load_study(sweep_dir).trials[0].state.name == "RUNNING"

    # The resumed trial goes on from its checkpoint until the limit stops the driver.
    reached = max(load_study(sweep_dir).trials[0].intermediate_values)
    resumed = procs.start(
        "resume", str(sweep_dir), "--time-limit", "25s", cwd=tmp_path, log=tmp_path / "resume.log"
    )
    assert resumed.wait(timeout=300) == 124
    text = (tmp_path / "resume.log").read_text(errors="replace")
    assert "stopped by --time-limit 25s with 1 trial(s) unfinished" in text, text[-3000:]
    assert f"sweeper resume {sweep_dir}" in text
    study = load_study(sweep_dir)
    assert [t.state.name for t in study.trials] == ["RUNNING"]  # resumable, not ended
    assert max(study.trials[0].intermediate_values) > reached and checkpoints(trial)
