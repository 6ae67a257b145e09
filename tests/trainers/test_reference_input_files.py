"""Input files as users have them: filelists from Windows, WAV headers written by a stream or
a crashed recorder, macOS metadata files; each read, or refused in one line naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from sweeper.data.features import read_wav
from sweeper.errors import InputError
from sweeper.trainers._dataset import subset_filelist
from sweeper.trainers.reference.data import load_split


def test_a_sweep_subset_reads_a_windows_filelist_as_sweeper_train_does(toy_copy, tmp_path):
    # Until 2026-12-07 the subset read plain UTF-8: a BOM became part of the first path
    # (every trial failed: missing audio file), and backslash paths all fell under one
    # "speaker" (dataset\16k\spk0\a.wav has no parent folder), so the subset was not spread.
    train = toy_copy / "filelists" / "train.txt"
    lines = train.read_text().splitlines()
    windows = "\r\n".join(line.replace("/", "\\") for line in lines)
    train.write_bytes(b"\xef\xbb\xbf" + windows.encode() + b"\r\n")
    out = subset_filelist(toy_copy, "filelists/train.txt", 2, tmp_path / "sub.txt")
    picked = out.read_text().splitlines()
    assert all(Path(p).is_file() for p in picked), picked
    assert sorted(Path(p).parent.name for p in picked) == ["spk0", "spk1"]


def test_a_sweep_subset_keeps_the_names_of_linked_speaker_folders(toy_copy, tmp_path):
    # It resolved links as sweeper train did: a speaker folder linked to another disk took
    # the link target's name as its speaker (a probe, 2026-12-07).
    import shutil

    folder = next(toy_copy.rglob("spk1"))
    shutil.move(folder, tmp_path / "spk1_take2")
    folder.symlink_to(tmp_path / "spk1_take2", target_is_directory=True)
    out = subset_filelist(toy_copy, "filelists/train.txt", 2, tmp_path / "sub.txt")
    assert sorted(Path(p).parent.name for p in out.read_text().splitlines()) == ["spk0", "spk1"]


def _pcm16(path: Path, seconds: float = 0.5, sr: int = 16000) -> bytes:
    t = np.arange(int(seconds * sr)) / sr
    wavfile.write(path, sr, (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16))
    return path.read_bytes()


def _with_sizes(raw: bytes, riff: int, data: int) -> bytes:
    """``raw`` (a plain 44-byte-header PCM WAV) with its RIFF and data size fields set."""
    assert raw[36:40] == b"data"
    return raw[:4] + riff.to_bytes(4, "little") + raw[8:40] + data.to_bytes(4, "little") + raw[44:]


def test_a_streamed_wav_with_unknown_sizes_is_read_to_its_end(tmp_path):
    # ffmpeg writing to a pipe cannot seek back: RIFF and data sizes stay 0xFFFFFFFF.
    # so-vits-svc reads such a file whole (soundfile); it was refused as "cut short".
    path = tmp_path / "piped.wav"
    raw = _pcm16(path)
    path.write_bytes(_with_sizes(raw, 0xFFFFFFFF, 0xFFFFFFFF))
    audio = read_wav(path, 16000)
    np.testing.assert_array_equal(audio, read_wav(_write(tmp_path / "ok.wav", raw), 16000))


def _write(path: Path, raw: bytes) -> Path:
    path.write_bytes(raw)
    return path


def test_a_cut_data_chunk_is_still_refused(tmp_path):
    # A real size that the file falls short of stays an error (the check the fix keeps).
    path = tmp_path / "cut.wav"
    raw = _pcm16(path)
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"cut\.wav.* is cut short"):
        read_wav(path, 16000)


def test_a_header_with_zero_sizes_names_the_file_in_the_split_error(toy_copy, micro_cfg):
    # A recorder that crashed before finishing its header: sizes 0, samples after it.
    # It was "internal error: UnboundLocalError ... 'fs'" (scipy), naming no file, and it
    # ended the collection of bad files.
    lines = (toy_copy / "filelists" / "train.txt").read_text().splitlines()
    first, second = ((toy_copy / line).resolve() for line in lines[:2])
    first.write_bytes(_with_sizes(first.read_bytes(), 0, 0))
    second.unlink()
    with pytest.raises(InputError) as info:
        load_split(micro_cfg, toy_copy, "train")
    message = str(info.value)
    assert message.startswith("2 train files cannot be used") and "\n" not in message
    assert first.name in message and second.name in message
    with pytest.raises(InputError, match=r"header says .*0 bytes.*sox --ignore-length"):
        read_wav(first, 16000)


def test_macos_appledouble_files_are_named_as_such(toy_copy, micro_cfg):
    # Copying from a Mac to a FAT/exFAT drive or a zip leaves ._x.wav (Finder metadata,
    # not audio) beside x.wav; "re-export it" was the wrong fix.
    train = toy_copy / "filelists" / "train.txt"
    rel = train.read_text().splitlines()[0]
    wav = (toy_copy / rel).resolve()
    ghost = wav.with_name("._" + wav.name)
    ghost.write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 400)
    train.write_text(train.read_text() + f"{Path(rel).parent}/{ghost.name}\n")
    with pytest.raises(InputError, match=r"AppleDouble.*fix: delete the ._\* files"):
        load_split(micro_cfg, toy_copy, "train")


def test_missing_filelists_point_to_so_vits_svc_preprocessing(toy_copy, micro_cfg):
    # `sweeper data toy` refuses a folder that already holds a dataset.
    (toy_copy / "filelists" / "train.txt").unlink()
    with pytest.raises(InputError) as info:
        load_split(micro_cfg, toy_copy, "train")
    assert "preprocess_flist_config.py" in str(info.value)
    assert "resample.py" in str(info.value)
