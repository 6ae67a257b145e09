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


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        # Until 2026-12-06: ZeroDivisionError, MemoryError, or a set sweeper train refuses.
        (["--hop", "0"], "hop_length=0"),
        (["--seconds", "1e9"], "seconds=1000000000.0"),
        (["--seconds", "nan"], "seconds=nan"),
        (["--val", "0"], "val_per_speaker=0"),
        (["--val", "2", "--clips", "2"], "val_per_speaker=2"),
        (["--sr", "1000"], "sampling_rate=1000"),
    ],
)
def test_toy_refuses_values_the_trainer_would_refuse(tmp_path, extra, fragment):
    with pytest.raises(InputError) as info:
        _data.run(_parse(["toy", str(tmp_path / "t"), *extra]))
    message = str(info.value)
    assert fragment in message and "fix:" in message and "\n" not in message
    assert not (tmp_path / "t").exists()


def test_the_lowest_toy_rate_is_one_the_trainer_takes():
    from sweeper.data.toy import MIN_SR, ToySpec
    from sweeper.trainers.reference.config import from_dict

    ToySpec(sampling_rate=MIN_SR, hop_length=80)
    from_dict({"preset": "micro", "data": {"sampling_rate": MIN_SR, "mel_fmax": None}})
    with pytest.raises(InputError):
        from_dict({"preset": "micro", "data": {"sampling_rate": MIN_SR - 1, "mel_fmax": None}})
