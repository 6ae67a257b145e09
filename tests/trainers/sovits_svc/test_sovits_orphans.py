"""A trial process killed together with its guard, against a STAND-IN train.py (the real one
needs CUDA) whose worker ignores SIGTERM (STANDIN_IGNORE_TERM=1).

Ray kills a dead worker's own children (the guard) as well: before 2026-12-07 train.py and
its worker then trained on, orphaned, and a resumed sweep started a second train.py on the
same model dir.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweeper.trainers.sovits_svc import run

TRIAL = (
    "import pickle, sys\n"
    "from sweeper.trainers.sovits_svc import run\n"
    "run(pickle.loads(bytes.fromhex(sys.argv[1])), lambda *a, **k: None)\n"
)


def _pids(run_dir: str) -> list[int]:
    path = Path(run_dir) / "logs" / "44k" / "pids"
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _stat(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return None if fields[0] in "ZX" else fields


def _alive(pid: int) -> bool:
    return _stat(pid) is not None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _kill_trial_and_guard(spec, tmp_path: Path) -> list[int]:
    """Start a trial process, wait for the stand-in's worker, then SIGKILL the trial process
    and its guard (its child) at once, as Ray does; the tree's pids (train.py, worker)."""
    script = tmp_path / "trial.py"
    script.write_text(TRIAL)
    proc = subprocess.Popen([sys.executable, str(script), pickle.dumps(spec).hex()])
    deadline = time.monotonic() + 60
    while not _pids(spec.run_dir):
        assert time.monotonic() < deadline, "the stand-in never started"
        time.sleep(0.2)
    worker = _pids(spec.run_dir)[0]
    train_py = int(_stat(worker)[1])
    guards = _children(proc.pid)
    assert guards
    proc.send_signal(signal.SIGKILL)
    for pid in guards:
        os.kill(pid, signal.SIGKILL)
    proc.wait()
    return [train_py, worker]


def test_train_py_dies_with_a_trial_killed_together_with_its_guard(trial, tmp_path, monkeypatch):
    monkeypatch.setenv("STANDIN_IGNORE_TERM", "1")
    spec = trial(evaluate=False, stop_grace_s=1.0, max_steps=100000)
    tree = _kill_trial_and_guard(spec, tmp_path)
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in tree), "train.py's tree outlived the trial"


def test_a_resumed_trial_stops_the_old_tree_before_starting_train_py(
    trial, tmp_path, monkeypatch
):
    monkeypatch.setenv("STANDIN_IGNORE_TERM", "1")
    # A long grace: the old tree is still there when the resumed trial starts.
    first = trial(evaluate=False, stop_grace_s=60.0, max_steps=100000)
    old = _kill_trial_and_guard(first, tmp_path)
    assert any(_alive(p) for p in old)
    seen: list[bool] = []

    def report(step, metrics, checkpoint_dir=None):
        seen.append(any(_alive(p) for p in old))
        if "loss/g/mel" in metrics:  # a step the new train.py logged
            raise KeyboardInterrupt("pruned")

    second = trial(evaluate=False, stop_grace_s=0.5, max_steps=100000)
    assert second.run_dir == first.run_dir
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run(second, report)
    assert seen and not any(seen), "a second train.py ran beside the old one"
    assert time.monotonic() - started < 30
    new = [p for p in _pids(second.run_dir) if p not in old]
    assert new and not any(_alive(p) for p in new)
