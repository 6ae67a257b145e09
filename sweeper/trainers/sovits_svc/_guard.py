"""Run a command in this process group and take the group down if the trial process dies.

Usage: ``python _guard.py PARENT_PID GRACE_S -- argv...``. Started as the leader of a new
session, so everything the command spawns (so-vits-svc's mp.spawn workers, DataLoader
workers) shares its process group. When Ray kills the trial process outright (SIGKILL, no
cleanup), the guard sees its parent change and sends the group SIGTERM, then SIGKILL after
the grace period.

Ray also kills a dead worker's own children (the guard), leaving train.py orphaned. So the
guard first forks a watchdog: a child of the guard, not of the trial process, that takes
the group down the same way once the guard is gone (until 2026-12-07 a train.py ignoring
SIGTERM trained on after the sweep had stopped). Inheritable file descriptors (the trial's
lock on its run folder) pass on to the command. Standard library only: it runs by path,
under any interpreter.
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


def _others_alive() -> bool:
    """Whether a live process other than this one is in this process group."""
    group, me = os.getpgrp(), os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True  # no /proc: cannot tell, wait the whole grace period
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == group and fields[0] not in ("Z", "X"):
            return True
    return False


def _take_down(grace: float, ended) -> None:
    """SIGTERM the group, SIGKILL it after ``grace`` (or once ``ended()``); ends the caller."""
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while not ended() and time.monotonic() < deadline:
        time.sleep(POLL_S)
    os.killpg(0, signal.SIGKILL)


def _watch(guard: int, grace: float) -> None:
    """The watchdog: wait for the guard to go, then take the group down."""
    try:
        while os.getppid() == guard:
            time.sleep(POLL_S)
        _take_down(grace, lambda: not _others_alive())
    finally:
        os._exit(0)  # never run the guard's code in this forked copy


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: _guard.py PARENT_PID GRACE_S -- argv...\n")
        return 2
    parent, grace = int(argv[0]), float(argv[1])
    # The group's SIGTERM is for the command; the guard stays to report its exit code.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    guard = os.getpid()  # taken before the fork: the guard may be gone when the child runs
    watchdog = os.fork()
    if watchdog == 0:
        _watch(guard, grace)
    child = subprocess.Popen(argv[3:], close_fds=False)
    while True:
        code = child.poll()
        if code is not None:
            os.kill(watchdog, signal.SIGKILL)  # the command ended: nothing left to guard
            os.waitpid(watchdog, 0)
            return _exit_code(code)
        if os.getppid() != parent:  # orphaned: the trial process is gone
            _take_down(grace, lambda: child.poll() is not None)  # the guard ends here too
        time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
