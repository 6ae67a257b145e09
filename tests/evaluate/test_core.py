"""The evaluation core: registry, results, unavailable/skipped paths, inputs, pure pieces."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from damage_audio import SETTINGS, SR

from sweeper.errors import InputError
from sweeper.evaluate import (
    METRICS,
    SKIPPED,
    UNAVAILABLE,
    MetricResult,
    Settings,
    _registry,
    evaluate,
    get_metrics,
)
from sweeper.evaluate.pitch import f0_errors, pool
from sweeper.evaluate.spectral import _freqt, dtw_mean, warp_alpha


def _tone(hz=220.0, seconds=1.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("metric", list(METRICS.values()), ids=list(METRICS))
def test_every_metric_states_direction_unit_and_fix(metric):
    assert metric.direction in ("min", "max") and metric.unit and metric.doc
    assert metric.family in _registry.FAMILIES
    assert not metric.requires or metric.install.startswith("pip install")


def test_missing_package_is_unavailable_with_the_install_hint(monkeypatch):
    monkeypatch.setattr(
        "sweeper.evaluate._core.missing_modules",
        lambda m: ["faster_whisper"] if m.family == "asr" else [],
    )
    r = evaluate([_tone()], [_tone()], SR, ["wer", "mel_l1"], transcripts=["a tone"])
    assert r["wer"].status == UNAVAILABLE and math.isnan(r["wer"].value)
    assert "faster_whisper" in r["wer"].detail and "pip install" in r["wer"].detail
    assert r["mel_l1"].ok and r["mel_l1"].value == 0.0


def test_missing_modules_checks_without_importing():
    assert _registry.missing_modules(METRICS["mcd_db"]) == []
    fake = METRICS["wer"].__class__(
        "x", "asr", "min", "u", ("no_such_module_xyz",), "pip install xyz", "doc"
    )
    assert _registry.missing_modules(fake) == ["no_such_module_xyz"]


def test_wer_without_transcripts_is_skipped():
    r = evaluate([_tone()], [_tone()], SR, ["wer", "cer"])
    assert r["wer"].status == SKIPPED and "transcripts" in r["wer"].detail


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"refs": [_tone()], "outs": [_tone(), _tone()]}, "1 refs but 2 outs"),
        ({"refs": [np.zeros((2, 10))], "outs": [_tone()]}, "1-D"),
        ({"refs": [np.array([np.nan, 1.0])], "outs": [_tone()]}, "NaN"),
        ({"sr": 100}, "sr must be"),
        ({"metrics": ["mos"]}, "unknown metric"),
        ({"transcripts": ["a", "b"]}, "2 transcripts"),
        ({"transcripts": "a"}, "one string"),
        ({"transcripts": [None]}, "must all be str"),
        # A bare 2-D array (stereo, or a batch) was read as a list of clips of 2 samples.
        ({"refs": np.zeros((SR, 2)), "outs": [_tone()]}, "2-D array"),
        ({"refs": [], "outs": []}, "holds no clip"),  # mel_l1 was a perfect 0.0
        ({"refs": ["a.wav"], "outs": [_tone()]}, "is a str, not audio"),
        ({"outs": [_tone() * 1000]}, "peaks at 500"),  # PCM values as float
        ({"refs": [_tone(seconds=0.05)], "outs": [_tone(seconds=0.05)]}, "lasts 50 ms"),
        ({"refs": [np.ones(SR, dtype=np.uint16)]}, "uint16 samples"),
        ({"ref_f0": [np.full(50, 220.0)]}, "ref_f0.0. has 50 frames"),  # another hop
        ({"ref_f0": [np.full(100, np.nan)]}, "finite"),
        ({"settings": Settings(n_fft=64, hop_length=160)}, "shorter than hop_length"),
        ({"settings": Settings(mel_fmax=20000.0)}, "above sr/2"),
    ],
)
def test_bad_input_is_a_one_line_error(kwargs, match):
    args = {"refs": [_tone()], "outs": [_tone()], "sr": SR, "metrics": ["mel_l1"]}
    args.update(kwargs)
    with pytest.raises(InputError, match=match) as err:
        evaluate(args.pop("refs"), args.pop("outs"), args.pop("sr"), args.pop("metrics"),
                 **args)
    assert "\n" not in str(err.value)


def test_results_come_in_registry_order_and_serialise():
    r = evaluate(_tone(), _tone(300.0), SR, ["mcd_db", "mel_l1"], settings=SETTINGS)
    assert list(r) == ["mel_l1", "mcd_db"] == [m.name for m in get_metrics(["mcd_db", "mel_l1"])]
    d = r["mcd_db"].to_dict()
    assert d["direction"] == "min" and d["unit"] == "dB" and d["value"] > 0
    assert len(d["per_item"]) == 1


def test_better_than_follows_direction_and_never_prefers_nan():
    lo = MetricResult("mcd_db", 1.0, "min", "dB")
    hi = MetricResult("mcd_db", 2.0, "min", "dB")
    nan = MetricResult("mcd_db", math.nan, "min", "dB")
    assert lo.better_than(hi) and not hi.better_than(lo)
    assert lo.better_than(nan) and not nan.better_than(lo)
    assert MetricResult("s", 0.9, "max", "c").better_than(MetricResult("s", 0.5, "max", "c"))


def test_f0_errors_pool_frames_like_the_trainer():
    ref = np.array([100.0, 100.0, 0.0, 200.0])
    out = np.array([100.0 * 2 ** (1 / 12), 100.0, 150.0, 0.0])
    m = pool([f0_errors(ref, out)])
    assert m["f0_rmse_cents"] == pytest.approx(math.sqrt(100.0**2 / 2))
    assert m["f0_gross_error"] == 0.5 and m["vuv_error"] == 0.5
    assert math.isnan(pool([f0_errors(ref, np.zeros(4))])["f0_rmse_cents"])


def test_dtw_finds_the_cheap_warped_path():
    a = np.array([0.0, 1.0, 2.0, 3.0])
    b = np.array([0.0, 0.0, 1.0, 2.0, 3.0])  # a with its first frame held
    cost = np.abs(a[:, None] - b[None, :])
    assert dtw_mean(cost) == 0.0
    assert dtw_mean(np.ones((3, 7))) == pytest.approx(1.0)


def _dtw_by_the_book(cost: np.ndarray) -> float:
    """The textbook recurrence over the whole matrix, then a backtrack for the path length."""
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
    i, j, steps = n, m, 1
    while (i, j) != (1, 1):
        moves = [(i - 1, j - 1), (i - 1, j), (i, j - 1)]
        i, j = min(moves, key=lambda ij: acc[ij])
        steps += 1
    return acc[n, m] / steps


def test_dtw_row_by_row_matches_the_textbook_recurrence():
    rng = np.random.default_rng(3)
    for _ in range(200):
        cost = rng.random(rng.integers(1, 25, 2)) ** rng.uniform(0.5, 3.0)
        assert dtw_mean(iter(cost)) == pytest.approx(_dtw_by_the_book(cost), rel=1e-12)


def test_mcd_holds_one_block_of_the_distance_matrix_not_all_of_it():
    import tracemalloc

    from sweeper.evaluate.spectral import _distance_rows

    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((6000, 24)), rng.standard_normal((6000, 24))  # ~2 min each
    tracemalloc.start()
    value = dtw_mean(_distance_rows(a, b))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert math.isfinite(value) and peak < 100e6  # the whole matrix: 288 MB, its DP as much


def test_freqt_without_warping_keeps_the_cepstrum():
    c = np.random.default_rng(0).standard_normal((3, 10))
    assert np.allclose(_freqt(c, 9, 0.0), c)
    assert warp_alpha(16000) == pytest.approx(0.42) and warp_alpha(44100) == pytest.approx(0.544)


def test_mcd_tolerates_a_time_shift_that_mel_l1_does_not():
    rng = np.random.default_rng(1)
    ref = np.convolve(rng.standard_normal(SR), np.ones(8) / 8, "same").astype(np.float32)
    ref *= np.repeat(rng.uniform(0.1, 1.0, 10), SR // 10)[: len(ref)]
    late = np.concatenate([np.zeros(800, np.float32), ref[:-800]])  # 50 ms later
    r = evaluate([ref], [late], SR, ["mel_l1", "mcd_db"], settings=SETTINGS)
    far = evaluate([ref], [rng.standard_normal(SR).astype(np.float32)], SR, ["mcd_db"])
    assert r["mcd_db"].value < far["mcd_db"].value / 2
    assert r["mel_l1"].value > 0.3


def test_core_imports_no_ray_optuna_or_torch():
    code = (
        "import sys, sweeper.evaluate, sweeper.evaluate._remote, sweeper.evaluate.synth;"
        "import sweeper.evaluate.spectral, sweeper.evaluate.pitch, sweeper.evaluate.asr;"
        "import sweeper.evaluate.mos, sweeper.evaluate.speaker;"
        "bad = [m for m in ('ray', 'optuna', 'torch', 'librosa') if m in sys.modules];"
        "sys.exit(str(bad) if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "kwargs",
    [{"n_mels": 0}, {"mel_fmax": -5.0}, {"gross_cents": math.nan}, {"device": "gpu"}],
)
def test_bad_settings_are_refused_at_construction(kwargs):
    with pytest.raises(InputError):
        Settings(**kwargs)


def test_integer_pcm_is_scaled_as_wav_files_hold_it():
    tone = _tone()
    pcm = np.round(tone * 32767).astype(np.int16)
    r = evaluate([tone], [pcm], SR, ["mel_l1", "mcd_db"], settings=SETTINGS)
    assert r["mel_l1"].value < 0.05 and r["mcd_db"].value < 0.1  # was 10 nats: int16 as float


def test_nothing_to_measure_is_skipped_with_the_reason_not_a_nan_that_is_ok():
    noise = np.random.default_rng(0).uniform(-0.1, 0.1, SR).astype(np.float32)
    r = evaluate([noise], [noise], SR, ["f0_rmse_cents", "vuv_error"], settings=SETTINGS)
    assert r["f0_rmse_cents"].status == SKIPPED and "voiced in both" in r["f0_rmse_cents"].detail
    assert r["vuv_error"].ok  # every frame's voicing still compares


def test_an_out_of_another_length_leaves_the_frame_by_frame_metrics_skipped():
    ref, out = _tone(seconds=1.0), _tone(seconds=0.3)  # 30 % of its ref matched 1:1 before
    r = evaluate([ref], [out], SR, ["mel_l1", "vuv_error", "mcd_db"], settings=SETTINGS)
    assert r["mel_l1"].status == SKIPPED and "lasts 0.30 s" in r["mel_l1"].detail
    assert r["vuv_error"].status == SKIPPED and r["mcd_db"].ok  # DTW aligns any lengths


def test_a_silent_clip_has_no_speaker_similarity():
    silence = np.zeros(SR, dtype=np.float32)
    r = evaluate([_tone()], [silence], SR, ["speaker_similarity", "mcd_db"], settings=SETTINGS)
    sim = r["speaker_similarity"]
    assert sim.status == SKIPPED and "outs[0] is silent (-inf dBFS)" in sim.detail  # was 0.38
    assert r["mcd_db"].ok  # the envelope distance still says how far off it is


def test_mcd_does_not_depend_on_the_level_of_the_pair():
    # c0 (the level) is left out of MCD, but the spectrum's floor was absolute: a quiet copy
    # of a clip scored 3 dB from it, and the same noisy pair at x0.01 looked 40x better.
    rng = np.random.default_rng(0)
    ref = _tone() * (1 + 0.3 * np.sin(np.linspace(0, 20, SR))).astype(np.float32)
    noisy = (ref + 0.05 * rng.standard_normal(SR)).astype(np.float32)
    base = evaluate([ref], [noisy], SR, ["mcd_db"], settings=SETTINGS)["mcd_db"].value
    for gain in (0.5, 0.01):
        quiet = evaluate([ref], [ref * gain], SR, ["mcd_db"], settings=SETTINGS)["mcd_db"]
        assert quiet.value < 1e-4  # float32 rounding; was 0.3 dB at x0.5, 3 dB at x0.01
        both = evaluate([ref * gain], [noisy * gain], SR, ["mcd_db"], settings=SETTINGS)
        assert both["mcd_db"].value == pytest.approx(base, rel=1e-6)


def test_f0_does_not_depend_on_the_length_modulo_the_hop(speech):
    # Praat centres its frames on each signal's duration: an out 80 samples (half a hop)
    # longer or shorter than its ref scored 10-16 cents and 3 % V/UV error on the same voice.
    ref = speech[0][: len(speech[0]) // 160 * 160 + 40]
    for out in (np.concatenate([ref, np.zeros(80, np.float32)]), ref[:-80]):
        r = evaluate([ref], [out], SR, ["f0_rmse_cents", "vuv_error"], settings=SETTINGS)
        assert r["f0_rmse_cents"].value == 0.0 and r["vuv_error"].value == 0.0


def test_a_44k_48k_mixup_is_not_scored_frame_by_frame():
    ref = _tone(seconds=2.0)
    mixed = _tone(seconds=2.0 * 48000 / 44100)  # 48 kHz audio passed as 44.1 kHz: 8.8 % longer
    r = evaluate([ref], [mixed], SR, ["mel_l1", "vuv_error"], settings=SETTINGS)
    assert r["mel_l1"].status == SKIPPED and "48000/44100" in r["mel_l1"].detail  # was "ok"
    near = np.concatenate([ref, np.zeros(3 * 160, np.float32)])  # 3 hops longer: same sentence
    assert evaluate([ref], [near], SR, ["mel_l1"], settings=SETTINGS)["mel_l1"].ok


@pytest.mark.parametrize(
    ("clip", "match"),
    [
        # as np.round(x * 32767).astype(int) writes int16 PCM: scaled by 2**63, -307 dBFS
        (lambda t: np.round(t * 32767).astype(np.int64), "int64 samples.*astype.np.int16"),
        (lambda t: np.round(t * 32767).astype(np.int32), "16-bit samples in an int32 array"),
        (lambda t: np.float32(0.1), r"is np.float32\(0.1\).*not clips"),  # was a TypeError
        (lambda t: np.array(0.5), "not clips"),
        (lambda t: [np.stack([t, t])], r"refs\[0\] is a 2-D array \(2, 16000\).*average"),
    ],
)
def test_audio_that_would_be_misread_is_refused(clip, match):
    with pytest.raises(InputError, match=match) as err:
        evaluate(clip(_tone()), [_tone()], SR, ["mel_l1"], settings=SETTINGS)
    assert "\n" not in str(err.value)


def test_int32_pcm_at_full_scale_is_still_read():
    tone = _tone()
    pcm = np.round(tone * 2**31 * 0.99).astype(np.int32)
    assert evaluate([tone], [pcm], SR, ["mel_l1"], settings=SETTINGS)["mel_l1"].value < 0.05


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"semitones": math.nan}, "semitones must be finite"),  # vuv 0.52 "ok" on a copy
        ({"semitones": math.inf}, "semitones must be finite"),  # f0 error inf, "ok"
        ({"n_mels": 2.5}, r"Settings.n_mels must be an int, got 2.5"),  # numpy's TypeError
        ({"hop_length": 1.5}, r"Settings.hop_length must be an int, got 1.5"),  # after Praat
        ({"threads": True}, "threads must be an int"),
        ({"gross_cents": "50"}, "gross_cents must be a number, got '50'"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_field(kwargs, match):
    with pytest.raises(InputError, match=match) as err:
        Settings(**kwargs)
    assert "\n" not in str(err.value)


def test_an_infinite_value_is_skipped_not_ok():
    from sweeper.evaluate._base import result

    r = result(METRICS["f0_rmse_cents"], math.inf, [math.inf])
    assert r.status == SKIPPED and "inf" in r.detail and math.isnan(r.value)
    assert r.to_dict()["per_item"] == [None]  # strict JSON has no Infinity
