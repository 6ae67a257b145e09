"""Shared argparse value types: a bad value is a one-line usage error, never a traceback."""

from __future__ import annotations

import pytest

from sweeper.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "curves", "x.npz", "--seed", "-1"],
        ["bench", "pruner", "x.npz", "--seed", "-1"],
        ["data", "toy", "d", "--seed", "-1"],
        ["data", "speech", "d", "--seed", "x"],
    ],
)
def test_a_bad_seed_is_a_one_line_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: a seed is a whole number >= 0" in err
    assert "Traceback" not in err


def test_a_warning_is_one_line_naming_the_command(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text('{"train": {"c_mel": 40}}')  # a so-vits config.json missing keys
    out = str(tmp_path / "o")
    code = main(["train", str(config), "--data", str(tmp_path / "none"), "--out", out])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 2, err  # the warning, then the missing data's error
    assert err[0].startswith("sweeper train: warning: ") and "key(s) absent" in err[0]
    assert err[1].startswith("sweeper train: error: missing filelist")


def test_an_interrupted_command_ignores_a_second_ctrl_c_while_it_exits(monkeypatch):
    # A probe: a second Ctrl-C broke Ray's shutdown at exit (summarize --evaluate printed an
    # atexit traceback and left Ray's agents running). main() itself leaves SIGINT alone.
    import signal

    import sweeper.cli as cli

    before = signal.getsignal(signal.SIGINT)
    try:
        monkeypatch.setattr(cli, "main", lambda: cli.INTERRUPTED)
        with pytest.raises(SystemExit) as exited:
            cli.entry_point()
        assert exited.value.code == 130 and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        signal.signal(signal.SIGINT, before)
        monkeypatch.setattr(cli, "main", lambda: 0)
        with pytest.raises(SystemExit):
            cli.entry_point()
        assert signal.getsignal(signal.SIGINT) is before
    finally:
        signal.signal(signal.SIGINT, before)
