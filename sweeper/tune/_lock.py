"""One driver per sweep folder: ``sweeper run`` and ``sweeper resume`` hold an exclusive lock
on ``<folder>/.sweeper.lock`` while they run, so a second one is refused instead of training
the same trials into the same folders, and ``sweeper status`` can tell a sweep whose driver
is running from one whose driver was killed.

The lock is ``fcntl.flock`` on an open file: the kernel drops it when the process ends, however
it ends (SIGKILL included), so no stale lock is ever left to clean up. Local and NFS folders;
an object-store sweep folder has no lock (its trials' files live in the bucket).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

from sweeper._lockfile import Busy, hold
from sweeper.errors import InputError

LOCK_FILE = ".sweeper.lock"


class DriverLock:
    """Held from ``acquire`` until ``release`` (or the process's end)."""

    def __init__(self, folder: Path, command: str) -> None:
        self.path = Path(folder) / LOCK_FILE
        self.command = command  # what the holder is doing, for the refusal: "sweeper run"
        self._handle: IO[str] | None = None

    def acquire(self) -> DriverLock:
        """Take the lock, or raise a one-line error naming the driver that holds it."""
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held while running
        except OSError:
            return self  # a read-only folder: the driver fails later, saying why
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.command,
            "since": time.time(),
        }
        try:
            held = hold(handle, info)
        except Busy:
            handle.close()
            holder = driver_running(self.path.parent) or {}
            raise InputError(
                f"{str(self.path.parent)!r} is being run by {_who(holder)}; fix: wait for it "
                f"to end, or stop it (kill {holder.get('pid', 'PID')}) and `sweeper resume "
                f"{self.path.parent}`"
            ) from None
        if not held:  # a file system without locks (ENOLCK): run unguarded, as before
            handle.close()
            return self
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the lock
            self._handle = None


def driver_running(folder: Path) -> dict[str, Any] | None:
    """What the lock file says of the driver holding ``folder``, or None when none holds it
    (no lock file: a sweep of before 2026-12-06, or one whose folder is in an object store)."""
    path = Path(folder) / LOCK_FILE
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                info = json.loads(handle.read() or "{}")
            except ValueError:
                info = {}
            return info if isinstance(info, dict) else {}
        except OSError:
            return None  # a file system without locks: cannot tell
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def _who(info: dict[str, Any]) -> str:
    if not info:
        return "another driver"
    since = info.get("since")
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(since)) if since else "?"
    return (
        f"`{info.get('command', 'sweeper')}` (pid {info.get('pid')} on {info.get('host')}, "
        f"since {started})"
    )
