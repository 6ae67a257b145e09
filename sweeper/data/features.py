"""Weight-free feature extraction in numpy: wav reading, f0 (Praat via parselmouth), log-mel.

Frame convention (shared with so-vits-svc): a clip of ``N`` samples has ``N // hop`` frames;
frame ``t`` covers samples ``[t * hop, (t + 1) * hop)``.
"""

from __future__ import annotations

import functools
import struct
import warnings
from pathlib import Path

import numpy as np

from sweeper.errors import InputError

F0_FLOOR, F0_CEIL = 50.0, 1100.0  # Hz: the range so-vits-svc's coarse-f0 bins cover
# Praat's autocorrelation window spans 3 periods of the pitch floor; a shorter sound has no
# pitch analysis at all (PraatError), so f0_praat calls it unvoiced.
PITCH_MIN_SECONDS = 3.0 / F0_FLOOR
# Float WAV samples past this are not audio in [-1, 1] (+6 dBFS; int16 values read 16000).
FLOAT_PEAK_MAX = 2.0


def _other_format(path: Path) -> str | None:
    """Name an audio file of another format under a .wav name; scipy's own words for an MP3
    were "File format b'\\xff\\xf3\\x88\\xc4' not understood" (a probe, 2026-12-07)."""
    with path.open("rb") as fh:
        head = fh.read(12)
    kinds = {b"ID3": "MP3", b"fLaC": "FLAC", b"OggS": "Ogg", b"FORM": "AIFF", b"caff": "CAF"}
    kind = next((kind for magic, kind in kinds.items() if head.startswith(magic)), None)
    if kind is None and len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        kind = "MP3"  # an MPEG audio frame, without an ID3 tag
    if kind is None and head[4:8] == b"ftyp":
        kind = "MP4/M4A"
    return None if kind is None else f"it is {kind} audio, not WAV"


def read_wav(path: str | Path, expected_sr: int) -> np.ndarray:
    """Mono float32 in [-1, 1]; a wrong rate or an unreadable file names the file."""
    from scipy.io import wavfile

    path = Path(path)
    if not path.is_file():
        raise InputError(f"missing audio file {str(path)!r}; fix: check the filelist entry")
    if path.name.startswith("._"):
        # Copying from a Mac to FAT/exFAT, a zip or a network share leaves ._x.wav beside x.wav.
        raise InputError(
            f"{str(path)!r} is a macOS AppleDouble file (Finder metadata, not audio); fix: "
            f"delete the ._* files (find DATA_DIR -name '._*' -delete) and their filelist lines"
        )
    data_size = _data_chunk_size(path)
    if data_size == 0 and path.stat().st_size > 44:
        # scipy fails inside its parser on this (UnboundLocalError), soundfile reads 0 samples.
        raise InputError(
            f"{str(path)!r}: its WAV header says the audio data is 0 bytes long, but the "
            f"file holds {path.stat().st_size} bytes (a recorder stopped before finishing "
            "the header?); fix: rewrite the header from the file's length, e.g. "
            "`sox --ignore-length IN.wav OUT.wav`, or re-export it"
        )
    try:
        with warnings.catch_warnings(record=True) as caught:
            # Most of scipy's WavFileWarnings (extra chunks, ...) are harmless; kept, not shown.
            warnings.simplefilter("always", wavfile.WavFileWarning)
            sr, data = wavfile.read(path)
    # A header claiming 0 channels or a huge size: ZeroDivisionError, OverflowError,
    # MemoryError from inside scipy's parser (a probe: a Ray traceback in summarize).
    # NameError: an UnboundLocalError from its parser on other odd headers.
    except (ValueError, EOFError, struct.error, ArithmeticError, MemoryError, NameError) as err:
        kind = _other_format(path)
        raise InputError(
            f"cannot read {str(path)!r} as WAV ({kind or err}); fix: re-export it as PCM WAV"
            + (" (e.g. ffmpeg -i IN -ar RATE OUT.wav)" if kind else "")
        ) from err
    for warning in caught:
        if issubclass(warning.category, wavfile.WavFileWarning):
            text = str(warning.message)
            # The data chunk was cut short, unless its size is the 0xFFFFFFFF a stream
            # writes (ffmpeg to a pipe cannot seek back): then the data runs to the file's
            # end, which is what scipy read (so-vits-svc's soundfile reads it so too).
            if "Reached EOF prematurely" in text and data_size != _STREAMED:
                raise InputError(
                    f"{str(path)!r} is cut short ({text}): only part of the clip is there; "
                    "fix: copy or re-export the file again"
                )
        else:  # not scipy's WAV warning: pass it on as it would have been shown
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    if sr != expected_sr:
        raise InputError(
            f"{str(path)!r} has sampling rate {sr}, config says {expected_sr}; "
            "fix: resample the dataset or set data.sampling_rate"
        )
    if np.issubdtype(data.dtype, np.floating) and data.size and np.all(np.isfinite(data)):
        peak = float(np.abs(data).max())
        if peak > FLOAT_PEAK_MAX:  # (a little over 1 is usable: the trainer notes it)
            raise InputError(
                f"{str(path)!r} is a float WAV whose samples reach {peak:g}, where float WAVs "
                "hold [-1, 1] (integer sample values stored as float?); fix: re-export it "
                "normalised to [-1, 1], or as 16-bit PCM"
            )
    # Scale before mixing down: the mean of integer channels is already float.
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned, silence at 128
        data = (data.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.integer):
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    if data.ndim > 1:
        mono = data.mean(axis=1)
        loud = float(np.abs(data).max()) if data.size else 0.0
        mixed = float(np.abs(mono).max()) if mono.size else 0.0
        if loud > 1e-3 and mixed < 0.01 * loud:  # -40 dB: only cancelling channels do that
            raise InputError(
                f"{str(path)!r} mixes down to near silence: its {data.shape[1]} channels "
                f"cancel (peak {loud:.2f} in a channel, {mixed:.1e} in the mono mix; one "
                "channel is the other inverted); fix: re-export it as mono from one channel"
            )
        data = mono
    data = data.astype(np.float32)
    if not np.all(np.isfinite(data)):
        raise InputError(
            f"{str(path)!r} holds {int(np.count_nonzero(~np.isfinite(data)))} NaN or inf "
            "sample(s); fix: re-export it (they would make every loss NaN)"
        )
    return data


