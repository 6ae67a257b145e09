"""Start train.py in a process group of its own; stop the whole group, leaving nothing behind.

``stop()`` sends SIGTERM to the group, waits ``grace_s``, then SIGKILL, and returns only
once no process of the group is left. The group is led by a small guard (``_guard.py``)
that also takes it down when the trial process itself is killed without any cleanup.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sweeper.trainers.sovits_svc.launch import LaunchSpec

GUARD = Path(__file__).with_name("_guard.py")
POLL_S = 0.05
REAP_S = 10.0  # after SIGKILL: how long orphans may take to be reaped before we give up


class StopError(RuntimeError):
    """Processes of a trial's group survived SIGKILL (in uninterruptible sleep?)."""


@dataclass
class TrainProcess:
    """A running ``train.py`` (under its guard) and the process group it leads."""

    popen: subprocess.Popen
    grace_s: float
    _logs: list[IO[bytes]] = field(default_factory=list, repr=False)

    @property
    def pgid(self) -> int:
        return self.popen.pid  # the guard leads a new session, so its pid is the group id

    @classmethod
    def start(
        cls,
        launch: LaunchSpec,
        grace_s: float,
        stdout: Path,
        stderr: Path,
        lock_fd: int | None = None,
    ) -> TrainProcess:
        """Run ``launch.argv`` in ``launch.cwd`` with ``launch.env``; output to the files.

        ``lock_fd`` (the run folder's lock, :mod:`.runlock`) is inherited by the guard,
        train.py and what train.py forks: the lock lives as long as any of them.
        """
        out = stdout.open("ab")
        err = stderr.open("ab")
        argv = [sys.executable, str(GUARD), str(os.getpid()), str(grace_s), "--", *launch.argv]
        try:
            popen = subprocess.Popen(
                argv,
                cwd=launch.cwd,
                env=dict(launch.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                pass_fds=() if lock_fd is None else (lock_fd,),
            )
        except OSError:
            out.close()
            err.close()
            raise
        return cls(popen, grace_s, [out, err])

    def poll(self) -> int | None:
        """train.py's exit code once it has ended (128 + signal when killed), else None."""
        return self.popen.poll()

    def group_alive(self) -> bool:
        """True while any process of the group runs (the guard, train.py, its workers)."""
        return bool(group_members(self.pgid))

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL what is left after ``grace_s``; wait until none is left.

        Raises:
            StopError: something of the group is still there ``REAP_S`` after SIGKILL.
        """
        try:
            if self._signal(signal.SIGTERM):
                self._wait_group(self.grace_s)
            if self.group_alive():
                self._signal(signal.SIGKILL)
                if not self._wait_group(REAP_S):
                    raise StopError(
                        f"process group {self.pgid} survived SIGKILL for {REAP_S:.0f} s; "
                        f"fix: check `ps -g {self.pgid}` (a process stuck in the GPU driver?)"
                    )
        finally:
            self.popen.poll()
            for handle in self._logs:
                handle.close()

    def _signal(self, signum: int) -> bool:
        try:
            os.killpg(self.pgid, signum)
        except ProcessLookupError:
            return False
        return True

    def _wait_group(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the group to empty; True if it did."""
        deadline = time.monotonic() + seconds
        while True:
            self.popen.poll()  # reap the guard, or it stays a zombie member of the group
            if not self.group_alive():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_S)


def group_members(pgid: int) -> list[int]:
    """Pids of the live (not zombie) processes in group ``pgid``.

    Zombies are left out: a killed worker whose parent died waits for init to reap it, and
    some container inits never do. Without /proc, any member at all counts.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members
