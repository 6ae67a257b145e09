"""Helpers for sweep tests: small search spaces and the ``sweeper`` CLI as a real process.

A module of its own name (not conftest): another folder's conftest.py, imported later in
the same run, took the name ``conftest`` and these imports failed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from sweeper.testing import tiny_sweep

# A sweep small enough for a test: micro preset, 2 speakers x 3 clips of 1 s, mel + KL only.
BASE_SWEEP = tiny_sweep()


def write_sweep(folder: Path, **sections) -> Path:
    """A sweep YAML: BASE_SWEEP with whole top-level sections replaced."""
    data = {**BASE_SWEEP, **sections}
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sweeper", "--debug", *args]


class Processes:
    """CLI processes a test starts, each in its own session, all killed at teardown."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, *args: str, cwd: Path, log: Path) -> subprocess.Popen:
        out = open(log, "ab")  # noqa: SIM115 - closed with the process at teardown
        proc = subprocess.Popen(
            cli(*args), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc.log = log  # type: ignore[attr-defined]
        self.started.append(proc)
        return proc

    def run(self, *args: str, cwd: Path, log: Path, timeout: float = 400) -> str:
        proc = self.start(*args, cwd=cwd, log=log)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        text = log.read_text(errors="replace")
        assert proc.returncode == 0, text[-3000:]
        return text

    def kill_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            log_path = getattr(proc, "log", None)
            log = Path(log_path).read_text(errors="replace")[-3000:] if log_path else ""
            raise AssertionError(f"process ended before {what}: rc={proc.returncode}\n{log}")
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def placements(trial_dir: Path) -> list[dict]:
    path = trial_dir / "run" / "placement.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def resumed_steps(trial_dir: Path) -> list[int]:
    """Steps at which the trainer of a trial resumed from a checkpoint (its train.log says)."""
    log = (trial_dir / "run" / "train.log").read_text()
    return [int(ln.rsplit(" ", 1)[-1]) for ln in log.splitlines() if "resumed at step" in ln]


def checkpoints(trial_dir: Path) -> list[Path]:
    return sorted(trial_dir.glob("checkpoint_*"))


def load_study(sweep_dir: Path, name: str = "t"):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(sweep_dir / "study.journal")))
    return optuna.load_study(study_name=name, storage=storage)
