"""A port per trial that no other trial on this host holds, and that nothing is bound to.

Binding to port 0 is not enough: the kernel can hand the same number to two trials that
each closed their probe socket before train.py bound it. So a claim is also a lock file
``<port>.lock`` created with O_EXCL in a folder shared by every trial of the host; it holds
the claimer's pid, and a lock whose process has died is taken over.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sweeper.errors import InputError

PORT_RANGE = (20000, 40000)  # below Linux's ephemeral range (32768+ is shared with it: fine)
LOCK_DIR = Path(tempfile.gettempdir()) / "sovits-sweeper-ports"
TRIES = 200


def port_is_free(port: int) -> bool:
    """True when a TCP socket can bind ``port`` on every interface (as the DDP store does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("", port))
        except OSError:
            return False
    return True


def check_port_free(port: int) -> None:
    """Raise a one-line error when ``port`` is taken."""
    if not port_is_free(port):
        raise InputError(
            f"port {port} is in use on this host ({port=}); fix: stop what holds it, or let "
            "the sweeper pick ports (do not set train.port)"
        )


@contextlib.contextmanager
def claim_port(
    lock_dir: Path = LOCK_DIR, low: int = PORT_RANGE[0], high: int = PORT_RANGE[1]
) -> Iterator[int]:
    """Hold a free port for the ``with`` block; no other claim on this host gets it.

    Example:
        >>> with claim_port() as port:  # doctest: +SKIP
        ...     launch = build_launch(..., port=port)
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random()  # seeded from the OS: concurrent trials start at different ports
    start = rng.randrange(low, high)
    span = high - low
    for i in range(min(TRIES, span)):
        port = low + (start - low + i * 7919) % span  # a prime stride scatters the probes
        lock = lock_dir / f"{port}.lock"
        if not _take(lock):
            continue
        if not port_is_free(port):
            lock.unlink(missing_ok=True)
            continue
        try:
            yield port
        finally:
            lock.unlink(missing_ok=True)
        return
    raise InputError(
        f"no free port found in {low}..{high} after {min(TRIES, span)} tries "
        f"(locks in {lock_dir}); fix: free some ports or remove stale locks there"
    )


def _take(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        if not _stale(lock):
            return False
        lock.unlink(missing_ok=True)  # its owner died without cleaning up
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False  # another trial took it over first
    with os.fdopen(fd, "w") as handle:
        handle.write(str(os.getpid()))
    return True


def _stale(lock: Path) -> bool:
    try:
        pid = int(lock.read_text().strip() or "0")
    except (OSError, ValueError):
        return False  # being written right now, or unreadable: leave it alone
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError as err:
        return err.errno != errno.EPERM  # EPERM: alive, owned by another user
    return False
