"""``evaluate(refs, outs, sr)``: arrays in, one ``MetricResult`` per metric out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sweeper.errors import InputError
from sweeper.evaluate._base import MetricResult, skipped, unavailable
from sweeper.evaluate._registry import family_module, get_metrics, missing_modules

MODEL_SR = 16000  # every learned model here (Whisper, DNSMOS, Resemblyzer, DistillMOS) wants it


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
        for name in ("hop_length", "n_fft"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"{name} must be >= 1 or None, got {value!r}")
        if self.gross_cents <= 0 or self.mcd_order < 1 or self.asr_beam < 1 or self.threads < 1:
            raise InputError(
                f"need gross_cents > 0, mcd_order/asr_beam/threads >= 1, got {self.gross_cents=}"
                f", {self.mcd_order=}, {self.asr_beam=}, {self.threads=}"
            )

    @classmethod
    def from_data_config(cls, data, **overrides) -> Settings:
        """Frames and mels as a trainer's ``DataConfig`` has them, so mel_l1 = val/mel_l1."""
        kw = dict(hop_length=data.hop_length, n_fft=data.filter_length,
                  n_mels=data.n_mel_channels, mel_fmax=data.mel_fmax)
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


def _as_clips(name: str, clips) -> list[np.ndarray]:
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        clips = [clips]
    out = []
    for i, x in enumerate(clips):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1 or x.size == 0:
            raise InputError(f"{name}[{i}] must be non-empty 1-D audio, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise InputError(f"{name}[{i}] has NaN/inf samples; fix: check the generator output")
        out.append(x)
    return out


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
        refs, outs: float audio in [-1, 1], one array per clip, in matching order. Time-aligned
            metrics (f0, V/UV, mel L1) use the common length; MCD aligns by DTW.
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
    refs_l, outs_l = _as_clips("refs", refs), _as_clips("outs", outs)
    if len(refs_l) != len(outs_l):
        raise InputError(f"{len(refs_l)} refs but {len(outs_l)} outs; fix: pair them one to one")
    if transcripts is not None and len(transcripts) != len(refs_l):
        raise InputError(f"{len(transcripts)} transcripts for {len(refs_l)} clips")
    if ref_f0 is not None and len(ref_f0) != len(refs_l):
        raise InputError(f"{len(ref_f0)} ref_f0 tracks for {len(refs_l)} clips")
    batch = Batch(
        refs_l,
        outs_l,
        int(sr),
        None if transcripts is None else [str(t) for t in transcripts],
        None if ref_f0 is None else [np.asarray(f, dtype=np.float64) for f in ref_f0],
        settings,
    )
    wanted = get_metrics(metrics)
    results: dict[str, MetricResult] = {}
    by_family: dict[str, list] = {}
    for metric in wanted:
        missing = missing_modules(metric)
        if missing:
            results[metric.name] = unavailable(metric, f"missing module(s) {missing}")
        elif metric.family == "asr" and batch.transcripts is None:
            results[metric.name] = skipped(metric, "no transcripts given")
        else:
            by_family.setdefault(metric.family, []).append(metric)
    for family, group in by_family.items():
        results.update(family_module(family).compute(batch, group))
    return {m.name: results[m.name] for m in wanted}
