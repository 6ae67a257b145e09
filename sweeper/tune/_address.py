"""An ``--address`` nothing answers at: ``ray.init`` retried for minutes (a probe's resume
still ran after 4 min 46 s, printing C++ "Failed to connect to GCS" warnings). A TCP connect
with a short timeout answers in seconds, before Ray is asked."""

from __future__ import annotations

import socket

from sweeper.errors import InputError

TIMEOUT_S = 5.0


def host_port(address: str) -> tuple[str, int] | None:
    """``host:port`` of an address (``ray://`` too); None for ``auto`` or a form Ray reads
    its own way (Ray says what is wrong with those)."""
    text = address.removeprefix("ray://").rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def check_address(address: str, source: str = "--address") -> None:
    """Refuse an address whose host:port cannot be reached, naming it (``source``: where
    it came from, the flag or the RAY_ADDRESS variable) and the fix."""
    target = host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=TIMEOUT_S):
            return
    except OSError as err:
        why = "no answer" if isinstance(err, TimeoutError) else (err.strerror or str(err))
    out = (
        "leave --address out to run on this machine"
        if source == "--address"
        else f"unset {source} to run on this machine"
    )
    raise InputError(
        f"cannot reach a Ray cluster at {source} {address!r} ({why} within {TIMEOUT_S:g} s); "
        "fix: check the head's address and port (`ray status` on the head prints it), start "
        f"one with `ray start --head`, or {out}"
    )
