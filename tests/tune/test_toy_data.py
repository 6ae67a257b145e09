"""The toy set of a sweep: generated once into data.dir, never over a user's dataset."""

from __future__ import annotations

import pytest

from sweeper.errors import InputError
from sweeper.tune._trainable import Job, toy_data

TOY = {"speakers": 2, "clips": 2, "val": 1, "seconds": 0.3, "seed": 0}


def _job(data_dir) -> Job:
    return Job("reference", 10, 1.0, "micro", None, str(data_dir), dict(TOY), {})


def test_toy_data_never_writes_over_a_users_dataset(tmp_path):
    """data.dir + data.toy wrote the toy filelists over a real dataset's (a probe lost both)."""
    mine = tmp_path / "mydata"
    (mine / "filelists").mkdir(parents=True)
    (mine / "filelists" / "train.txt").write_text("./dataset/44k/me/a.wav\n")
    with pytest.raises(InputError, match=r"already holds files.*fix: remove data\.toy"):
        toy_data(_job(mine))
    assert (mine / "filelists" / "train.txt").read_text() == "./dataset/44k/me/a.wav\n"
    assert sorted(p.name for p in mine.iterdir()) == ["filelists"]


def test_toy_data_goes_into_an_empty_folder_once_and_redoes_a_cut_one(tmp_path):
    root = tmp_path / "toy"
    assert toy_data(_job(root)) == str(root)
    lists = (root / "filelists" / "train.txt").read_text()
    assert lists.count(".wav") == 2
    stamp = (root / "filelists" / "train.txt").stat().st_mtime_ns
    toy_data(_job(root))  # made: reused as it is
    assert (root / "filelists" / "train.txt").stat().st_mtime_ns == stamp
    (root / ".sweeper-toy-done").unlink()  # a first trial killed while writing it
    (root / "filelists" / "train.txt").unlink()
    toy_data(_job(root))
    assert (root / "filelists" / "train.txt").read_text() == lists


def test_check_and_run_refuse_toy_data_over_a_dataset_before_ray(tmp_path):
    import yaml

    from sweeper.testing.sweeps import tiny_sweep
    from sweeper.tune._checks import preflight

    mine = tmp_path / "mydata"
    (mine / "filelists").mkdir(parents=True)
    sweep = tiny_sweep("t")
    sweep["data"] = {"dir": str(mine), "toy": dict(TOY)}
    space = tmp_path / "s.yaml"
    space.write_text(yaml.safe_dump(sweep, sort_keys=False))
    line = next(i for i, ln in enumerate(space.read_text().splitlines(), 1) if "dir:" in ln)
    with pytest.raises(InputError, match=rf"^{space}:{line}: data\.dir .* already holds files"):
        preflight(space)
    (mine / "filelists").rmdir()  # an empty folder takes the toy set
    preflight(space)
