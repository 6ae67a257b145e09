"""Probe U (2026-12-07): spaces `sweeper check` passed though every trial of them failed, or
that it answered with a traceback. Each is now a one-line error with the YAML line and a fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sweep_tools import BASE_SWEEP, write_sweep

from sweeper.cli import main


def _one_line(capsys, *needles) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "fix:" in err and "internal error" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def test_a_data_dir_that_is_a_file_is_refused(tmp_path, capsys):
    """Every trial failed with FileExistsError making the toy set there."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    space = write_sweep(tmp_path, data={"dir": str(afile), "toy": {"speakers": 2}})
    assert main(["check", str(space)]) == 2
    _one_line(capsys, f"{space}:", "data.dir is a file, not a folder", "afile")
    space = write_sweep(tmp_path, data={"dir": str(afile)})
    assert main(["check", str(space)]) == 2
    _one_line(capsys, "data.dir is a file")


def _dataset(root: Path, n: int, rate: int = 16_000) -> list[Path]:
    from scipy.io import wavfile

    (root / "filelists").mkdir(parents=True)
    (root / "spk").mkdir()
    names = [f"spk/{i}.wav" for i in range(n)]
    for name in ("train", "val"):
        (root / "filelists" / f"{name}.txt").write_text("\n".join(names) + "\n")
    tone = (0.1 * np.sin(np.arange(rate // 5) * 0.05) * 32767).astype(np.int16)
    for name in names:
        wavfile.write(root / name, rate, tone)
    return [root / n for n in names]


def test_a_wav_whose_header_cannot_be_read_is_refused(tmp_path, capsys):
    """A 0-byte wav in train.txt: every trial failed "cannot read ... as WAV"."""
    wavs = _dataset(tmp_path / "ds", 3)
    space = write_sweep(tmp_path, data={"dir": str(tmp_path / "ds")})
    assert main(["check", str(space)]) == 0
    capsys.readouterr()
    wavs[1].write_bytes(b"")
    assert main(["check", str(space)]) == 2
    _one_line(capsys, f"{space}:", "1 of the 3 wavs", "1.wav", "cannot be read as WAV",
              "remove them from the filelist")  # fmt: skip
    assert BASE_SWEEP["trainer"] == "reference"


@pytest.mark.parametrize("command", ["run", "resume"])
def test_a_time_limit_beyond_ten_years_is_refused_in_one_line(tmp_path, capsys, command):
    """--time-limit 1e300 printed a thread's OverflowError traceback (timestamp out of range)."""
    with pytest.raises(SystemExit) as exited:  # argparse's usage error, before Ray starts
        main([command, str(tmp_path / "space.yaml"), "--time-limit", "1e300"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "at most 10 years" in err and "1e300" in err and "Traceback" not in err
    assert not (tmp_path / "sweeps").exists()


def test_check_refuses_the_storage_run_refuses_creating_nothing(tmp_path, capsys):
    """storage: a folder, storage: under a regular file, and --storage naming a file passed
    check; run refused each."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    space = write_sweep(tmp_path, storage=str(tmp_path))
    assert main(["check", str(space)]) == 2
    _one_line(capsys, f"{space}:", "is a folder", "study.journal")
    space = write_sweep(tmp_path, storage=str(afile / "j.journal"))
    assert main(["check", str(space)]) == 2
    _one_line(capsys, f"{space}:", "which is a file, not a folder")
    space = write_sweep(tmp_path, storage=f"sqlite:///{afile}/s.db")
    assert main(["check", str(space)]) == 2
    _one_line(capsys, "which is a file, not a folder")
    space = write_sweep(tmp_path)
    assert main(["check", str(space), "--storage", str(afile)]) == 2
    _one_line(capsys, "is a file; fix: name a folder")
    assert main(["check", str(space), "--storage", str(afile / "sub")]) == 2
    _one_line(capsys, "which is a file, not a folder")
    new = tmp_path / "new" / "sweeps"
    assert main(["check", str(space), "--storage", str(new)]) == 0
    assert not (tmp_path / "new").exists()  # check creates nothing


def test_toy_speakers_above_the_bases_n_speakers_names_the_base(tmp_path, capsys):
    """The error named parameters[model.n_speakers] though none was declared."""
    params = {k: v for k, v in BASE_SWEEP["parameters"].items() if k != "model.n_speakers"}
    space = write_sweep(tmp_path, parameters=params, data={"toy": {"speakers": 60, "clips": 3}})
    assert main(["check", str(space)]) == 2
    err = _one_line(capsys, "the base preset's model.n_speakers is", "lower data.toy.speakers")
    assert "parameters[model.n_speakers]" not in err
