"""A real Ray cluster of separate processes on this machine: a worker node dies mid-sweep.

The ``ray_cluster`` fixture (conftest.py) runs ``ray start --head`` and two ``ray start
--address`` workers with 1 CPU each, so two trials run at once, one per worker. Killing a
worker's whole process tree is what losing a machine looks like to Ray: its trial must
restart on the surviving worker from its last checkpoint, and trials that finished on the
lost worker must stay finished (their results live in the shared ``storage_path``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TUNE_JOB = Path(__file__).with_name("tune_job.py")


def _lines(log_dir: Path, index: int) -> list[tuple[int, str, int]]:
    """``(iteration, node id, pid)`` per iteration a trial logged, in order."""
    path = log_dir / f"{index}.log"
    if not path.is_file():
        return []
    rows = [line.split() for line in path.read_text().splitlines() if line.count(" ") == 2]
    return [(int(it), node, int(pid)) for it, node, pid in rows]


def _iters(rows) -> list[int]:
    return [row[0] for row in rows]


def _wait(predicate, timeout_s: float, what: str, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"driver ended before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_stopped_workers_trial_resumes_on_the_other_from_its_checkpoint(ray_cluster, tmp_path):
    logs, storage, result = tmp_path / "logs", tmp_path / "storage", tmp_path / "result.json"
    logs.mkdir()
    # Trial 0 is short: it finishes first, and trial 2 takes its worker. Then each worker
    # runs one of trials 1 and 2.
    iters = [3, 15, 15]
    driver_log = tmp_path / "driver.log"
    with driver_log.open("wb") as out:
        driver = subprocess.Popen(
            [sys.executable, str(TUNE_JOB), ray_cluster.address, str(storage), str(logs),
             str(result), *map(str, iters)],
            env=ray_cluster.env(), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait(
            lambda: len(_lines(logs, 0)) == 3 and len(_lines(logs, 2)) >= 3,
            120, "trial 0 done and trial 2 checkpointed 3 times", driver, driver_log,
        )  # fmt: skip
        (_, node_1, _), (_, node_2, pid_2) = _lines(logs, 1)[-1], _lines(logs, 2)[-1]
        assert node_1 != node_2, "two 1-CPU workers must run the two trials apart"
        # Trial 2's worker goes (it also ran the finished trial 0): the node whose marked
        # processes include the one running trial 2.
        victim = next(n for n in ray_cluster.nodes[1:] if pid_2 in n.pids())
        done_before = len(_lines(logs, 2))
        victim.kill()
        assert not victim.pids()
        driver.wait(timeout=150)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 0, driver_log.read_text()[-3000:]

    trials = json.loads(result.read_text())["trials"]
    assert [(t["status"], t["iterations"]) for t in trials] == [
        ("TERMINATED", n) for n in iters
    ], trials

    moved = _lines(logs, 2)
    switch = next(i for i, row in enumerate(moved) if row[1] != node_2)
    assert {row[1] for row in moved[switch:]} == {node_1}, moved
    last_before, resumed_at = moved[switch - 1][0], moved[switch][0]
    # From its checkpoint: not from iteration 1, at most the one iteration in flight again.
    assert done_before >= 3 and resumed_at > 1, moved
    assert last_before <= resumed_at <= last_before + 1, moved
    assert _iters(moved[switch:]) == list(range(resumed_at, iters[2] + 1)), moved
    # The other trial was never interrupted, and the finished one stayed finished.
    assert _iters(_lines(logs, 1)) == list(range(1, iters[1] + 1))
    assert {row[1] for row in _lines(logs, 1)} == {node_1}
    assert _iters(_lines(logs, 0)) == [1, 2, 3]
    # Every trial's results are in the shared storage, the lost node's included.
    results = sorted((storage / "cluster-test").glob("*/result.json"))
    last = sorted(json.loads(r.read_text().splitlines()[-1])["it"] for r in results)
    assert last == sorted(iters)
