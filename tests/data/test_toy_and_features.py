"""Toy singer generator (layout, determinism, f0 truth) and the numpy feature front end."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from sweeper.data.features import f0_praat, log_mel_content, mel_filterbank, read_wav
from sweeper.data.toy import ToySpec, synth_clip, write_toy_dataset
from sweeper.errors import InputError

SMALL = ToySpec(
    n_speakers=3, clips_per_speaker=2, val_per_speaker=1, seconds=0.5, max_harmonics=20, seed=7
)


def _digest(root):
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def test_layout_matches_sovits(tmp_path):
    lists = write_toy_dataset(tmp_path, SMALL)
    assert len(lists["train"]) == 3 and len(lists["val"]) == 3
    train = (tmp_path / "filelists" / "train.txt").read_text().splitlines()
    assert train == lists["train"]
    for line in train:
        assert line.startswith("./dataset/16k/spk")
        wav = tmp_path / line
        assert wav.is_file() and (wav.parent / f"{wav.name}.f0_true.npy").is_file()
    assert sorted(p.name for p in (tmp_path / "dataset" / "16k").iterdir()) == [
        "spk0",
        "spk1",
        "spk2",
    ]


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    write_toy_dataset(tmp_path / "a", SMALL)
    write_toy_dataset(tmp_path / "b", SMALL)
    write_toy_dataset(tmp_path / "c", ToySpec(**{**SMALL.__dict__, "seed": 8}))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_clip_has_voiced_and_unvoiced_frames_and_fits_full_scale():
    rng = np.random.default_rng(0)
    spk = {"f0_low": 150.0, "formant_scale": 1.0, "tilt": 1.0, "vibrato_hz": 5.0}
    audio, f0 = synth_clip(SMALL, spk, rng)
    assert len(audio) == len(f0) * SMALL.hop_length
    assert np.abs(audio).max() <= 1.0
    assert 0.5 < np.mean(f0 > 0) < 1.0  # consonant gaps are unvoiced
    assert f0[f0 > 0].min() >= 150.0 * 0.9


def test_praat_tracks_the_true_f0(tmp_path):
    lists = write_toy_dataset(tmp_path, SMALL)
    wav = tmp_path / lists["train"][0]
    audio = read_wav(wav, SMALL.sampling_rate)
    true = np.load(f"{wav}.f0_true.npy")
    est = f0_praat(audio, SMALL.sampling_rate, SMALL.hop_length, len(true))
    both = (est > 0) & (true > 0)
    assert both.mean() > 0.5
    cents = np.abs(1200 * np.log2(est[both] / true[both]))
    assert np.median(cents) < 30
    assert np.mean((est > 0) != (true > 0)) < 0.2


def test_read_wav_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"nothing\.wav"):
        read_wav(tmp_path / "nothing.wav", 16000)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav")
    with pytest.raises(InputError, match=r"bad\.wav"):
        read_wav(bad, 16000)
    # Other audio under a .wav name is named (an MP3 was "File format b'\xff\xf3...'").
    for head, kind in [(b"\xff\xf3\x88\xc4", "MP3"), (b"ID3\x03", "MP3"), (b"fLaC", "FLAC")]:
        bad.write_bytes(head + bytes(64))
        with pytest.raises(InputError, match=rf"it is {kind} audio, not WAV\); fix: re-export"):
            read_wav(bad, 16000)



@pytest.mark.parametrize(("sr", "n_fft", "hop"), [(44100, 2048, 441), (16000, 1024, 315)])
def test_log_mel_frames_a_whole_number_of_hops_when_n_fft_minus_hop_is_odd(sr, n_fft, hop):
    # A 3.00 s clip at 44.1 kHz (hop 441, evaluate's default there) raised IndexError: the
    # padding lost the odd sample, so the last frame ran one past the end (a probe).
    for n in (3 * sr // hop * hop, 7 * hop, 7 * hop + 1):
        audio = np.sin(np.arange(n) * 0.05).astype(np.float32)
        mel = log_mel_content(audio, sr, n_fft, hop, 40)
        assert mel.shape == (40, n // hop)
        assert np.isfinite(mel).all()


def test_log_mel_shape_and_filterbank():
    sr, hop = 16000, 320
    t = np.arange(sr) / sr
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    mel = log_mel_content(tone, sr, 1024, hop, 40, 8000)
    assert mel.shape == (40, sr // hop)
    fb = mel_filterbank(sr, 1024, 40, 0.0, 8000.0)
    peak_bin = int(np.argmax(mel[:, 10]))
    centre_hz = np.argmax(fb[peak_bin]) * sr / 1024
    assert abs(centre_hz - 1000) < 150  # the 1 kHz tone lands in the filter around 1 kHz


@pytest.mark.parametrize(
    "kwargs", [{"clips_per_speaker": 1}, {"n_speakers": 0}, {"seconds": 0.01}]
)
def test_bad_spec_is_refused(kwargs):
    with pytest.raises(InputError):
        ToySpec(**kwargs)


def _tone(sr=16000, seconds=0.25):
    t = np.arange(int(sr * seconds)) / sr
    return 0.5 * np.sin(2 * np.pi * 220 * t)


@pytest.mark.parametrize(
    ("dtype", "scale", "offset"),
    [(np.int16, 32767, 0), (np.int32, 2**31 - 1, 0), (np.uint8, 127, 128), (np.float32, 1, 0)],
)
@pytest.mark.parametrize("channels", [1, 2])
def test_read_wav_scales_every_pcm_kind_to_unit_range_before_mixing_down(
    tmp_path, dtype, scale, offset, channels
):
    from scipy.io import wavfile

    mono = _tone()
    data = np.round(mono * scale + offset).astype(dtype) if scale != 1 else mono.astype(dtype)
    if channels == 2:  # until 2026-12-06 a stereo int16 file read back at +-16000
        data = np.stack([data, data], axis=1)
    wavfile.write(tmp_path / "a.wav", 16000, data)
    audio = read_wav(tmp_path / "a.wav", 16000)
    assert audio.dtype == np.float32 and audio.shape == mono.shape
    np.testing.assert_allclose(audio, mono, atol=1.5 / min(scale, 127))
    assert abs(float(audio.mean())) < 0.01  # 8-bit PCM is unsigned: no DC offset left


def test_read_wav_refuses_nan_samples_by_name(tmp_path):
    from scipy.io import wavfile

    data = _tone().astype(np.float32)
    data[100] = np.nan
    wavfile.write(tmp_path / "bad.wav", 16000, data)
    with pytest.raises(InputError, match=r"bad\.wav' holds 1 NaN or inf sample"):
        read_wav(tmp_path / "bad.wav", 16000)


def test_read_wav_names_a_file_with_a_cut_header(tmp_path):
    from scipy.io import wavfile

    wavfile.write(tmp_path / "a.wav", 16000, (_tone() * 30000).astype(np.int16))
    (tmp_path / "cut.wav").write_bytes((tmp_path / "a.wav").read_bytes()[:30])
    with pytest.raises(InputError, match=r"cannot read '.*cut\.wav' as WAV"):
        read_wav(tmp_path / "cut.wav", 16000)


def test_read_wav_names_a_header_claiming_zero_channels(tmp_path):
    # A probe (2026-12-06): scipy's ZeroDivisionError reached summarize as a Ray traceback.
    import struct

    raw = bytearray(_wav_bytes(tmp_path))
    raw[22:24] = struct.pack("<H", 0)  # the fmt chunk's channel count
    (tmp_path / "zero.wav").write_bytes(bytes(raw))
    with pytest.raises(InputError, match=r"cannot read '.*zero\.wav' as WAV .*fix:"):
        read_wav(tmp_path / "zero.wav", 16000)


def _wav_bytes(tmp_path):
    from scipy.io import wavfile

    wavfile.write(tmp_path / "a.wav", 16000, (_tone() * 30000).astype(np.int16))
    return (tmp_path / "a.wav").read_bytes()


def test_read_wav_refuses_a_cut_data_chunk_by_name(tmp_path):
    # Until 2026-12-06 scipy's "Reached EOF prematurely" was hidden: half a clip trained.
    raw = _wav_bytes(tmp_path)
    (tmp_path / "half.wav").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"'.*half\.wav' is cut short .*fix:") as info:
        read_wav(tmp_path / "half.wav", 16000)
    assert "\n" not in str(info.value)


def test_read_wav_stays_quiet_about_an_extra_chunk(tmp_path):
    import struct
    import warnings

    raw = _wav_bytes(tmp_path)
    junk = b"junk" + struct.pack("<I", 4) + b"abcd"  # a chunk scipy skips with a warning
    body = raw[12:] + junk
    riff = b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE"
    (tmp_path / "extra.wav").write_bytes(riff + body)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audio = read_wav(tmp_path / "extra.wav", 16000)
    assert audio.shape == _tone().shape


def test_f0_praat_calls_audio_too_short_for_praat_unvoiced():
    # Under 3 periods of the 50 Hz floor Praat has no pitch analysis: it raised PraatError.
    tone = np.sin(2 * np.pi * 200 * np.arange(800) / 16000).astype(np.float32)  # 0.05 s
    assert f0_praat(tone, 16000, 160).tolist() == [0.0] * 5
    assert f0_praat(np.tile(tone, 2), 16000, 160)[3] == pytest.approx(200, abs=5)


def test_read_wav_refuses_float_samples_far_outside_unit_range_by_name(tmp_path):
    from scipy.io import wavfile

    # int16 values written as float (+-16000) trained silently at a 500x louder mel.
    wavfile.write(tmp_path / "hot.wav", 16000, (_tone() * 16000).astype(np.float32))
    with pytest.raises(InputError, match=r"hot\.wav' is a float WAV whose samples reach 8000,"):
        read_wav(tmp_path / "hot.wav", 16000)
    wavfile.write(tmp_path / "over.wav", 16000, (_tone() * 3).astype(np.float32))
    assert float(np.abs(read_wav(tmp_path / "over.wav", 16000)).max()) > 1  # usable: a note


def test_read_wav_names_stereo_channels_that_cancel_in_the_mix(tmp_path):
    from scipy.io import wavfile

    tone = (_tone() * 16000).astype(np.int16)
    wavfile.write(tmp_path / "anti.wav", 16000, np.stack([tone, -tone], axis=1))
    with pytest.raises(InputError, match=r"anti\.wav' mixes down to near silence: its 2 ch"):
        read_wav(tmp_path / "anti.wav", 16000)
    wavfile.write(tmp_path / "quiet.wav", 16000, np.zeros((1600, 2), np.int16))
    assert not read_wav(tmp_path / "quiet.wav", 16000).any()  # silent, not cancelling
