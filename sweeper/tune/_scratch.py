"""Node scratch of an object-store sweep: each trial trains in ``$TMPDIR/sweeper-runs-<uid>/
<experiment>/<trial>`` and reaches the bucket as its checkpoints. A trial that ends normally
removes its folder; one stopped by the pruner is killed with its worker, so the next trial
that starts on the node removes it: a running trial holds a lock on its folder, and the
kernel drops the lock of a killed process."""

from __future__ import annotations

import fcntl
import shutil
import time
from pathlib import Path
from typing import IO

LOCK = ".sweeper-trial.lock"  # in each trial's scratch folder, held while the trial runs
SETTLE_S = 60.0  # a lock file this young may belong to a trial still taking it


def claim(folder: Path, wait_s: float = 120.0) -> IO[str]:
    """Lock ``folder`` for this trial; keep the returned file open until the trial ends. A
    restart of this trial waits up to ``wait_s`` for its dying worker to let go, then goes
    on without the lock (it only guards the clean-up; that worker's lock guards it still)."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / LOCK, "a+")  # noqa: SIM115 - held for the trial's life
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except OSError:
            if time.monotonic() >= deadline:
                return handle
            time.sleep(1.0)


def sweep_stale(experiment: Path, keep: Path) -> list[Path]:
    """Remove the trial folders in ``experiment`` whose trial is gone (lock free, not new);
    the ones removed. A folder without a lock file (being created) is left alone."""
    removed = []
    try:
        folders = [p for p in experiment.iterdir() if p.is_dir() and p != keep]
    except OSError:
        return removed
    for folder in folders:
        lock = folder / LOCK
        try:
            if time.time() - lock.stat().st_mtime < SETTLE_S:
                continue
            handle = open(lock, "a+")  # noqa: SIM115 - closed below
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue  # a live trial holds it
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            handle.close()
    return removed


def release(folder: Path, handle: IO[str]) -> None:
    """The trial ended: its checkpoints are in the bucket; remove the folder, then unlock."""
    shutil.rmtree(folder, ignore_errors=True)
    handle.close()
