"""``sweeper dashboard DIR``: optuna-dashboard over the sweep's study, on this machine only.

The study is shown read-only (:mod:`sweeper.summarize.readonly`): the page reads the live
journal or database, and every request that would change it (delete or rename the study,
set a trial's state, notes, user attributes) is answered 403 before it reaches the storage.
The address is bound before the URL is printed, so a busy port or an address that is not
this machine's is a one-line error, and ``--port 0`` prints the port it got.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
from pathlib import Path

HELP = "serve optuna-dashboard over a sweep's study, read-only (127.0.0.1 by default)"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
HOST_FIX = (
    "--host 127.0.0.1 (this machine only), an address of this machine (`hostname -I`), "
    "or 0.0.0.0 (every network)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="the sweep folder (e.g. sweeps/quick)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port 1-65535 (default 8080; 0: any free port)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: the study is not shown to the network)",
    )
    parser.add_argument("--browser", action="store_true", help="also open it in a web browser")


def run(args: argparse.Namespace) -> int:
    from sweeper.errors import InputError

    if not 0 <= args.port <= 65535:
        raise InputError(
            f"--port {args.port} is not a port; fix: a port from 1 to 65535 (--port 8080), "
            "or --port 0 for any free one"
        )
    try:
        import optuna_dashboard
    except ImportError:
        raise InputError(
            "optuna-dashboard is not installed (got no module optuna_dashboard); fix: "
            "pip install 'sovits-sweeper[dashboard]'"
        ) from None
    from sweeper.summarize.collect import dashboard_storage

    storage, name = dashboard_storage(args.dir)
    app = optuna_dashboard.wsgi(storage)
    app.add_hook("before_request", _refuse_writes)
    server = bind(args.host, args.port, app)
    try:
        url = f"http://{_url_host(args.host, server)}:{server.server_port}/dashboard/"
        print(
            f"optuna-dashboard for study {name!r} (read-only): {url} (Ctrl-C to stop)", flush=True
        )
        if args.browser:
            import webbrowser

            webbrowser.open(url)
        serve(server)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def serve(server) -> None:
    """Answer requests until Ctrl-C. Ctrl-C only asks to stop, between requests: wsgiref
    swallows a KeyboardInterrupt raised inside a request (the server went on); a second
    Ctrl-C interrupts that request."""
    stopping: list[int] = []

    def on_sigint(signum, frame) -> None:
        if stopping:
            raise KeyboardInterrupt
        stopping.append(signum)

    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:  # a background job ignores Ctrl-C: keep it so
        signal.signal(signal.SIGINT, on_sigint)
    server.timeout = 0.5  # how soon a stop between requests is seen
    try:
        while not stopping:
            server.handle_request()
    finally:
        signal.signal(signal.SIGINT, previous)


def _refuse_writes() -> None:
    """Bottle hook: a request that would change the study is 403, whatever its route."""
    import json

    from bottle import HTTPResponse, request

    if request.method.upper() not in READ_METHODS:
        raise HTTPResponse(
            json.dumps(
                {
                    "reason": "sweeper dashboard shows the study read-only: it cannot delete, "
                    "rename or change the sweep (notes, trial states and user attributes "
                    "included)"
                }
            ),
            status=403,
            headers={"Content-Type": "application/json"},
        )


def bind(host: str, port: int, app):
    """A WSGI server listening on ``host:port`` (not yet serving); each reason it cannot be
    is a one-line :class:`InputError` naming the value and the fix."""
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from sweeper.errors import InputError

    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise InputError(
            f"--host {host!r} is not an address or a name this machine can resolve ({reason}); "
            f"fix: {HOST_FIX}"
        ) from None
    family, _, _, _, address = infos[0]

    class Server(WSGIServer):
        address_family = family

    try:
        return make_server(address[0], port, app, Server, WSGIRequestHandler)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            holder = port_holder(port)
            held = f" by {holder}" if holder else ""
            raise InputError(
                f"--port {port} is already in use{held} on {host}; fix: another --port "
                "(or --port 0 for any free one), or stop what holds it"
            ) from None
        if err.errno == errno.EADDRNOTAVAIL:
            raise InputError(
                f"--host {host!r} is not an address of this machine ({err.strerror}); "
                f"fix: {HOST_FIX}"
            ) from None
        if err.errno == errno.EACCES:
            raise InputError(
                f"--port {port} needs administrator rights on this machine (ports below 1024); "
                "fix: a port from 1024 to 65535 (--port 8080)"
            ) from None
        raise InputError(
            f"cannot listen on --host {host!r} --port {port} ({err.strerror or err}); "
            f"fix: another --port, or {HOST_FIX}"
        ) from None


def _url_host(host: str, server) -> str:
    """The host part of the printed URL: a wildcard address is reached as this machine."""
    shown = server.server_address[0]
    if host in WILDCARDS or shown in WILDCARDS:
        shown = "::1" if server.address_family == socket.AF_INET6 else "127.0.0.1"
    return f"[{shown}]" if ":" in shown else shown


def port_holder(port: int) -> str | None:
    """``pid N (command)`` of a process of this user listening on TCP ``port``, if Linux's
    /proc tells; None when it does not (another user's process, another system)."""
    try:
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            if not os.path.exists(table):
                continue
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{inode}]")
        if not inodes:
            return None
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
                if not any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in fds):
                    continue
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").strip()
            except OSError:
                continue
            text = cmd.decode(errors="replace")
            return f"pid {pid} ({text[:80] + '...' if len(text) > 80 else text})"
    except (OSError, ValueError, IndexError):
        return None
    return None
