"""The run folder (``--out``): one trainer at a time, and failed writes as one-line errors.

Two runs on one folder used to interleave their train.log lines and resume from each other's
checkpoints. The lock is ``fcntl.flock`` on ``.train.lock``: the kernel drops it when the
process ends, however it ends, so no stale lock is ever left to clean up (as the sweep
driver's lock, sweeper/tune/_lock.py, whose message names ``sweeper resume``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sweeper._lockfile import Busy, hold
from sweeper.errors import InputError

LOCK_FILE = ".train.lock"
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EROFS, errno.EACCES, errno.EPERM}


def _not_writable(path: Path | str, err: OSError) -> InputError:
    return InputError(
        f"cannot write {str(path)!r} ({err.strerror}); fix: a --out folder this user can "
        "write to (a read-only disk or another owner's folder cannot hold checkpoints)"
    )


def make(run_dir: Path) -> None:
    """Create ``run_dir``, or say in one line why it cannot be a run folder."""
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(
            f"--out {str(run_dir)!r} is a file; fix: --out must be a folder (a new name, or "
            "an earlier run's folder to resume it)"
        )
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a/b where a is a file
        raise InputError(
            f"--out {str(run_dir)!r} cannot be made: a file stands on its path; fix: "
            "--out must be a folder"
        ) from None
    except OSError as err:
        if err.errno in _DENIED:
            raise _not_writable(err.filename or run_dir, err) from None
        raise


class RunLock:
    """Held from ``acquire`` to ``release`` (or the process's end)."""

    def __init__(self, run_dir: Path, wait_s: float = 0.0) -> None:
        self.path = run_dir / LOCK_FILE
        self.wait_s = wait_s  # a sweep trial restarted while its old worker is still closing
        self._handle: IO[str] | None = None

    def acquire(self) -> RunLock:
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held while running
        except OSError as err:
            if err.errno in _DENIED:
                raise _not_writable(self.path, err) from None
            raise
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:
            held = hold(handle, info, self.wait_s)
        except Busy as busy:
            handle.close()
            raise InputError(
                f"{str(self.path.parent)!r} is being trained by another process"
                f"{_holder(busy.text)}; fix: wait for it to end, or stop it, or use another --out"
            ) from None
        if not held:  # no fcntl (Windows), or no locks here (ENOLCK): unguarded, as before
            handle.close()
            return self
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the lock
            self._handle = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(text: str) -> str:
    try:
        info = json.loads(text or "{}")
    except ValueError:
        return ""
    if not isinstance(info, dict) or "pid" not in info:
        return ""
    since = info.get("since")
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(since)) if since else "?"
    return f" (pid {info['pid']} on {info.get('host', '?')}, since {started})"


@contextlib.contextmanager
def write_errors(run_dir: Path) -> Iterator[None]:
    """A full disk, or a folder that turned read-only, as one line naming the path.

    Nothing is lost: checkpoints go to a temporary name and are renamed into place, so the
    newest complete pair stays, and rerunning with the same --out resumes from it.
    """
    try:
        yield
    except OSError as err:
        where = err.filename or run_dir
        inside = err.filename is None or Path(err.filename).resolve().is_relative_to(
            run_dir.resolve()
        )
        if err.errno in _FULL:
            # Outside --out (a cache under ~/.cache, a temp file) --out is not the way out.
            out = (
                " and rerun with the same --out (it resumes from the last complete "
                "checkpoint), or a --out on a disk with room"
                if inside
                else " and rerun"
            )
            raise InputError(
                f"no space left to write {str(where)!r} ({err.strerror}); fix: free space on "
                f"that disk{out}"
            ) from None
        if err.errno in _DENIED and inside:  # (a data file we cannot read is not this)
            raise _not_writable(where, err) from None
        raise
