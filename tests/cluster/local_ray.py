"""A real multi-process Ray cluster on this machine: ``ray start --head`` plus workers.

Other jobs run Ray on the same machine, so nothing here may touch a Ray process it did not
start: never ``ray stop`` (it kills every Ray process of the user, found by name). Instead
each node is started with ``ray start --block`` in its own session and carries a marker
environment variable that every process it spawns inherits (raylet, GCS, agents and trial
workers, which move to process groups of their own). Stopping a node kills exactly the
processes whose environment holds its marker.

Every node also gets its own ``--temp-dir`` (so ``ray_current_cluster`` and the session
folders stay out of the shared ``/tmp/ray``) and free ports for the services whose default
ports are fixed (the client server, the dashboard agent, metrics), which a second cluster on
the host would collide with.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
MARKER = "SWEEPER_TEST_RAY_NODE"

# Lost nodes are noticed after period x threshold; Ray's defaults (3 s x 5) would idle the
# test for ~15 s after a worker dies.
_FAST_HEALTH_CHECK = {
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_failure_threshold": "4",
}


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, even by SIGKILL.

    ``ray start --block`` stops its node on SIGTERM, so a crashed pytest leaves no cluster
    behind; the fixtures' teardown covers every other way a test ends.
    """
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return b""


def marked_pids(marker_value: str) -> list[int]:
    """PIDs of live processes whose environment holds ``MARKER=<marker_value>``."""
    needle = f"{MARKER}={marker_value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            env = _environ(int(entry.name))
            if needle in env.split(b"\0"):
                found.append(int(entry.name))
    return found


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


@dataclass
class Node:
    name: str
    marker: str
    proc: subprocess.Popen
    log: Path
    stopped: bool = False  # killed on purpose: its exit is not a failure

    def pids(self) -> list[int]:
        return marked_pids(self.marker)

    def kill(self, grace_s: float = 0.0) -> None:
        """SIGTERM (when ``grace_s`` > 0), then SIGKILL whatever of this node is left."""
        self.stopped = True
        if grace_s > 0:
            _signal_all(self.pids(), signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.2)
        # Kill repeatedly: a dying raylet may still fork a worker between scan and signal.
        for _ in range(20):
            left = self.pids()
            if not left:
                break
            _signal_all(left, signal.SIGKILL)
            time.sleep(0.1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


@dataclass
class LocalRayCluster:
    """Head and workers started with the ``ray`` CLI; :meth:`stop` always cleans up."""

    root: Path
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    nodes: list[Node] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment for any client of this cluster (``ray`` CLI, a driver, ``sweeper``).

        Token auth is on by default in Ray 2.60, but ``ray start``/``ray status`` clients
        only use it with ``RAY_AUTH_MODE=token``; the token travels as ``RAY_AUTH_TOKEN`` so
        the user's ``~/.ray/auth_token`` is neither read nor overwritten.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=self.token)
        return env

    def _start(self, name: str, args: list[str], extra_env: dict[str, str]) -> Node:
        marker = f"{self.token[:8]}-{name}"
        log = self.root / f"{name}.log"
        argv = [
            RAY, "start", "--block", "--disable-usage-stats",
            "--node-ip-address=127.0.0.1",
            f"--temp-dir={self.root / name}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            *args,
        ]  # fmt: skip
        env = {**self.env(), **extra_env, MARKER: marker}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        node = Node(name, marker, proc, log)
        self.nodes.append(node)
        return node

    def start_head(self) -> Node:
        return self._start(
            "head",
            [
                "--head", f"--port={self.port}", "--num-cpus=0",
                "--include-dashboard=false", f"--ray-client-server-port={free_port()}",
            ],
            _FAST_HEALTH_CHECK,
        )  # fmt: skip

    def add_worker(self, num_cpus: int = 1) -> Node:
        name = f"worker{len(self.nodes)}"  # unique: a replaced worker keeps its old name
        return self._start(name, [f"--address={self.address}", f"--num-cpus={num_cpus}"], {})

    def live_workers(self) -> list[Node]:
        return [n for n in self.nodes[1:] if not n.stopped and n.proc.poll() is None]

    def alive_nodes(self) -> int:
        """Nodes the GCS lists as alive, or -1 while it cannot be asked."""
        probe = (
            "import ray, sys\n"
            f"ray.init(address={self.address!r}, log_to_driver=False, logging_level='ERROR')\n"
            "print(sum(n['Alive'] for n in ray.nodes()))\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", probe], env=self.env(), capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        lines = run.stdout.split()
        return int(lines[-1]) if run.returncode == 0 and lines else -1

    def wait_for_nodes(self, count: int, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for node in self.nodes:
                if not node.stopped and node.proc.poll() is not None:
                    raise RuntimeError(f"{node.name} exited: {node.log.read_text()[-2000:]}")
            if self.alive_nodes() == count:
                return
            time.sleep(0.5)
        raise TimeoutError(f"cluster at {self.address} did not reach {count} alive nodes")

    def stop(self) -> None:
        # Workers first, so the GCS outlives its raylets and nothing lingers reconnecting.
        for node in reversed(self.nodes):
            node.kill()

    def leftover_pids(self) -> list[int]:
        return [pid for node in self.nodes for pid in node.pids()]
