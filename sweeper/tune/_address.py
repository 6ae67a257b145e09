"""An ``--address`` nothing answers at: ``ray.init`` retried for minutes (a probe's resume
still ran after 4 min 46 s, printing C++ "Failed to connect to GCS" warnings). A TCP connect
with a short timeout answers in seconds, before Ray is asked. A port where another server
answers (a web server on a mistyped port) hung the same way: Ray's head speaks gRPC, so the
connect also sends HTTP/2's opening and waits for the server's SETTINGS frame.

Without an address, ``ray.init()`` joins the cluster the last ``ray start`` on this machine
recorded (``/tmp/ray/ray_current_cluster``); a record left by a cluster that died without
``ray stop`` made every default run hang the same way."""

from __future__ import annotations

import os
import socket

from sweeper.errors import InputError

TIMEOUT_S = 5.0
# HTTP/2's client preface and an empty SETTINGS frame; a gRPC server answers with its own.
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


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
    why = _why_not_ray(target)
    if why is None:
        return
    out = (
        "leave --address out to run on this machine"
        if source == "--address"
        else f"unset {source} to run on this machine"
    )
    raise InputError(
        f"cannot reach a Ray cluster at {source} {address!r} ({why}); "
        "fix: check the head's address and port (`ray status` on the head prints it), start "
        f"one with `ray start --head`, or {out}"
    )


def _why_not_ray(target: tuple[str, int]) -> str | None:
    """None when a gRPC server (a Ray head) answers at ``target``; else why not, in words."""
    try:
        conn = socket.create_connection(target, timeout=TIMEOUT_S)
    except OSError as err:
        if isinstance(err, TimeoutError):
            return f"no answer within {TIMEOUT_S:g} s"
        return err.strerror or str(err)
    with conn:
        if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
            return None  # a TLS head answers no cleartext HTTP/2: the connect must do
        head = _answer_to_preface(conn)
    if len(head) >= 9 and head[3] == 4:  # an HTTP/2 SETTINGS frame (type 4) opens it
        return None
    return "a server answers there, but not as Ray's head does: no gRPC"


def _answer_to_preface(conn: socket.socket) -> bytes:
    """The first 9 bytes (one frame header) the server sends back to HTTP/2's opening."""
    conn.settimeout(TIMEOUT_S)
    head = b""
    try:
        conn.sendall(H2_PREFACE)
        while len(head) < 9:
            chunk = conn.recv(9 - len(head))
            if not chunk:
                break
            head += chunk
    except OSError:  # reset or silent: not a gRPC server
        pass
    return head


def recorded_cluster() -> str | None:
    """The address the last ``ray start`` on this machine recorded, which ``ray.init()``
    without an address joins; None when there is none (or this Ray keeps it elsewhere)."""
    try:
        from ray._private.services import find_bootstrap_address
    except ImportError:
        return None
    try:
        return find_bootstrap_address(None) or None
    except OSError:
        return None


def default_address() -> str | None:
    """What ``ray.init`` is given when neither ``--address`` nor RAY_ADDRESS names a cluster:
    None (Ray's default: the recorded cluster if it answers, else a new local Ray), or
    ``"local"`` when the recorded one does not answer (it would hang for minutes)."""
    recorded = recorded_cluster()
    target = host_port(recorded) if recorded is not None else None
    if target is None:
        return None
    if _why_not_ray(target) is not None:
        print(
            f"note: the Ray cluster `ray start` recorded on this machine ({recorded}) does not "
            "answer: running on a Ray of this run's own (`ray stop` clears the record)"
        )
        return "local"
    print(
        f"note: joining the Ray cluster `ray start` started on this machine ({recorded}), as "
        "Ray does; `--address local` runs on a Ray of this run's own"
    )
    return None
