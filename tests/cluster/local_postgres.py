"""A throwaway PostgreSQL server from Debian's ``postgresql`` package, for tests and benchmarks.

What it needs on the machine: the server binaries under ``/usr/lib/postgresql/<v>/bin``
(``apt-get install postgresql``; installed here on demand when running as root) and, when
running as root, the ``postgres`` system user that package creates, because ``initdb`` and
``postgres`` refuse to run as root. Everything lives in one temporary folder (data, unix
socket, log); the server listens on 127.0.0.1 at a free port with ``trust`` authentication,
and :meth:`PostgresServer.stop` kills exactly the server it started.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUPERUSER = "sweeper"
DATABASE = "optuna"


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing and could not be installed (the message says why)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_bin_dir(install: bool = True) -> Path:
    """``/usr/lib/postgresql/<newest>/bin``, installing Debian's package first if allowed."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if found:
        return found[-1].parent
    apt = shutil.which("apt-get")
    if not install or apt is None or os.geteuid() != 0:
        raise PostgresUnavailable(
            "no PostgreSQL server under /usr/lib/postgresql/*/bin; fix: "
            "apt-get install -y postgresql (as root), then rerun"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in ([apt, "update"], [apt, "install", "-y", "--no-install-recommends", "postgresql"]):
        run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            raise PostgresUnavailable(
                f"{' '.join(argv)} failed ({run.stderr.strip()[-300:]}); fix: install "
                "Debian's postgresql package on this machine"
            )
    return find_bin_dir(install=False)


def _exited(pid: int) -> bool:
    info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return info is not None


class PostgresServer:
    """``start()`` a private server, use :attr:`url`, always ``stop()`` (also on failure)."""

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="sweeper-pg-"))
        self.proc: subprocess.Popen | None = None
        # initdb and postgres exit with "cannot be run as root"; Debian's package provides
        # the postgres user to run them as.
        self._user: dict = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self._user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def _run(self, *argv: str) -> None:
        run = subprocess.run(
            [str(self.bin_dir / argv[0]), *argv[1:]],
            capture_output=True, text=True, timeout=120, cwd=self.root, **self._user,
        )  # fmt: skip
        if run.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {run.stderr.strip()[-500:]}")

    def start(self, timeout_s: float = 60.0) -> PostgresServer:
        data = self.root / "data"
        # --no-sync and fsync=off: a test database need not survive a power cut.
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        argv = [
            str(self.bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
            "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "max_connections=100",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.root,
                start_new_session=True, **self._user,
            )  # fmt: skip
        self._wait_ready(timeout_s)
        self._create_database()
        return self

    def _connect(self, dbname: str):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=dbname,
            connect_timeout=2, autocommit=True,
        )  # fmt: skip

    def _wait_ready(self, timeout_s: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log.read_text()[-1500:]}")
            try:
                self._connect("postgres").close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _create_database(self) -> None:
        with self._connect("postgres") as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL the server's process group; remove its files."""
        proc, self.proc = self.proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 15
            # Wait without reaping: while the postmaster is an unreaped child its PID (and so
            # its process group id) cannot be reused, so the killpg below hits only our server.
            while time.monotonic() < deadline and not _exited(proc.pid):
                time.sleep(0.05)
            # Backends share the postmaster's group (its own session, started above).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
