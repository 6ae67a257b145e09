"""A deterministic "toy singer": synthetic sung clips in so-vits-svc's dataset layout.

Each speaker has a pitch range, a formant scale (vocal-tract length) and a spectral tilt.
Each clip is a sequence of notes with glides and vibrato, sung on 3-6 vowels (three formants
each), with 1-3 unvoiced consonant noise bursts. Written files::

    DIR/dataset/<sr//1000>k/<speaker>/<speaker>_<i>.wav      16-bit mono
    DIR/dataset/<sr//1000>k/<speaker>/<speaker>_<i>.wav.f0_true.npy   frame f0 (0 = unvoiced)
    DIR/filelists/train.txt, DIR/filelists/val.txt            ./dataset/... paths

Same arguments, same bytes: every random draw comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sweeper.errors import InputError

# (F1, F2, F3) in Hz for an adult voice; speakers scale them.
VOWELS = {
    "a": (800, 1200, 2500),
    "e": (450, 2000, 2600),
    "i": (300, 2300, 3000),
    "o": (500, 850, 2500),
    "u": (330, 800, 2300),
}
_BANDWIDTHS = (80.0, 110.0, 160.0)
MIN_SR = 8000  # Hz: the lowest data.sampling_rate the reference trainer takes
MAX_SECONDS = 60.0  # per clip: memory grows with length x max_harmonics


@dataclass(frozen=True)
class ToySpec:
    """What to generate."""

    n_speakers: int = 4  # speaker folders spk0..spkN-1
    clips_per_speaker: int = 8  # clips per speaker (val takes ``val_per_speaker`` of them)
    val_per_speaker: int = 1  # held-out clips per speaker
    seconds: float = 2.0  # clip length (rounded down to whole frames)
    sampling_rate: int = 16000  # Hz
    hop_length: int = 320  # frame hop of the saved true f0
    max_harmonics: int = 40  # cap on overtones (time grows linearly with it)
    seed: int = 0  # all randomness derives from it

    def __post_init__(self) -> None:
        n, clips, val = self.n_speakers, self.clips_per_speaker, self.val_per_speaker
        if n < 1 or clips < 1:
            raise InputError(
                f"need >= 1 speaker and clip, got n_speakers={n!r} (--speakers), "
                f"clips_per_speaker={clips!r} (--clips); fix: 1 or more"
            )
        if not 1 <= val < clips:
            raise InputError(
                f"val_per_speaker (--val) must be in [1, clips_per_speaker={clips}), got "
                f"val_per_speaker={val!r}; fix: at least one validation clip (sweeper train "
                "refuses an empty val list) and one training clip per speaker"
            )
        sr, hop, seconds = self.sampling_rate, self.hop_length, self.seconds
        if sr < MIN_SR:
            raise InputError(
                f"sampling_rate (--sr) must be >= {MIN_SR} as sweeper train's "
                f"data.sampling_rate, got sampling_rate={sr!r}; fix: e.g. 16000"
            )
        if hop < 1:
            raise InputError(f"hop_length (--hop) must be >= 1, got hop_length={hop!r}; fix: 320")
        if not seconds <= MAX_SECONDS:  # also NaN
            raise InputError(
                f"clips too long, got seconds={seconds!r} (--seconds); fix: at most "
                f"{MAX_SECONDS:.0f} s (so-vits-svc slices audio to 5-15 s)"
            )
        if seconds * sr < 4 * hop:
            raise InputError(f"clips too short, got seconds={seconds!r}; fix: >= 0.1 s")
        if self.max_harmonics < 1:
            raise InputError(
                f"max_harmonics must be >= 1, got max_harmonics={self.max_harmonics!r}; fix: 40"
            )


def _speaker(rng: np.random.Generator, index: int) -> dict[str, float]:
    base = 110.0 * 2 ** (index * 7 / 12 % 2)  # spread speakers over two octaves
    return {
        "f0_low": base * rng.uniform(0.95, 1.05),
        "formant_scale": rng.uniform(0.85, 1.2),
        "tilt": rng.uniform(0.8, 1.4),  # harmonic amplitude ~ k^-tilt
        "vibrato_hz": rng.uniform(4.5, 6.5),
    }


def _f0_contour(rng, spk, n_samples: int, sr: int) -> np.ndarray:
    """Notes (semitone steps inside an octave and a half) with 40 ms glides and vibrato."""
    n_notes = int(rng.integers(3, 7))
    bounds = np.sort(rng.choice(np.arange(1, 20), n_notes - 1, replace=False)) / 20
    edges = np.concatenate([[0], bounds, [1]]) * n_samples
    semis = rng.integers(0, 18, n_notes)
    target = np.zeros(n_samples)
    for k in range(n_notes):
        target[int(edges[k]) : int(edges[k + 1])] = spk["f0_low"] * 2 ** (semis[k] / 12)
    glide = max(1, int(0.04 * sr))
    kernel = np.ones(glide) / glide
    padded = np.pad(target, (glide, glide), mode="edge")
    smooth = np.convolve(padded, kernel, mode="same")[glide:-glide]
    t = np.arange(n_samples) / sr
    depth = rng.uniform(0.2, 0.5)  # semitones
    vibrato = depth * np.sin(2 * np.pi * spk["vibrato_hz"] * t + rng.uniform(0, 2 * np.pi))
    return smooth * 2 ** (vibrato / 12)


def _envelope(freqs: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Sum of three resonance peaks evaluated at ``freqs`` ``[K, N]``; formants ``[3, N]``."""
    env = np.zeros_like(freqs)
    for j, bw in enumerate(_BANDWIDTHS):
        env += 1.0 / (1.0 + ((freqs - formants[j]) / bw) ** 2) / (j + 1)
    return env + 0.02


