"""Run a command in this process group and take the group down if the trial process dies.

Usage: ``python _guard.py PARENT_PID GRACE_S -- argv...``. Started as the leader of a new
session, so everything the command spawns (so-vits-svc's mp.spawn workers, DataLoader
workers) shares its process group. When Ray kills the trial process outright (SIGKILL, no
cleanup), the guard sees its parent change and sends the group SIGTERM, then SIGKILL after
the grace period. Standard library only: it runs by path, under any interpreter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

POLL_S = 0.2


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: _guard.py PARENT_PID GRACE_S -- argv...\n")
        return 2
    parent, grace = int(argv[0]), float(argv[1])
    # The group's SIGTERM is for the command; the guard stays to report its exit code.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    child = subprocess.Popen(argv[3:])
    while True:
        code = child.poll()
        if code is not None:
            return _exit_code(code)
        if os.getppid() != parent:  # orphaned: the trial process is gone
            os.killpg(0, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while child.poll() is None and time.monotonic() < deadline:
                time.sleep(POLL_S)
            os.killpg(0, signal.SIGKILL)  # the guard itself ends here too
        time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