_STREAMED = 0xFFFFFFFF  # the data size of a WAV written to a pipe: "until the end"


def _data_chunk_size(path: Path) -> int | None:
    """The size field of a RIFF WAV's ``data`` chunk (None: not RIFF, or no data chunk)."""
    with path.open("rb") as fh:
        if fh.read(12)[8:12] != b"WAVE":
            return None
        while len(head := fh.read(8)) == 8:
            size = int.from_bytes(head[4:], "little")
            if head[:4] == b"data":
                return size
            fh.seek(size + (size & 1), 1)  # chunks are word-aligned
    return None


def f0_praat(audio: np.ndarray, sr: int, hop: int, n_frames: int | None = None) -> np.ndarray:
    """Frame f0 in Hz (0 = unvoiced) from Praat's autocorrelation tracker, one value per frame.

    Audio shorter than ``PITCH_MIN_SECONDS`` is all unvoiced (Praat cannot analyse it).
    """
    import parselmouth

    n_frames = len(audio) // hop if n_frames is None else n_frames
    if len(audio) < PITCH_MIN_SECONDS * sr:
        return np.zeros(n_frames, dtype=np.float32)
    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=sr)
    pitch = sound.to_pitch_ac(
        time_step=hop / sr, pitch_floor=F0_FLOOR, pitch_ceiling=F0_CEIL, voicing_threshold=0.45
    )
    values = pitch.selected_array["frequency"]
    times = pitch.xs()
    # Sample Praat's frames at our frame centres; gaps (0 Hz) stay unvoiced.
    centres = (np.arange(n_frames) + 0.5) * hop / sr
    idx = np.clip(np.searchsorted(times, centres), 0, max(len(times) - 1, 0))
    if len(values) == 0:
        return np.zeros(n_frames, dtype=np.float32)
    prev = np.clip(idx - 1, 0, len(times) - 1)
    nearest = np.where(np.abs(times[prev] - centres) < np.abs(times[idx] - centres), prev, idx)
    f0 = values[nearest]
    outside = (centres < times[0] - hop / sr) | (centres > times[-1] + hop / sr)
    f0[outside] = 0.0
    return f0.astype(np.float32)


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    # Slaney scale: linear below 1 kHz, logarithmic above (the librosa default).
    freq = np.asarray(freq, dtype=np.float64)
    mels = freq / (200.0 / 3)
    high = freq >= 1000.0
    mels[high] = 15.0 + np.log(freq[high] / 1000.0) / (np.log(6.4) / 27.0)
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asarray(mels, dtype=np.float64)
    freq = mels * (200.0 / 3)
    high = mels >= 15.0
    freq[high] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mels[high] - 15.0))
    return freq


@functools.lru_cache(maxsize=16)
def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Slaney-normalised triangular filters, shape ``[n_mels, n_fft // 2 + 1]`` (float32)."""
    fft_freqs = np.linspace(0.0, sr / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array([fmin]))[0], _hz_to_mel(np.array([fmax]))[0], n_mels + 2)
    )
    weights = np.zeros((n_mels, len(fft_freqs)))
    for i in range(n_mels):
        lower, centre, upper = edges[i : i + 3]
        rise = (fft_freqs - lower) / max(centre - lower, 1e-9)
        fall = (upper - fft_freqs) / max(upper - centre, 1e-9)
        weights[i] = np.maximum(0.0, np.minimum(rise, fall)) * 2.0 / (upper - lower)
    weights.flags.writeable = False  # cached and shared: keep callers from mutating it
    return weights.astype(np.float32)


def log_mel_content(
    audio: np.ndarray, sr: int, n_fft: int, hop: int, n_mels: int, fmax: float | None = None
) -> np.ndarray:
    """The built-in content front end: ``[n_mels, len(audio) // hop]`` natural-log mel."""
    pad = (n_fft - hop) // 2
    # The right side takes the odd sample: with n_fft - hop odd (hop 441 at 44.1 kHz) the
    # last frame of a clip that is a whole number of hops ran one sample past the end.
    y = np.pad(audio.astype(np.float32), (pad, n_fft - hop - pad), mode="reflect")
    n_frames = len(audio) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    frames = y[idx] * np.hanning(n_fft + 1)[:-1].astype(np.float32)
    mag = np.sqrt(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-6).T
    fb = mel_filterbank(sr, n_fft, n_mels, 0.0, float(fmax if fmax is not None else sr / 2))
    return np.log(np.maximum(fb @ mag, 1e-5)).astype(np.float32)
