"""Every metric moves the right way on controlled damage, on audio the tests make.

Noise (white, 30/20/10/0 dB SNR) on piper speech; pitch shift (+1/+2/+4 semitones, Praat
PSOLA, duration kept) on the toy singer against its true f0 and on speech; another voice (the
piper voice at +7 semitones of vocal-tract scale) saying the same sentences.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from damage_audio import SENTENCES, SETTINGS, SR, add_noise, pitch_shift

from sweeper.evaluate import METRICS, evaluate

SNRS = (30, 20, 10, 0)
SHIFTS = (1, 2, 4)
# Allowed backwards step between neighbouring damage levels (ASR on two sentences moves in
# word-sized steps; DNSMOS SIG barely reacts to mild noise), and the least total change.
STEP_TOL = {"wer": 0.1, "cer": 0.06, "dnsmos_sig": 0.15}
NOISE_ONLY_ABOVE_CLEAN = {"f0_rmse_cents", "f0_gross_error"}  # tracker noise, not a trend


def badness(res) -> float:
    if not res.ok:
        pytest.skip(f"{res.name} {res.status}: {res.detail}")
    return res.value if res.direction == "min" else -res.value


def assert_gets_worse(runs, name, tol=0.0):
    bad = [badness(r[name]) for r in runs]
    for before, after in itertools.pairwise(bad):
        assert after >= before - tol, (name, bad)
    assert bad[-1] > bad[0], (name, bad)


@pytest.fixture(scope="module")
def noise_runs(speech):
    runs = [evaluate(speech, speech, SR, transcripts=SENTENCES, settings=SETTINGS)]
    for snr in SNRS:
        outs = [add_noise(x, snr, seed=i) for i, x in enumerate(speech)]
        runs.append(evaluate(speech, outs, SR, transcripts=SENTENCES, settings=SETTINGS))
    return runs


@pytest.mark.parametrize("name", sorted(METRICS))
def test_noise_makes_every_metric_worse(noise_runs, name):
    if name in NOISE_ONLY_ABOVE_CLEAN:
        clean = badness(noise_runs[0][name])
        assert all(badness(r[name]) >= clean for r in noise_runs[1:])
    else:
        assert_gets_worse(noise_runs, name, STEP_TOL.get(name, 0.0))


def test_identical_audio_scores_perfectly(noise_runs):
    clean = noise_runs[0]
    for name in ("f0_rmse_cents", "f0_gross_error", "vuv_error", "mel_l1", "mcd_db"):
        assert clean[name].value == pytest.approx(0.0, abs=1e-6), name
    assert clean["speaker_similarity"].value == pytest.approx(1.0, abs=1e-5)
    assert clean["wer"].value <= 0.25  # Whisper tiny on clean TTS: a word or two


@pytest.fixture(scope="module")
def singer_shift_runs(singer):
    audio, true_f0 = singer
    names = ["f0_rmse_cents", "f0_gross_error", "mel_l1", "mcd_db"]
    runs = [evaluate(audio, audio, SR, names, ref_f0=true_f0, settings=SETTINGS)]
    for k in SHIFTS:
        outs = [pitch_shift(a, SR, k) for a in audio]
        runs.append(evaluate(audio, outs, SR, names, ref_f0=true_f0, settings=SETTINGS))
    return runs


@pytest.mark.parametrize("name", ["f0_rmse_cents", "f0_gross_error", "mel_l1"])
def test_pitch_shift_makes_metric_worse(singer_shift_runs, name):
    assert_gets_worse(singer_shift_runs, name)


def test_pitch_shift_barely_moves_mcd(singer_shift_runs):
    # PSOLA keeps the spectral envelope, which is what MCD measures (the lifter drops the
    # harmonics): resynthesis costs ~1 dB, the size of the shift hardly matters.
    mcd = [r["mcd_db"].value for r in singer_shift_runs]
    assert mcd[0] < 1e-6 and all(0.3 < v < 3.0 for v in mcd[1:]), mcd


def test_pitch_shift_f0_error_is_the_shift(singer_shift_runs):
    rmse = [r["f0_rmse_cents"].value for r in singer_shift_runs]
    assert rmse[0] < 60  # Praat against the toy's true f0
    for k, value in zip(SHIFTS, rmse[1:], strict=True):
        assert 0.7 * 100 * k < value < 1.3 * 100 * k + 30, (k, rmse)
    assert singer_shift_runs[1]["f0_gross_error"].value > 0.8  # 100 c > the 50 c threshold


def test_transposed_conversion_is_scored_against_the_transposed_melody(singer):
    from sweeper.evaluate import Settings

    audio, true_f0 = singer
    outs = [pitch_shift(a, SR, 2) for a in audio]
    plain = evaluate(audio, outs, SR, ["f0_rmse_cents"], ref_f0=true_f0, settings=SETTINGS)
    keyed = evaluate(audio, outs, SR, ["f0_rmse_cents"], ref_f0=true_f0,
                     settings=Settings(threads=1, device="cpu", semitones=2.0))
    assert keyed["f0_rmse_cents"].value < plain["f0_rmse_cents"].value / 2


def test_pitch_shift_lowers_speaker_similarity(speech):
    sims = [
        evaluate(speech, [pitch_shift(x, SR, k) for x in speech], SR, ["speaker_similarity"],
                 settings=SETTINGS)["speaker_similarity"]
        for k in SHIFTS
    ]
    bad = [badness(s) for s in sims]
    assert bad == sorted(bad) and bad[-1] > bad[0]



def test_a_dc_offset_leaves_the_speaker_alone(speech):
    # 0.02 of DC (inaudible) scored 0.86 against the same clip, below "another sentence".
    sim = evaluate(speech, [x + 0.02 for x in speech], SR, ["speaker_similarity"],
                   settings=SETTINGS)["speaker_similarity"]
    assert badness(sim) == pytest.approx(-1.0, abs=1e-3)


def test_another_voice_is_another_speaker(voice, speech):
    from sweeper.data.speech import speak

    other = [speak(voice, text, SR, scale=2 ** (7 / 12)) for text in SENTENCES]
    # That voice speaks at its own pace (6 % shorter); a conversion keeps its ref's length,
    # and mel_l1 is skipped beyond 2 % (a 44.1/48 kHz mix-up is 8.8 %): cut/pad to the ref.
    other = [np.resize(o, len(s)) * (np.arange(len(s)) < len(o))
             for o, s in zip(other, speech, strict=True)]
    names = ["speaker_similarity", "mcd_db", "mel_l1"]
    vs_other = evaluate(speech, other, SR, names, settings=SETTINGS)
    # Same voice, other sentence: the usual "same speaker" level for this encoder.
    vs_self = evaluate(speech, speech[::-1], SR, ["speaker_similarity"], settings=SETTINGS)
    shifted = evaluate(speech, [pitch_shift(x, SR, 4) for x in speech], SR, names,
                       settings=SETTINGS)
    sim = vs_other["speaker_similarity"]
    badness(sim)
    assert sim.value < vs_self["speaker_similarity"].value - 0.2
    assert sim.value < shifted["speaker_similarity"].value
    # A new vocal tract moves the spectral envelope far more than a pitch shift does.
    assert vs_other["mcd_db"].value > 2 * shifted["mcd_db"].value
    assert vs_other["mel_l1"].value > shifted["mel_l1"].value


def test_a_long_clip_gets_the_length_weighted_naturalness_of_its_parts(speech, monkeypatch):
    """DistillMOS's memory grows with the clip (7.5 GB for 2 minutes): a clip longer than
    MOS_PART_S is scored as equal parts, each part as if it were its own clip."""
    import numpy as np

    from sweeper.evaluate import mos as mos_module
    from sweeper.evaluate.mos import parts

    monkeypatch.setattr(mos_module, "MOS_PART_S", 3.0)  # 20 s in use: the same code, faster
    clip = np.resize(np.concatenate(speech), 2 * int(1.8 * SR))  # 2 parts of 1.8 s
    halves = parts(clip, SR, 3.0)
    assert [len(h) for h in halves] == [len(clip) // 2] * 2
    assert np.array_equal(np.concatenate(halves), clip)

    def mos(clips):
        got = evaluate(clips, clips, SR, metrics=["mos_naturalness"], settings=SETTINGS)
        return list(got["mos_naturalness"].per_item)

    whole, by_half = mos([clip]), mos(halves)
    assert whole == pytest.approx([np.mean(by_half)], abs=1e-5)
    assert by_half[0] != pytest.approx(by_half[1], abs=1e-3)  # the parts differ: a real mean


def test_speaker_similarity_does_not_depend_on_the_level(speech):
    """Both clips are brought to one level before embedding: the same voice 20 dB louder or
    quieter is the same speaker (Resemblyzer only raises quiet clips: x10 scored 0.64)."""
    for gain in (10.0, 0.1):
        outs = [x * gain for x in speech]
        got = evaluate(speech, outs, SR, metrics=["speaker_similarity"], settings=SETTINGS)
        assert got["speaker_similarity"].value > 0.999, gain


def test_speaker_similarity_of_a_copy_is_at_most_one(speech, monkeypatch):
    import sweeper.evaluate.speaker as speaker

    # d-vectors are unit vectors up to rounding: an int16 copy scored 1 + 1e-7
    monkeypatch.setattr(speaker, "cached", lambda key, load: None)
    monkeypatch.setattr(speaker, "embed", lambda net, x, device: np.full(256, (1 + 1e-6) / 16))
    sim = evaluate(speech, speech, SR, ["speaker_similarity"], settings=SETTINGS)
    assert sim["speaker_similarity"].value == 1.0
