"""Controlled damage for the evaluation tests: white noise at an SNR, PSOLA pitch shift."""

from __future__ import annotations

import numpy as np

from sweeper.evaluate import Settings

SR = 16000
SETTINGS = Settings(threads=1, device="cpu")
SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Kick the ball straight and follow through.",
)


def add_noise(audio: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """White noise at ``snr_db`` relative to the clip's mean power."""
    noise = np.random.default_rng(seed).standard_normal(len(audio))
    scale = np.sqrt(np.mean(audio.astype(np.float64) ** 2) / 10 ** (snr_db / 10))
    return (audio + scale * noise).astype(np.float32)


def pitch_shift(audio: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Praat PSOLA: every pitch point times 2**(st/12); duration and formants kept."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=sr)
    manipulation = call(sound, "To Manipulation", 0.01, 60, 800)
    tier = call(manipulation, "Extract pitch tier")
    call(tier, "Multiply frequencies", sound.xmin, sound.xmax, 2 ** (semitones / 12))
    call([tier, manipulation], "Replace pitch tier")
    out = call(manipulation, "Get resynthesis (overlap-add)").values[0][: len(audio)]
    return np.pad(out, (0, len(audio) - len(out))).astype(np.float32)
