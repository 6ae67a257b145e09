"""One train.py tree per trial folder: a ``flock`` held by the tree itself.

The trial process locks ``<trial>/sweeper_logs/train.lock`` and passes the open descriptor
to the guard, which passes it to train.py: the lock lives as long as any process of that
tree holds it, however the trial process ended. A trial starting in a folder whose lock is
held (a resumed sweep whose previous train.py still trains: until 2026-12-07 two train.py
then wrote one model dir) stops the holders' process groups first - SIGTERM, SIGKILL after
the grace period - and refuses with a one-line error if that does not free the lock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from sweeper.errors import SweeperError

LOCK = "train.lock"
POLL_S = 0.1
REAP_S = 10.0


def claim_run_folder(logs: Path, grace_s: float) -> int | None:
    """A descriptor holding the lock of the folder ``logs`` (pass it to train.py's tree),
    or None where this system has no ``flock`` (the trial then runs unguarded, as before).

    Raises:
        SweeperError: the processes holding the lock survived SIGKILL.
    """
    try:
        import fcntl
    except ImportError:
        return None
    path = logs / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if _try_lock(fcntl, fd):
            return fd
        for signum, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, REAP_S)):
            holders = lock_holders(path)
            for group in {_group(pid) for pid in holders} - {None, os.getpgrp()}:
                _kill_group(group, signum)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if _try_lock(fcntl, fd):
                    return fd
                time.sleep(POLL_S)
        raise SweeperError(
            f"{logs.parent} is still written by another train.py (pids holding {path}: "
            f"{lock_holders(path) or 'unknown'}) that survived SIGKILL; fix: end those "
            "processes, then resume"
        )
    except BaseException:
        os.close(fd)
        raise


def _try_lock(fcntl, fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True  # a file system without locks (ENOLCK): unguarded, as before
    return True


def lock_holders(path: Path) -> list[int]:
    """Pids (other than this one) with ``path`` open, found through /proc/<pid>/fd."""
    try:
        target = os.stat(path)
        entries = os.listdir("/proc")
    except OSError:
        return []
    found = []
    for name in entries:
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{name}/fd")
        except OSError:
            continue  # ended, or not ours
        for fd in fds:
            try:
                st = os.stat(f"/proc/{name}/fd/{fd}")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                found.append(int(name))
                break
    return found


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _kill_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # ended meanwhile
        os.killpg(group, signum)
