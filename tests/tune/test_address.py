"""An --address nothing answers at is a one-line error in seconds (probe P: `resume
--address 127.0.0.1:1` still ran after 4 min 46 s, retrying to connect)."""

from __future__ import annotations

import time

from conftest import write_sweep

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
