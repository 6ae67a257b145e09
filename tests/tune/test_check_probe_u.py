"""Probe U (2026-12-07): spaces `sweeper check` passed though every trial of them failed, or
that it answered with a traceback. Each is now a one-line error with the YAML line and a fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import BASE_SWEEP, write_sweep

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
