"""Independent replays side by side - the pruner bench's trial orders (each a sweep of its
own), the detector bench's blocks of curves - so ``jobs`` forked processes give the same
results as one process, in order, in a fraction of the time (ConvergencePruner's replay
costs ~1 min per order of 120 curves on one core)."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_ONE: Callable[[int], Any] | None = None  # the job of the pool running now (fork-inherited)


def _call(k: int) -> Any:
    assert _ONE is not None  # set before the pool forks
    return _ONE(k)


def each(one: Callable[[int], T], n: int, jobs: int) -> Iterator[T]:
    """``one(0), ..., one(n - 1)``, in order, run by up to ``jobs`` forked processes (no fork
    on this platform, or one job: in this process). ``one`` and what it reads are inherited,
    not pickled; its results are pickled back."""
    global _ONE
    if jobs <= 1 or n <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for k in range(n):
            yield one(k)
        return
    _ONE = one
    try:
        # Ctrl-C is the parent's to handle: it ends the pool (terminate, on leaving the
        # block). Workers that took it too printed half tracebacks over its one line.
        pool = multiprocessing.get_context("fork").Pool(
            min(jobs, n), initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)
        )
        with pool:
            yield from pool.imap(_call, range(n))
    finally:
        _ONE = None
