"""Real sweeps on a real local Ray (the embedded default), driven through the ``sweeper`` CLI.

The trainer is the real reference trainer (torch) on a tiny toy set.
"""

from __future__ import annotations

import json
import os
import signal

import pytest
from sweep_tools import (
    checkpoints,
    load_study,
    placements,
    resumed_steps,
    wait_for,
    write_sweep,
)

pytestmark = pytest.mark.slow


def test_sweep_kills_a_worker_and_the_trial_resumes_from_its_checkpoint(tmp_path, procs):
    # Three grid points: two sane learning rates and one that turns the weights into NaN.
    params = {
        "train.learning_rate": {"type": "categorical", "choices": [2.0e-3, 3.0e-3, 0.5]},
        "train.use_gan": {"type": "fixed", "value": False},
        "train.eval_interval": {"type": "fixed", "value": 5},
        "train.log_interval": {"type": "fixed", "value": 5},
    }
    space = write_sweep(
        tmp_path,
        parameters=params,
        budget={"max_steps": 40, "num_trials": 3, "concurrency": 2},
    )
    sweep_dir = tmp_path / "sweeps" / "t"
    driver = procs.start("run", str(space), cwd=tmp_path, log=tmp_path / "run.log")

    def victim():
        # A trial that has written a checkpoint past step 10 and is still running.
        for trial_dir in sweep_dir.glob("trial_*"):
            starts = placements(trial_dir)
            saved = checkpoints(trial_dir)  # Ray keeps the newest 2; the index counts all
            if len(starts) == 1 and saved and int(saved[-1].name.split("_")[-1]) >= 2:
                return trial_dir, starts[0]["pid"]
        return None

    trial_dir, pid = wait_for(victim, 300, "a trial with checkpoints", driver)
    os.kill(pid, signal.SIGKILL)
    driver.wait(timeout=400)
    text = (tmp_path / "run.log").read_text()
    assert driver.returncode == 0, text[-3000:]

    starts = placements(trial_dir)
    assert len(starts) == 2 and starts[0]["pid"] != starts[1]["pid"], starts
    resumed = resumed_steps(trial_dir)
    assert resumed and resumed[0] >= 10, resumed

    study = load_study(sweep_dir)
    by_lr = {t.user_attrs["config"]["train.learning_rate"]: t for t in study.trials}
    assert sorted(by_lr) == [2.0e-3, 3.0e-3, 0.5]
    for lr in (2.0e-3, 3.0e-3):
        trial = by_lr[lr]
        assert trial.state.name == "COMPLETE", trial.user_attrs
        assert trial.user_attrs["outcome"]["rule"] == "budget"
        steps = sorted(trial.intermediate_values)
        assert steps[-1] == 40 and steps == sorted(set(steps))
        best = trial.user_attrs["best"]
        assert trial.value == pytest.approx(min(trial.intermediate_values.values()))
        assert best["values"]["val/mel"] == pytest.approx(trial.value)
    diverged = by_lr[0.5]
    assert diverged.state.name == "PRUNED"
    assert diverged.user_attrs["outcome"]["rule"] == "diverged"
    assert diverged.user_attrs["outcome"]["step"] < 40
    # The best checkpoint of every finished trial is kept in its last Ray checkpoint.
    for trial in (by_lr[2.0e-3], by_lr[3.0e-3]):
        folder = sweep_dir / f"trial_{trial.user_attrs['ray_trial_id']}"
        best_step = trial.user_attrs["best"]["step"]
        assert (checkpoints(folder)[-1] / "best" / f"G_{best_step}.pth").is_file()
        # The live run folder in the sweep holds what the trainer kept, nothing it deleted:
        # one best pair, and keep_ckpts (1) latest pair.
        run = folder / "run"
        assert sorted(p.name for p in (run / "best").iterdir()) == [
            f"D_{best_step}.pth",
            f"G_{best_step}.pth",
        ]
        assert sorted(p.name for p in run.glob("G_*.pth")) == ["G_40.pth"]
    assert "diverged" in text and "budget" in text and "steps run:" in text
    assert "Ray restarts it from its last checkpoint (retry 1 of 3)" in text  # its own line
    # status reads the same folder (the study only) and agrees with the run's ranking.
    status = procs.run("status", str(sweep_dir), "--json", cwd=tmp_path, log=tmp_path / "st.log")
    table = json.loads(status[status.index("{") :])["trials"]
    assert [row["rule"] for row in table][:2] == ["budget", "budget"]
    assert table[2]["rule"] == "diverged" and table[2]["state"] == "PRUNED"
    assert table[0]["best_value"] <= table[1]["best_value"]
