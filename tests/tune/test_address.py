"""An --address nothing answers at is a one-line error in seconds (probe P: `resume
--address 127.0.0.1:1` still ran after 4 min 46 s, retrying to connect)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
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


def test_a_recorded_ray_start_cluster_is_joined_only_if_it_answers(tmp_path, monkeypatch, capsys):
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
    with socket.socket() as live:
        live.bind(("127.0.0.1", 0))
        live.listen()
        _record(tmp_path, f"127.0.0.1:{live.getsockname()[1]}")
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
