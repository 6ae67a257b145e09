"""One exclusive lock on an open file, for the sweep driver's folder lock (tune/_lock.py) and
the trainer's ``--out`` lock (trainers/reference/rundir.py): ``fcntl.flock``, which the kernel
drops when the process ends, however it ends, so no stale lock is ever left to clean up."""

from __future__ import annotations

import json
import time
from typing import IO, Any


class Busy(Exception):
    """Another process holds the lock; ``text`` is what it wrote in the file."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def hold(handle: IO[str], info: dict[str, Any], wait_s: float = 0.0) -> bool:
    """Lock the open ``handle`` (waiting up to ``wait_s``) and write ``info`` (JSON) in it.

    True: held until the handle is closed. False: no lock is possible here (no ``fcntl``, as
    on Windows, or a file system without locks: ENOLCK), and the caller runs unguarded, as
    before these locks. Raises :class:`Busy` when another process holds it.
    """
    try:
        import fcntl
    except ImportError:
        return False
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            handle.seek(0)
            raise Busy(handle.read()) from None
        except OSError:
            return False
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(info))
    handle.flush()
    return True
