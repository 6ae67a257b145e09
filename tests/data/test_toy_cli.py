"""``sweeper data toy``: the CLI module contract and its errors."""

from __future__ import annotations

import argparse

import pytest

from sweeper.cli import _data
from sweeper.errors import InputError


def _parse(argv):
    parser = argparse.ArgumentParser()
    _data.configure(parser)
    return parser.parse_args(argv)


def test_toy_writes_a_dataset(tmp_path, capsys):
    out = tmp_path / "toy"
    args = _parse(["toy", str(out), "--speakers", "2", "--clips", "2", "--seconds", "0.5"])
    assert _data.run(args) == 0
    assert "2 train and 2 val" in capsys.readouterr().out
    assert len((out / "filelists" / "train.txt").read_text().splitlines()) == 2


def test_toy_refuses_a_non_empty_dir(tmp_path):
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        _data.run(_parse(["toy", str(tmp_path)]))
    assert isinstance(_data.HELP, str) and "\n" not in _data.HELP
