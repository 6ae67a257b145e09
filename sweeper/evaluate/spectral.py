"""Held-out mel L1 and mel-cepstral distortion (MCD): numpy only.

mel L1 uses the trainer's log-mel (``sweeper.data.features.log_mel_content``: natural log,
Slaney mel, reflect padding), so with ``Settings.from_data_config`` it equals ``val/mel_l1``.

MCD: per frame, the real cepstrum of the log-amplitude spectrum is liftered to 2 ms of
quefrency (drops the harmonic ripple of voices up to 500 Hz) and warped onto the mel scale
by SPTK's ``freqt`` recursion with the usual all-pass constant for the rate (0.42 at 16 kHz);
``MCD = 10/ln10 * sqrt(2 * sum_{d=1..order} (mc_out - mc_ref)^2)`` averaged over the DTW path.
This is not SPTK's iterative ``mcep``: absolute values differ from pysptk-based MCD (pin one
implementation when comparing runs); orderings agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np

from sweeper.evaluate._base import result

_DB = 10.0 / np.log(10.0) * np.sqrt(2.0)


def mel_l1_sums(ref: np.ndarray, out: np.ndarray, sr, n_fft, hop, n_mels, fmax):
    """(sum of |diff|, number of cells) over the common frames of one clip."""
    from sweeper.data.features import log_mel_content

    n = min(len(ref), len(out))
    a = log_mel_content(ref[:n], sr, n_fft, hop, n_mels, fmax)
    b = log_mel_content(out[:n], sr, n_fft, hop, n_mels, fmax)
    return float(np.sum(np.abs(a - b))), a.size


# SPTK's table of all-pass constants that best match the mel scale, by sampling rate.
_ALPHA_SR = (8000, 10000, 12000, 16000, 22050, 32000, 44100, 48000)
_ALPHA = (0.31, 0.35, 0.37, 0.42, 0.455, 0.50, 0.544, 0.554)


def warp_alpha(sr: int) -> float:
    """All-pass constant for ``sr`` (0.42 at 16 kHz), interpolated in log-rate."""
    return float(np.interp(np.log(sr), np.log(_ALPHA_SR), _ALPHA))


def mel_cepstrum(audio: np.ndarray, sr: int, n_fft: int, hop: int, order: int) -> np.ndarray:
    """``[frames, order + 1]`` mel-cepstra of the log-amplitude spectrum."""
    pad = (n_fft - hop) // 2
    # Padded as the log-mel is (the odd sample on the right), so both frame alike.
    y = np.pad(audio.astype(np.float64), (pad, n_fft - hop - pad), mode="reflect")
    n_frames = max(1, len(audio) // hop)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    idx = np.minimum(idx, len(y) - 1)
    frames = y[idx] * np.hanning(n_fft + 1)[:-1]
    # Floor 100 dB below the clip's loudest bin, so silence stays finite and flat. Relative,
    # not re full scale: a gain then moves only c0, which MCD leaves out (with an absolute
    # floor, the same noisy pair at x0.01 scored 0.2 dB instead of 7.3).
    mag = np.abs(np.fft.rfft(frames, axis=1))
    mag = np.maximum(mag, max(1e-5 * float(mag.max()), 1e-12 * n_fft))
    ceps = np.fft.irfft(np.log(mag), n=n_fft, axis=1)
    lifter = max(order + 1, int(0.002 * sr))
    return _freqt(ceps[:, :lifter], order, warp_alpha(sr))


def _freqt(c: np.ndarray, order: int, alpha: float) -> np.ndarray:
    """SPTK ``freqt``: linear cepstrum ``[T, M1]`` -> warped cepstrum ``[T, order + 1]``."""
    beta = 1.0 - alpha * alpha
    g = np.zeros((c.shape[0], order + 1))
    for i in range(c.shape[1] - 1, -1, -1):
        d = g.copy()
        g[:, 0] = c[:, i] + alpha * d[:, 0]
        if order >= 1:
            g[:, 1] = beta * d[:, 0] + alpha * d[:, 1]
        for j in range(2, order + 1):
            g[:, j] = d[:, j - 1] + alpha * (d[:, j] - g[:, j - 1])
    return g


def dtw_mean(cost_rows: Iterable[np.ndarray]) -> float:
    """Mean cell cost along the cheapest monotone path (steps right, down, diagonal), from the
    cost matrix's rows in order: memory is one row, not the matrix (two 2-minute clips at
    44.1 kHz make 10^8 cells)."""
    acc = diagonals = None
    below = 0  # rows after the first
    for row in cost_rows:
        cost = np.asarray(row, dtype=np.float64)
        prefix = np.cumsum(cost)
        if acc is None:
            columns = np.arange(len(cost))
            acc, diagonals = prefix, np.zeros(len(cost), dtype=np.int64)
            shifted, shifted_diagonals = np.empty_like(acc), np.empty_like(diagonals)
            continue
        below += 1
        # Entering this row at column k costs b[k] (from the row above: diagonal, else down).
        # D[j] = C[j] + min(b[j], D[j-1]) in closed form: D = P + cummin(b - P + C), P the
        # row's running sum. A path to (i, j) has i + j + 1 - (its diagonal moves) cells;
        # those follow the k at which the minimum was taken.
        shifted[0], shifted[1:] = np.inf, acc[:-1]
        shifted_diagonals[0], shifted_diagonals[1:] = 0, diagonals[:-1] + 1
        from_diagonal = shifted <= acc
        entry = np.where(from_diagonal, shifted, acc)
        entered = np.where(from_diagonal, shifted_diagonals, diagonals)
        entry -= prefix
        entry += cost
        best = np.minimum.accumulate(entry)
        k = np.maximum.accumulate(np.where(entry <= best, columns, 0))
        acc = best
        acc += prefix
        diagonals = entered[k]
    if acc is None:
        raise ValueError("dtw_mean needs at least one row")
    return float(acc[-1] / (below + len(acc) - diagonals[-1]))


def _distance_rows(a: np.ndarray, b: np.ndarray, block: int = 256) -> Iterator[np.ndarray]:
    """Euclidean distances of each frame of ``a`` to every frame of ``b``, a row at a time
    (computed ``block`` rows per product)."""
    a_sq, b_sq = np.sum(a**2, 1), np.sum(b**2, 1)
    bt = np.ascontiguousarray(b.T)
    for start in range(0, len(a), block):
        d = a[start : start + block] @ bt
        d *= -2.0
        d += a_sq[start : start + block, None]
        d += b_sq
        np.maximum(d, 0.0, out=d)
        yield from np.sqrt(d, out=d)


def mcd(ref: np.ndarray, out: np.ndarray, sr: int, n_fft: int, hop: int, order: int) -> float:
    """MCD in dB between one ref and one out clip (any lengths)."""
    a = mel_cepstrum(ref, sr, n_fft, hop, order)[:, 1:]
    b = mel_cepstrum(out, sr, n_fft, hop, order)[:, 1:]
    return _DB * dtw_mean(_distance_rows(a, b))


def compute(batch, metrics) -> dict:
    s, sr = batch.settings, batch.sr
    hop, n_fft = s.hop(sr), s.fft(sr)
    out: dict = {}
    for m in metrics:
        if m.name == "mel_l1":
            sums = [
                mel_l1_sums(r, o, sr, n_fft, hop, s.n_mels, s.mel_fmax)
                for r, o in zip(batch.refs, batch.outs, strict=True)
            ]
            cells = sum(n for _, n in sums)
            total = sum(a for a, _ in sums) / cells if cells else math.nan
            per = [a / n if n else math.nan for a, n in sums]
            out[m.name] = result(m, total, per, nothing="no mel frame to compare")
        elif m.name == "mcd_db":
            per = [
                mcd(r, o, sr, n_fft, hop, s.mcd_order)
                for r, o in zip(batch.refs, batch.outs, strict=True)
            ]
            out[m.name] = result(m, float(np.mean(per)), per)
    return out
