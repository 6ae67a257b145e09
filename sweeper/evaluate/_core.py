"""``evaluate(refs, outs, sr)``: arrays in, one ``MetricResult`` per metric out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sweeper.errors import InputError
from sweeper.evaluate._base import MetricResult, skipped, unavailable
from sweeper.evaluate._registry import TIME_ALIGNED, family_module, get_metrics, missing_modules

MODEL_SR = 16000  # every learned model here (Whisper, DNSMOS, Resemblyzer, DistillMOS) wants it


_INT_FIELDS = ("hop_length", "n_fft", "n_mels", "mcd_order", "asr_beam", "threads")


@dataclass(frozen=True)
class Settings:
    """How to measure. None means "derive from the sampling rate"."""

    hop_length: int | None = None  # frame hop for f0, V/UV, mel L1 and MCD (default 10 ms)
    n_fft: int | None = None  # mel/MCD frame (default: power of two >= 40 ms)
    n_mels: int = 80  # mel bins of mel_l1 (so-vits-svc: 80)
    mel_fmax: float | None = None  # mel top edge in Hz; None = Nyquist
    gross_cents: float = 50.0  # f0 off by more than this counts as gross (val/f0_gross_error)
    semitones: float = 0.0  # expected key shift of out vs ref (so-vits-svc's transpose)
    mcd_order: int = 24  # mel-cepstral coefficients 1..order enter MCD
    asr_beam: int = 1  # Whisper beam size; 1 = greedy (measured: same WER here, faster)
    threads: int = 1  # CPU threads per model; 1 avoids thrashing on shared cores
    device: str | None = None  # "cpu" / "cuda"; None = cuda when torch sees one

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if not (value is None and name in ("hop_length", "n_fft")) and (
                isinstance(value, bool) or not isinstance(value, int | np.integer)
            ):
                raise InputError(f"Settings.{name} must be an int, got {value!r}")
        for name in ("mel_fmax", "gross_cents", "semitones"):
            value = getattr(self, name)
            if not (value is None and name == "mel_fmax") and (
                isinstance(value, bool) or not isinstance(value, int | float | np.number)
            ):
                raise InputError(f"Settings.{name} must be a number, got {value!r}")
        if not abs(self.semitones) <= 48:  # NaN too
            raise InputError(
                f"Settings.semitones must be finite, within +-48, got {self.semitones!r}; fix: "
                "the key shift the conversion was made with (0 for none)"
            )
        for name in ("hop_length", "n_fft"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"{name} must be >= 1 or None, got {value!r}")
        # `not x > 0` refuses NaN too (NaN <= 0 is False).
        if not self.gross_cents > 0 or self.mcd_order < 1 or self.asr_beam < 1 or self.threads < 1:
            raise InputError(
                f"need gross_cents > 0, mcd_order/asr_beam/threads >= 1, got {self.gross_cents=}"
                f", {self.mcd_order=}, {self.asr_beam=}, {self.threads=}"
            )
        if self.n_mels < 1 or (self.mel_fmax is not None and not self.mel_fmax > 0):
            raise InputError(
                f"need n_mels >= 1 and mel_fmax > 0 (or None), got {self.n_mels=}, "
                f"{self.mel_fmax=}"
            )
        if self.device is not None and self.device.split(":")[0] not in ("cpu", "cuda"):
            raise InputError(f"device must be cpu, cuda or cuda:N, got {self.device!r}")

    def check(self, sr: int) -> None:
        """What needs the sampling rate: frames that fit, a GPU that exists."""
        hop, n_fft = self.hop(sr), self.fft(sr)
        if n_fft < hop:
            raise InputError(f"n_fft={n_fft} is shorter than hop_length={hop}; fix: n_fft >= hop")
        if self.mel_fmax is not None and self.mel_fmax > sr / 2:
            raise InputError(f"mel_fmax={self.mel_fmax} is above sr/2 = {sr / 2:g} Hz")
        if self.device is not None and self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise InputError(f"device={self.device!r} but torch sees no GPU; fix: cpu")

    @classmethod
    def from_data_config(cls, data, **overrides) -> Settings:
        """Frames and mels as a trainer's ``DataConfig`` has them, so mel_l1 = val/mel_l1."""
        kw = dict(
            hop_length=data.hop_length,
            n_fft=data.filter_length,
            n_mels=data.n_mel_channels,
            mel_fmax=data.mel_fmax,
        )
        kw.update(overrides)
        return cls(**kw)

    def hop(self, sr: int) -> int:
        return self.hop_length or max(1, round(sr / 100))

    def fft(self, sr: int) -> int:
        return self.n_fft or int(2 ** np.ceil(np.log2(0.04 * sr)))


