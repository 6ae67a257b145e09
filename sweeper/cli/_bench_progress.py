"""What ``sweeper bench`` prints while it replays (stderr), and how many processes it uses."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any


def cores() -> int:
    """CPUs this process may run on (a cgroup or taskset may allow fewer than the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def progress_lines(
    methods: Sequence[Any], total: int, unit: str
) -> Callable[[Any, int, float], None]:
    """A stderr line per finished method; long replays also report along the way."""

    def progress(method: Any, done: int, seconds: float) -> None:
        if done == total or seconds > 10:
            rank = f"[{methods.index(method) + 1}/{len(methods)}]"
            print(f"{rank} {method.name}: {done}/{total} {unit}, {seconds:.1f} s", file=sys.stderr)

    return progress


class Heartbeat:
    """A stderr line every ``every`` seconds while a method replays its orders: one order of
    2,000 curves took minutes, and progress came only when an order ended (a probe)."""

    def __init__(self, progress: Callable[[Any, int, float], None], every: float = 30.0):
        import threading

        self._progress, self.every = progress, every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._now: tuple[Any, int, float] | None = None  # method, orders done, its start

    def __call__(self, method: Any, done: int, seconds: float) -> None:
        self._now = (method, done, time.monotonic() - seconds)
        self._progress(method, done, seconds)

    def _beat(self) -> None:
        while not self._done.wait(self.every):
            now = self._now
            if now is not None:
                method, done, began = now
                print(f"  {method.name}: {done} orders done, still replaying "
                      f"({time.monotonic() - began:.0f} s)", file=sys.stderr)  # fmt: skip

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
