"""F0 RMSE (cents), gross pitch error and V/UV error, with Praat's tracker.

Same definitions as the reference trainer's ``val/f0_rmse_cents``, ``val/f0_gross_error``
and ``val/vuv_error``: errors pool over every frame of every clip (a long clip weighs more),
and a gross error is a frame voiced in both whose error exceeds ``gross_cents`` (default 50,
a quarter tone: audibly off-key; octave slips of model or tracker land here).
"""

from __future__ import annotations

import math

import numpy as np

from sweeper.evaluate._base import result


def f0_errors(
    ref_f0: np.ndarray, out_f0: np.ndarray, semitones: float = 0.0, gross_cents: float = 50.0
) -> dict[str, float]:
    """Sums over one clip's frames (0 Hz = unvoiced); ``pool`` turns them into metrics.

    The out track is compared with ``ref * 2**(semitones/12)``: a transposed conversion is
    scored against the transposed melody. Tracks are cut to the shorter one.
    """
    n = min(len(ref_f0), len(out_f0))
    ref = np.asarray(ref_f0[:n], dtype=np.float64) * 2.0 ** (semitones / 12.0)
    out = np.asarray(out_f0[:n], dtype=np.float64)
    both = (ref > 0) & (out > 0)
    cents = 1200.0 * np.log2(out[both] / ref[both])
    return {
        "sq_cents": float(np.sum(cents**2)),
        "n_voiced": int(both.sum()),
        "n_gross": int(np.sum(np.abs(cents) > gross_cents)),
        "n_vuv": int(np.sum((ref > 0) != (out > 0))),
        "n_frames": n,
    }


def pool(sums: list[dict[str, float]]) -> dict[str, float]:
    """Pooled metrics; NaN where no frame is voiced in both (RMSE/gross) or no frame at all."""
    voiced = sum(s["n_voiced"] for s in sums)
    frames = sum(s["n_frames"] for s in sums)
    return {
        "f0_rmse_cents": math.sqrt(sum(s["sq_cents"] for s in sums) / voiced)
        if voiced
        else math.nan,
        "f0_gross_error": sum(s["n_gross"] for s in sums) / voiced if voiced else math.nan,
        "vuv_error": sum(s["n_vuv"] for s in sums) / frames if frames else math.nan,
    }


def compute(batch, metrics) -> dict:
    from sweeper.data.features import f0_praat

    hop = batch.settings.hop(batch.sr)
    sums = []
    for i, (ref, out) in enumerate(zip(batch.refs, batch.outs, strict=True)):
        # Both tracked on their common whole-hop length: Praat centres its frames on each
        # signal's duration, so a half-hop longer out was read half a hop off (10-16 cents).
        n_frames = min(len(ref), len(out)) // hop
        n = n_frames * hop
        if batch.ref_f0 is not None:
            ref_track = batch.ref_f0[i][:n_frames]
        else:
            ref_track = f0_praat(ref[:n], batch.sr, hop, n_frames)
        out_track = f0_praat(out[:n], batch.sr, hop, n_frames)
        sums.append(
            f0_errors(ref_track, out_track, batch.settings.semitones, batch.settings.gross_cents)
        )
    pooled = pool(sums)
    per_clip = [pool([s]) for s in sums]
    why = "no frame voiced in both ref and out (silence, whisper or noise have no f0)"
    return {
        m.name: result(m, pooled[m.name], [p[m.name] for p in per_clip], nothing=why)
        for m in metrics
    }
