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
