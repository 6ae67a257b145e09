"""``sweeper train``: the CLI module contract, end to end on the micro preset."""

from __future__ import annotations

import argparse

import pytest

from sweeper.cli import _train
from sweeper.errors import InputError


def _parse(argv):
    parser = argparse.ArgumentParser()
    _train.configure(parser)
    return parser.parse_args(argv)


def test_train_runs_and_resumes(toy_dir, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["micro", "--data", str(toy_dir), "--out", str(out), "--threads", "1", "--no-progress"]
    assert _train.run(_parse([*argv, "--max-steps", "2"])) == 0
    assert "step 2:" in capsys.readouterr().out
    assert (out / "G_2.pth").is_file()
    assert _train.run(_parse([*argv, "--max-steps", "3"])) == 0  # resumes from step 2
    assert "step 3:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,fragment", [(["--max-steps", "-1"], "max-steps"), (["--threads", "0"], "threads")]
)
def test_bad_options_are_input_errors(tmp_path, extra, fragment):
    args = _parse(["micro", "--data", str(tmp_path), "--out", str(tmp_path / "o"), *extra])
    with pytest.raises(InputError, match=fragment):
        _train.run(args)


def test_missing_filelist_is_an_input_error(tmp_path):
    args = _parse(
        ["micro", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--no-progress"]
    )
    with pytest.raises(InputError, match=r"train\.txt"):
        _train.run(args)
