"""An --address nothing answers at is a one-line error in seconds (probe P: `resume
--address 127.0.0.1:1` still ran after 4 min 46 s, retrying to connect)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sweep_tools import cli, write_sweep

from sweeper.cli import main


def test_an_unreachable_address_is_refused_at_once(tmp_path, capsys):
    space = write_sweep(tmp_path)
    started = time.monotonic()
    argv = ["run", str(space), "--storage", str(tmp_path / "sweeps"), "--address", "127.0.0.1:1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert time.monotonic() - started < 30
    assert err.count("\n") == 0 and "cannot reach a Ray cluster at --address '127.0.0.1:1'" in err
    assert "fix:" in err and not (tmp_path / "sweeps" / "t").exists()



@pytest.mark.parametrize("via", ["--address", "RAY_ADDRESS"])
def test_a_ray_client_address_is_refused_in_one_line(tmp_path, capsys, monkeypatch, via):
    # ray:// was let through: an import error, silent trials, or Ray's own traceback (a probe).
    space = write_sweep(tmp_path)
    argv = ["run", str(space), "--storage", str(tmp_path / "sweeps")]
    if via == "RAY_ADDRESS":
        monkeypatch.setenv("RAY_ADDRESS", "ray://127.0.0.1:10001")
    else:
        argv += ["--address", "ray://127.0.0.1:10001"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{via} 'ray://127.0.0.1:10001' is a Ray Client address" in err
    assert "fix: run sweeper on the head node with --address auto" in err
    assert not (tmp_path / "sweeps" / "t").exists()


def test_the_host_and_port_of_an_address():
    from sweeper.tune._address import host_port

    assert host_port("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert host_port("ray://head:10001") == ("head", 10001)
    assert host_port("auto") is None and host_port("head") is None


def test_a_stale_ray_address_variable_is_refused_at_once(tmp_path, capsys, monkeypatch):
    # Without --address Ray joins what RAY_ADDRESS names, and retried a dead one for minutes.
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    space = write_sweep(tmp_path)
    started = time.monotonic()
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err.strip()
    assert time.monotonic() - started < 30
    assert err.count("\n") == 0 and "at RAY_ADDRESS '127.0.0.1:1'" in err
    assert "unset RAY_ADDRESS to run on this machine" in err


def _record(root, address: str) -> None:
    """What `ray start` leaves for `ray.init()` to join: ray_current_cluster."""
    (root / "ray").mkdir(parents=True, exist_ok=True)
    (root / "ray" / "ray_current_cluster").write_text(address + "\n")


def test_a_recorded_ray_start_cluster_is_joined_only_if_it_answers(
    tmp_path, monkeypatch, capsys, ray_head
):
    from sweeper.tune._address import default_address

    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    assert default_address() is None and capsys.readouterr().out == ""  # no record: Ray's way
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{closed.getsockname()[1]}"
    _record(tmp_path, dead)
    assert default_address() == "local"  # ray.init() would hang on it for minutes
    out = capsys.readouterr().out
    assert f"({dead}) does not answer" in out and "`ray stop` clears the record" in out
    with socket.socket() as other:  # a server that is not Ray's is passed over too
        other.bind(("127.0.0.1", 0))
        other.listen()
        _record(tmp_path, f"127.0.0.1:{other.getsockname()[1]}")
        assert default_address() == "local"
        assert "does not answer" in capsys.readouterr().out
    _record(tmp_path, ray_head)
    assert default_address() is None  # a live one is joined, as ray.init() does, said
    assert "joining the Ray cluster `ray start` started" in capsys.readouterr().out


@pytest.mark.slow
def test_a_record_left_by_a_dead_cluster_does_not_hang_the_default_run(tmp_path):
    # Probe (2026-12-07): with a ray_current_cluster naming a dead head, `ray.init()` retried
    # for minutes ("Failed to connect to GCS"). Real process, real local Ray.
    space = write_sweep(tmp_path, budget={"max_steps": 5, "num_trials": 1, "concurrency": 1})
    ray_tmp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths
    try:
        _record(ray_tmp, "127.0.0.1:9")
        env = {**os.environ, "RAY_TMPDIR": str(ray_tmp)}
        env.pop("RAY_ADDRESS", None)
        done = subprocess.run(
            cli("run", str(space)), cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=240,
        )  # fmt: skip
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "(127.0.0.1:9) does not answer" in done.stdout
    assert "trials: 1 (1 budget)" in done.stdout


def test_an_address_where_another_server_answers_is_refused_at_once(tmp_path, capsys):
    # Probe W (2026-12-07): with a web server on the port (a mistyped port), the TCP connect
    # succeeded and ray.init hung for minutes. Ray's head speaks gRPC; a web server doesn't.
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # not on the test's stderr
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"127.0.0.1:{server.server_address[1]}"
        space = write_sweep(tmp_path)
        started = time.monotonic()
        argv = ["run", str(space), "--storage", str(tmp_path / "sweeps"), "--address", address]
        assert main(argv) == 2
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err.strip()
    assert time.monotonic() - started < 30 and err.count("\n") == 0, err
    assert f"at --address {address!r} (a server answers there, but not as Ray's head" in err


@pytest.fixture(scope="module")
def ray_head():
    """The GCS address of a real local Ray head, in a process of its own."""
    ray_tmp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths
    code = (
        "import ray; ray.init(address='local', include_dashboard=False); "
        "print(ray.get_runtime_context().gcs_address, flush=True); import time; time.sleep(600)"
    )
    env = {**os.environ, "RAY_TMPDIR": str(ray_tmp)}
    head = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        address = head.stdout.readline().strip()
        assert ":" in address, address
        yield address
    finally:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait(timeout=30)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def test_a_ray_head_passes_the_check(ray_head):
    # The check's other side: a real Ray head (gRPC) answers the HTTP/2 opening.
    from sweeper.tune._address import check_address

    check_address(ray_head)  # raises InputError if the head were not recognised
