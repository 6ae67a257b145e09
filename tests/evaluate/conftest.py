"""Audio the tests make (toy singer, piper speech), on one thread."""

from __future__ import annotations

import numpy as np
import pytest
from damage_audio import SENTENCES, SR


@pytest.fixture(scope="session")
def singer():
    """Two toy-singer clips and their true f0 (hop 160 = 10 ms at 16 kHz)."""
    from sweeper.data.toy import ToySpec, _speaker, synth_clip

    spec = ToySpec(seconds=2.0, hop_length=160, seed=5)
    rng = np.random.default_rng(spec.seed)
    clips = [synth_clip(spec, _speaker(rng, k), rng) for k in range(2)]
    return [a for a, _ in clips], [f.astype(np.float64) for _, f in clips]


@pytest.fixture(scope="session")
def voice():
    pytest.importorskip("piper", reason="needs the eval extra (piper-tts)")
    from sweeper.data.speech import load_voice

    return load_voice()


@pytest.fixture(scope="session")
def speech(voice):
    """The two sentences by the voice at its own scale, at 16 kHz."""
    from sweeper.data.speech import speak

    return [speak(voice, text, SR) for text in SENTENCES]