def synth_clip(spec: ToySpec, spk: dict[str, float], rng: np.random.Generator):
    """One clip: ``(audio float32 in [-1, 1], frame f0 float32 with 0 where unvoiced)``."""
    sr, hop = spec.sampling_rate, spec.hop_length
    n_frames = int(spec.seconds * sr) // hop
    n = n_frames * hop
    f0 = _f0_contour(rng, spk, n, sr)
    # Vowel sequence with 30 ms formant transitions.
    n_vowels = int(rng.integers(3, 7))
    names = rng.choice(list(VOWELS), n_vowels)
    cuts = np.linspace(0, n, n_vowels + 1).astype(int)
    formants = np.zeros((3, n))
    for k in range(n_vowels):
        formants[:, cuts[k] : cuts[k + 1]] = np.array(VOWELS[names[k]])[:, None]
    width = max(1, int(0.03 * sr))
    formants = np.stack(
        [
            np.convolve(np.pad(f, width, mode="edge"), np.ones(width) / width, mode="same")[
                width:-width
            ]
            for f in formants
        ]
    )
    formants *= spk["formant_scale"]
    # Unvoiced consonant gaps: f0 = 0, band-passed noise instead of harmonics.
    voiced = np.ones(n, dtype=bool)
    for _ in range(int(rng.integers(1, 4))):
        length = int(rng.uniform(0.05, 0.12) * sr)
        start = int(rng.integers(0, max(1, n - length)))
        voiced[start : start + length] = False
    n_harm = int(min(spec.max_harmonics, (sr / 2) // f0.max()))
    orders = np.arange(1, n_harm + 1)[:, None]
    phase = 2 * np.pi * np.cumsum(f0) / sr
    freqs = orders * f0[None, :]
    amps = orders ** (-spk["tilt"]) * _envelope(freqs, formants) * (freqs < sr / 2)
    harmonic = np.sum(amps * np.sin(orders * phase[None, :]), axis=0)
    noise = rng.standard_normal(n)
    noise = np.convolve(noise, [1, -0.9], mode="same")  # pre-emphasis: fricative-like hiss
    # Breath noise under the harmonics (real voices have it; pure sines leave spectral
    # valleys near the log floor that dominate a log-mel L1).
    breath = 0.02 * rng.standard_normal(n)
    audio = np.where(voiced, harmonic / (np.abs(harmonic).max() + 1e-9) + breath, 0.1 * noise)
    fade = np.ones(n)
    ramp = min(n // 4, int(0.01 * sr))
    fade[:ramp], fade[n - ramp :] = np.linspace(0, 1, ramp), np.linspace(1, 0, ramp)
    audio = 0.8 * audio * fade / max(np.abs(audio).max(), 1e-9)
    frame_f0 = f0.reshape(n_frames, hop).mean(axis=1)
    frame_voiced = voiced.reshape(n_frames, hop).mean(axis=1) > 0.5
    return audio.astype(np.float32), np.where(frame_voiced, frame_f0, 0.0).astype(np.float32)


def write_toy_dataset(out_dir: str | Path, spec: ToySpec = ToySpec()) -> dict[str, list[str]]:
    """Generate and write the dataset; returns the filelist lines per split."""
    from scipy.io import wavfile

    root = Path(out_dir)
    rng = np.random.default_rng(spec.seed)
    sub = f"{spec.sampling_rate // 1000}k"
    lists: dict[str, list[str]] = {"train": [], "val": []}
    for s in range(spec.n_speakers):
        name = f"spk{s}"
        spk = _speaker(rng, s)
        folder = root / "dataset" / sub / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(spec.clips_per_speaker):
            audio, f0 = synth_clip(spec, spk, rng)
            wav = folder / f"{name}_{i:03d}.wav"
            wavfile.write(wav, spec.sampling_rate, np.round(audio * 32767).astype(np.int16))
            np.save(f"{wav}.f0_true.npy", f0)
            split = "val" if i >= spec.clips_per_speaker - spec.val_per_speaker else "train"
            lists[split].append(f"./dataset/{sub}/{name}/{wav.name}")
    (root / "filelists").mkdir(parents=True, exist_ok=True)
    for split, lines in lists.items():
        (root / "filelists" / f"{split}.txt").write_text("".join(f"{x}\n" for x in lines))
    return lists
