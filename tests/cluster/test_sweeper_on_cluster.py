"""``sweeper run --address`` on a real multi-node Ray cluster; a worker node dies mid-sweep.

The same cluster as test_ray_cluster.py (a 0-CPU head and two 1-CPU workers, separate
``ray start`` processes), driven by the real CLI in a process of its own with the real
reference trainer on a tiny toy set. The sweep folder is on "shared storage" (a folder
every node of this machine sees), so the summary can be read by any other process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sweeper.testing import tiny_sweep

pytestmark = pytest.mark.slow

# 30 steps: the lost trial is caught at step 10 or 15, so 15+ steps are left when its node
# goes. With 20 (caught at 10-15) a loaded CI machine once finished it before the kill, and
# it had nothing left to resume.
MAX_STEPS = 30
# Every trial runs to its budget (no pruner): a complete, predictable summary.
SWEEP = tiny_sweep(
    "cluster",
    (2.0e-3, 3.0e-3, 4.0e-3),
    budget={"max_steps": MAX_STEPS, "num_trials": 3, "concurrency": 2},
)


def _latest(trial_dir: Path) -> Path | None:
    """The trial's newest checkpoint in the shared folder.

    On a multi-node cluster a trial's run folder (train.log, placement.jsonl) is on its
    worker's local disk; the shared folder sees it only through the checkpoints.
    """
    found = sorted(trial_dir.glob("checkpoint_*"))
    return found[-1] if found else None


def _placements(checkpoint: Path) -> list[dict]:
    path = checkpoint / "placement.jsonl"
    text = path.read_text() if path.is_file() else ""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _sweeper(*args: str) -> list[str]:
    return [sys.executable, "-m", "sweeper", "--debug", *args]


def test_sweeper_run_address_survives_a_lost_worker(ray_cluster, tmp_path):
    space = tmp_path / "cluster.yaml"
    space.write_text(yaml.safe_dump(SWEEP, sort_keys=False), encoding="utf-8")
    shared = tmp_path / "shared"
    sweep_dir = shared / "cluster"
    log = tmp_path / "run.log"
    argv = _sweeper("run", str(space), "--address", ray_cluster.address, "--storage", str(shared))
    # A user's shell holds the cluster's token but no RAY_AUTH_MODE: Ray 2.60 used a token at
    # an explicit address only with it, and the sweep failed as "cannot reach" (a probe).
    env = {k: v for k, v in ray_cluster.env().items() if k != "RAY_AUTH_MODE"}
    with log.open("wb") as out:
        driver = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        # Trials #0 and #1 run at once, one per worker; #2 starts where one finished. Once
        # #2 is 10-15 steps in, its worker goes, taking a finished trial's node with it.
        done, victim_trial, first = [], None, None
        deadline = time.monotonic() + 240
        while victim_trial is None and time.monotonic() < deadline:
            assert driver.poll() is None, log.read_text()[-3000:]
            latest = {d: _latest(d) for d in sweep_dir.glob("trial_*")}
            done = [d for d, c in latest.items() if c and (c / f"G_{MAX_STEPS}.pth").is_file()]
            for trial_dir, ckpt in latest.items():
                # Past step 5 (a checkpoint every eval_interval = 5 steps), not yet resumed.
                if len(done) == 2 and trial_dir not in done and ckpt is not None:
                    starts = _placements(ckpt)
                    early = "checkpoint_000001" <= ckpt.name <= "checkpoint_000002"
                    if early and len(starts) == 1:
                        victim_trial, first = trial_dir, starts[0]
            time.sleep(0.3)
        assert victim_trial is not None, "trial #2 did not checkpoint in time:\n" + log.read_text()
        victim = next(n for n in ray_cluster.nodes[1:] if first["pid"] in n.pids())
        finished_there = [d for d in done if _placements(_latest(d))[0]["node"] == first["node"]]
        assert len(finished_there) == 1, "one finished trial ran on the node that goes"
        victim.kill()
        driver.wait(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    text = log.read_text(errors="replace")
    assert driver.returncode == 0, text[-3000:]

    # The lost trial started again on the other node, from its checkpoint.
    last = _latest(victim_trial)
    starts = _placements(last)
    assert len(starts) == 2 and starts[0]["node"] != starts[1]["node"], starts
    train_log = (last / "train.log").read_text()
    resumed = [int(ln.rsplit(" ", 1)[-1]) for ln in train_log.splitlines() if "resumed at" in ln]
    assert resumed and resumed[0] >= 10, train_log[-800:]
    # The trial that had finished on the lost node kept its final checkpoint in shared storage.
    assert (_latest(finished_there[0]) / f"G_{MAX_STEPS}.pth").is_file()

    # The summary is complete, read by another process from the shared folder only.
    status = subprocess.run(
        _sweeper("status", str(sweep_dir), "--json"), capture_output=True, text=True,
        timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr[-2000:]
    rows = json.loads(status.stdout)["trials"]
    assert sorted(r["params"]["train.learning_rate"] for r in rows) == [2.0e-3, 3.0e-3, 4.0e-3]
    ended = [(r["state"], r["rule"], r["steps"]) for r in rows]
    assert ended == [("COMPLETE", "budget", MAX_STEPS)] * 3
    assert "trials: 3 (3 budget)" in text