@dataclass(frozen=True)
class Batch:
    """Validated input shared by every family."""

    refs: list[np.ndarray]
    outs: list[np.ndarray]
    sr: int
    transcripts: list[str] | None
    ref_f0: list[np.ndarray] | None
    settings: Settings

    def at_model_rate(self, which: str) -> list[np.ndarray]:
        """``refs`` or ``outs`` resampled to 16 kHz (cached on first call)."""
        key = f"_{which}_16k"
        if key not in self.__dict__:
            clips = getattr(self, which)
            object.__setattr__(self, key, [resample(x, self.sr, MODEL_SR) for x in clips])
        return self.__dict__[key]


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling (scipy), float32."""
    if sr_in == sr_out:
        return audio.astype(np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(audio, sr_out // g, sr_in // g).astype(np.float32)


MIN_SECONDS = 0.1  # shorter clips have no f0 (Praat needs 3 periods of 50 Hz) nor mel frames
MAX_PEAK = 16.0  # float audio is in [-1, 1]; a peak this far out is PCM read as float
# Time-aligned metrics: an out made from its ref differs from it by a few hops at most. 10 %
# let a 44.1/48 kHz mix-up (8.8 % longer) through as "ok" (F0 error 994 cents on a copy).
LENGTH_TOLERANCE = 0.02  # out and ref lengths may differ by 2 % ...
LENGTH_HOPS = 4  # ... or by 4 hops, whichever is more


def _as_clips(name: str, clips, sr: int) -> list[np.ndarray]:
    scalar = isinstance(clips, np.generic | int | float | complex | str | bytes)
    if scalar or (isinstance(clips, np.ndarray) and clips.ndim == 0):
        raise InputError(
            f"{name} is {clips!r} ({type(clips).__name__}), not clips; fix: a list of 1-D "
            "mono arrays (or one 1-D array)"
        )
    if isinstance(clips, np.ndarray):
        if clips.ndim != 1:
            raise InputError(
                f"{name} is a {clips.ndim}-D array {clips.shape}; fix: pass a list of 1-D mono "
                "clips (stereo: average the channels)"
            )
        clips = [clips]
    out = [_as_audio(f"{name}[{i}]", x, sr) for i, x in enumerate(clips)]
    if not out:
        raise InputError(f"{name} holds no clip; fix: pass at least one")
    return out


def _as_audio(name: str, x, sr: int) -> np.ndarray:
    """Float32 mono audio; integer PCM (as scipy's wavfile reads it) scaled to [-1, 1]."""
    if not isinstance(x, np.ndarray) and not isinstance(x, (list, tuple)):
        raise InputError(f"{name} is a {type(x).__name__}, not audio; fix: a 1-D numpy array")
    x = np.asarray(x)
    if x.ndim == 2:
        raise InputError(
            f"{name} is a 2-D array {x.shape}; fix: one 1-D mono clip (stereo: average the "
            "channels)"
        )
    if x.ndim != 1 or x.size == 0:
        raise InputError(f"{name} must be non-empty 1-D audio, got shape {x.shape}")
    if np.issubdtype(x.dtype, np.signedinteger):
        _check_int_width(name, x)
        x = x / float(2 ** (8 * x.dtype.itemsize - 1))
    elif x.dtype == np.uint8:
        x = (x.astype(np.float64) - 128.0) / 128.0
    elif not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"{name} has {x.dtype} samples; fix: float audio in [-1, 1] or int PCM")
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise InputError(f"{name} has NaN/inf samples; fix: check the audio that made it")
    peak = float(np.max(np.abs(x)))
    if peak > MAX_PEAK:
        raise InputError(
            f"{name} peaks at {peak:.4g}: float audio is expected in [-1, 1]; fix: divide "
            "int16 PCM by 32768 (or pass the int16 array as it is)"
        )
    if x.size < MIN_SECONDS * sr:
        raise InputError(
            f"{name} lasts {1000 * x.size / sr:.0f} ms; fix: clips of {MIN_SECONDS} s or "
            "more (so-vits-svc's preprocessing skips clips under 0.3 s)"
        )
    return x


