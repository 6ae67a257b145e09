"""Ctrl-C and SIGTERM stop a driver at any moment, not only once Ray Tune's loop runs.

Before ``tuner.fit()`` installs its SIGINT handler, an interrupt was lost when the driver
inherited SIGINT ignored (started in the background by a script or a batch system: the
sweep ran to its end and exited 0), and ``ray.init`` replaces SIGTERM's handler with one
that exits with code 15, silently. From the start of ``run``/``resume`` both raise
KeyboardInterrupt: the CLI says "interrupted" and exits 130, a failed start is undone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator


def as_interrupt(signum, frame) -> None:
    """SIGTERM as Ctrl-C (inside ``fit`` Ray Tune then stops its trials and saves its
    state, instead of Ray's core dumping a stack trace)."""
    os.kill(os.getpid(), signal.SIGINT)


def _main() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt in the block (main thread only)."""
    if not _main():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    before_term = signal.signal(signal.SIGTERM, _term)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
        signal.signal(signal.SIGTERM, before_term)


def _term(signum, frame) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def ray_starting() -> Iterator[None]:
    """Around ``ray.init``: its SIGTERM handler's exit (code 15, no word) is an interrupt,
    and a handler the caller had installed (``interruptible``'s) is back afterwards. With
    none (the default action: ``summarize --evaluate``), Ray's stays: its exit runs
    ``ray.shutdown`` at exit, where the default action killed the driver outright."""
    before = signal.getsignal(signal.SIGTERM) if _main() else None
    if not callable(before):
        before = None
    try:
        yield
    except SystemExit as err:
        if err.code == signal.SIGTERM:
            raise KeyboardInterrupt from None
        raise
    finally:
        if before is not None:
            signal.signal(signal.SIGTERM, before)