def _check_int_width(name: str, x: np.ndarray) -> None:
    """Integer PCM is scaled by its type; a wider type holding 16-bit values would become
    near-silence (-115 dBFS for int32, -307 for int64) with no error."""
    if x.dtype.itemsize == 8:
        raise InputError(
            f"{name} has int64 samples: no WAV format is 64-bit integer (np.round(x * 32767)"
            ".astype(int) makes them); fix: .astype(np.int16), or float audio in [-1, 1]"
        )
    peak = int(np.max(np.abs(x.astype(np.int64))))
    if x.dtype.itemsize == 4 and 0 < peak <= 32768:
        raise InputError(
            f"{name} is int32 but peaks at {peak}: 16-bit samples in an int32 array (they "
            "would be scaled by 2**31, to near-silence); fix: .astype(np.int16)"
        )


def _unaligned(refs: list[np.ndarray], outs: list[np.ndarray], sr: int, hop: int) -> str | None:
    """Why F0, V/UV and mel L1, which compare frame by frame, cannot be measured: an out
    longer or shorter than its ref by more than ``LENGTH_TOLERANCE`` (or ``LENGTH_HOPS``
    hops, for short clips) is another sentence or audio at another rate, which would be
    scored on the overlap only. None when every pair lines up."""
    for i, (ref, out) in enumerate(zip(refs, outs, strict=True)):
        if abs(out.size - ref.size) > max(LENGTH_HOPS * hop, LENGTH_TOLERANCE * ref.size):
            return (
                f"outs[{i}] lasts {out.size / sr:.2f} s but refs[{i}] {ref.size / sr:.2f} s"
                f"{_rate_hint(out.size / ref.size)}; frame-by-frame metrics need the out made "
                "from that ref, at the same rate"
            )
    return None


_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)


def _rate_hint(ratio: float) -> str:
    """ " (ratio 1.088, as 48000/44100 or 24000/22050: ...)" where pairs of common rates
    explain the lengths within 0.5 %, else ""."""
    pairs = sorted((abs(a / b / ratio - 1), -a, b) for a in _RATES for b in _RATES if a != b)
    near = [f"{-a}/{b}" for err, a, b in pairs if err <= 0.005][:3]
    if not near:
        return ""
    return f" (ratio {ratio:.3f}, as {' or '.join(near)}: is one at another sampling rate?)"


def _f0_tracks(ref_f0, refs: list[np.ndarray], hop: int) -> list[np.ndarray]:
    """Each track 1-D, finite, and as many frames as its ref has at ``hop``: a track at
    another hop would be read frame by frame at the wrong times (the toy set's f0, at its
    data hop of 320, scored 433 cents off on identical audio at the default 160)."""
    if len(ref_f0) != len(refs):
        raise InputError(f"{len(ref_f0)} ref_f0 tracks for {len(refs)} clips")
    tracks = []
    for i, (track, ref) in enumerate(zip(ref_f0, refs, strict=True)):
        f0 = np.asarray(track, dtype=np.float64)
        if f0.ndim != 1 or not np.all(np.isfinite(f0)):
            raise InputError(f"ref_f0[{i}] must be 1-D and finite (0 Hz = unvoiced)")
        frames = ref.size // hop
        if abs(f0.size - frames) > max(2, 0.02 * frames):
            raise InputError(
                f"ref_f0[{i}] has {f0.size} frames but refs[{i}] makes {frames} at "
                f"hop_length={hop}; fix: Settings(hop_length=...) as the f0 was tracked"
            )
        tracks.append(f0)
    return tracks


def evaluate(
    refs: Sequence[np.ndarray] | np.ndarray,
    outs: Sequence[np.ndarray] | np.ndarray,
    sr: int,
    metrics: Sequence[str] | str | None = None,
    *,
    transcripts: Sequence[str] | None = None,
    ref_f0: Sequence[np.ndarray] | None = None,
    settings: Settings = Settings(),
) -> dict[str, MetricResult]:
    """Measure ``outs`` (synthesised) against ``refs`` (ground truth), clip by clip.

    Args:
        refs, outs: mono audio, one 1-D array per clip, in matching order: float in [-1, 1]
            or integer PCM (scaled by its type). Time-aligned metrics (f0, V/UV, mel L1) use
            the common length, and are skipped where an out is more than 2 % (or 4 hops)
            longer or shorter than its ref; MCD aligns by DTW.
        sr: sampling rate of both, Hz.
        metrics: names from ``METRICS`` (all when None).
        transcripts: what each ref says; without them WER/CER are "skipped".
        ref_f0: frame f0 of each ref in Hz (0 = unvoiced) at ``settings.hop_length``, e.g. the
            toy set's true f0; without it Praat tracks the ref.
        settings: frames, thresholds, threads, device.

    Returns:
        ``{name: MetricResult}`` in registry order. A metric whose package is missing is
        ``status="unavailable"`` with the install command in ``detail``; never estimated.

    Example::

        >>> import numpy as np
        >>> t = np.arange(16000) / 16000
        >>> ref = 0.5 * np.sin(2 * np.pi * 220 * t)
        >>> r = evaluate([ref], [ref], 16000, ["mel_l1"])
        >>> r["mel_l1"].value, r["mel_l1"].direction
        (0.0, 'min')
    """
    if not isinstance(sr, (int, np.integer)) or sr < 8000:
        raise InputError(f"sr must be an int >= 8000 Hz, got {sr!r}")
    settings.check(int(sr))
    refs_l, outs_l = _as_clips("refs", refs, int(sr)), _as_clips("outs", outs, int(sr))
    if len(refs_l) != len(outs_l):
        raise InputError(f"{len(refs_l)} refs but {len(outs_l)} outs; fix: pair them one to one")
    if transcripts is not None:
        if isinstance(transcripts, str):
            raise InputError("transcripts is one string; fix: a list of one str per clip")
        if len(transcripts) != len(refs_l):
            raise InputError(f"{len(transcripts)} transcripts for {len(refs_l)} clips")
        if not all(isinstance(t, str) for t in transcripts):
            raise InputError("transcripts must all be str; fix: one str per clip")
    batch = Batch(
        refs_l,
        outs_l,
        int(sr),
        None if transcripts is None else list(transcripts),
        None if ref_f0 is None else _f0_tracks(ref_f0, refs_l, settings.hop(int(sr))),
        settings,
    )
    wanted = get_metrics(metrics)
    results: dict[str, MetricResult] = {}
    by_family: dict[str, list] = {}
    unaligned = _unaligned(refs_l, outs_l, int(sr), settings.hop(int(sr)))
    for metric in wanted:
        missing = missing_modules(metric)
        if missing:
            results[metric.name] = unavailable(metric, f"missing module(s) {missing}")
        elif unaligned is not None and metric.name in TIME_ALIGNED:
            results[metric.name] = skipped(metric, unaligned)
        elif metric.family == "asr" and batch.transcripts is None:
            results[metric.name] = skipped(metric, "no transcripts given")
        else:
            by_family.setdefault(metric.family, []).append(metric)
    for family, group in by_family.items():
        results.update(family_module(family).compute(batch, group))
    return {m.name: results[m.name] for m in wanted}
