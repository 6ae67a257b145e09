"""The curve generator (determinism, shapes, truth) and the curves-file loader."""

from __future__ import annotations

import numpy as np
import pytest

from sweeper.bench.curves import KINDS, CurveSet, load, plateau_onset
from sweeper.bench.generator import DEFAULT_MIX, generate
from sweeper.errors import InputError

T = 300


@pytest.fixture(scope="module")
def curves() -> CurveSet:
    return generate(400, seed=7)


def _of(curves: CurveSet, kind: str) -> np.ndarray:
    return np.flatnonzero(curves.kind == kind)


def test_same_seed_same_curves_other_seed_other_curves():
    a, b, c = generate(30, seed=3), generate(30, seed=3), generate(30, seed=4)
    for key in ("val", "train", "val_true", "onset"):
        assert np.array_equal(getattr(a, key), getattr(b, key), equal_nan=True)
    assert np.array_equal(a.kind, b.kind)
    assert not np.array_equal(a.val, c.val, equal_nan=True)


def test_shapes_steps_and_default_mix(curves):
    assert curves.val.shape == curves.train.shape == curves.val_true.shape == (400, T)
    assert np.array_equal(curves.steps, np.arange(1, T + 1) * 100)
    assert curves.onset.shape == curves.kind.shape == (400,)
    assert np.array_equal(curves.lengths(), np.full(400, T))
    for kind in KINDS:
        assert _of(curves, kind).size == round(DEFAULT_MIX[kind] * 400)


def test_plateau_onsets_follow_the_definition_and_their_ranges(curves):
    for kind, lo, hi in [("plateau", 0.1, 0.5), ("late_plateau", 0.5, 0.9)]:
        for i in _of(curves, kind):
            v = curves.val_true[i]
            assert curves.onset[i] == plateau_onset(v)
            assert lo * T - 2 <= curves.onset[i] <= hi * T + 1
            assert np.all(np.diff(v) <= 0)  # a decay, noise-free
    assert np.all(curves.onset[_of(curves, "flat")] == 0)
    assert np.all(curves.onset[_of(curves, "slow")] == -1)


def test_slow_curves_still_have_more_than_2_percent_left_at_90_percent(curves):
    v = curves.val_true[_of(curves, "slow")]
    i90 = int(0.9 * T) - 1
    assert np.all((v[:, i90] - v.min(axis=1)) / v.min(axis=1) > 0.02)


def test_overfit_curves_rise_5_to_30_percent_after_their_minimum(curves):
    for i in _of(curves, "overfit"):
        v, t = curves.val_true[i], curves.train_true[i]
        assert curves.onset[i] == np.argmin(v)
        assert 0.2 * T - 1 <= curves.onset[i] <= 0.75 * T
        assert 0.049 <= v[-1] / v.min() - 1 <= 0.301
        assert np.all(np.diff(t) <= 0)  # train keeps falling


def test_two_phase_curves_drop_again_after_a_plateau(curves):
    for i in _of(curves, "two_phase"):
        v = curves.val_true[i]
        # somewhere before the onset the curve sits flat for a while, > 4 % above its end
        flat = (np.abs(np.diff(v)) / v[1:] < 1e-4) & (v[1:] > 1.04 * v.min())
        assert flat[: curves.onset[i]].sum() >= 10


def test_diverging_curves_explode_at_their_onset(curves):
    for i in _of(curves, "diverge"):
        v, td = curves.val[i], curves.onset[i]
        assert np.all(np.isfinite(v[:td]))
        assert np.isnan(v[td]) or v[min(td + 4, T - 1)] > 10 * v[td - 1]
        assert 0.2 * T - 1 <= td <= 0.8 * T


def test_noise_levels_and_train_gap(curves):
    flat = _of(curves, "flat")
    ratio = curves.val[flat] / curves.val_true[flat]
    assert 0.9 < np.median(ratio) < 1.05
    assert np.all(np.median(np.abs(ratio - np.median(ratio, axis=1, keepdims=True)), axis=1) < 0.1)
    healthy = curves.kind != "overfit"
    gap = 1 - np.nanmedian(curves.train_true[healthy] / curves.val_true[healthy], axis=1)
    assert np.all((gap >= 0.03) & (gap <= 0.08))


def test_save_load_round_trip(tmp_path, curves):
    path = tmp_path / "c.npz"
    curves.save(path)
    back = load(path)
    for key in ("steps", "val", "train", "val_true", "train_true", "onset", "length"):
        assert np.array_equal(getattr(back, key), getattr(curves, key), equal_nan=True), key
    assert back.kind.tolist() == curves.kind.tolist()


def test_length_inferred_from_trailing_nan_only():
    val = np.array([[1.0, np.nan, 2.0, np.nan], [1.0, 2.0, 3.0, 4.0]])
    c = CurveSet(steps=np.arange(4), val=val)
    assert c.lengths().tolist() == [3, 4]
    assert not c.has_truth


def _write(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


GOOD = {"steps": np.arange(1, 5) * 10, "val": np.ones((2, 4))}
BAD = [
    ("no val", {"steps": GOOD["steps"]}, "no 'val'"),
    ("no steps", {"val": GOOD["val"]}, "no 'steps'"),
    ("val 1-D", {**GOOD, "val": np.ones(4)}, r"'val' must have shape \(n_curves"),
    ("width", {**GOOD, "val": np.ones((2, 5))}, r"got \(2, 5\)"),
    ("steps repeat", {**GOOD, "steps": np.array([10, 20, 20, 30])}, "strictly increasing"),
    ("steps nan", {**GOOD, "steps": np.array([1.0, np.nan, 3, 4])}, "finite"),
    ("all nan row", {**GOOD, "val": np.array([[1.0] * 4, [np.nan] * 4])}, "row 1 is all NaN"),
    ("train shape", {**GOOD, "train": np.ones((3, 4))}, r"'train' must have the shape"),
    ("onset shape", {**GOOD, "onset": np.zeros(3, int)}, r"'onset' must have one entry"),
    ("val strings", {**GOOD, "val": np.array([["a"] * 4] * 2)}, "'val' must hold real numbers"),
    ("length range", {**GOOD, "length": np.array([0, 4])}, r"'length' must be integers"),
    ("steps negative", {**GOOD, "steps": np.arange(-2, 2) * 10}, r"got steps\[0\]=-20"),
    ("onset range", {**GOOD, "onset": np.array([1, 4])}, r"'onset' must be point indices"),
    # int() of 0.1, 0.2 ... repeated step 0: every later report was ignored as a repeat.
    ("steps fractional", {**GOOD, "steps": np.arange(1, 5) / 10}, r"whole training steps.*fix"),
]


@pytest.mark.parametrize(("name", "arrays", "message"), BAD, ids=[b[0] for b in BAD])
def test_load_rejects_bad_files_in_one_line(tmp_path, name, arrays, message):
    with pytest.raises(InputError, match=message) as err:
        load(_write(tmp_path, **arrays))
    assert "\n" not in str(err.value)


def test_load_rejects_a_file_that_is_not_npz(tmp_path):
    path = tmp_path / "x.npz"
    path.write_text("not numpy")
    # Not numpy's "load it unsafely using allow_pickle" advice: that would run its content.
    with pytest.raises(InputError, match=r"is not an \.npz \(zip\) archive") as err:
        load(path)
    assert "pickle" not in str(err.value)
    with open(tmp_path / "y.npz", "wb") as handle:
        np.save(handle, np.ones(3))  # a .npy under an .npz name
    with pytest.raises(InputError, match=r"is not an \.npz \(zip\) archive"):
        load(tmp_path / "y.npz")
    with pytest.raises(InputError, match="cannot read curves file"):
        load(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    "kwargs", [{"n": 0}, {"points": 5}, {"cv": (0.1, 0.05)}, {"mix": {"plateau": 1, "weird": 1}}]
)
def test_generate_rejects_bad_arguments(kwargs):
    with pytest.raises(InputError):
        generate(**kwargs)


def test_wander_adds_slow_drift_and_leaves_default_sets_unchanged():
    plain = generate(12, seed=5)
    again = generate(12, seed=5, wander=(0.0, 0.0))
    drift = generate(12, seed=5, wander=(0.8, 0.8))
    assert np.array_equal(plain.val, again.val, equal_nan=True)
    flat = plain.kind == "flat"
    assert flat.any()

    def slow_part(v: np.ndarray) -> float:
        # Spread of 30-point means: white noise averages out, a slow drift does not.
        return float(np.std(v[: v.size // 30 * 30].reshape(-1, 30).mean(axis=1)) / np.mean(v))

    assert np.mean([slow_part(v) for v in drift.val[flat]]) > 2 * np.mean(
        [slow_part(v) for v in plain.val[flat]]
    )
    with pytest.raises(InputError, match="wander"):
        generate(2, wander=(0.5, 0.1))


def test_nan_inside_a_curve_is_named_as_a_nan_report():
    val = np.array([[3.0, np.nan, 2.0, 1.0], [3.0, 2.0, np.nan, np.nan], [3.0, 2, 1, 0.5]])
    c = CurveSet(steps=np.arange(1, 5), val=val)
    assert c.holes() == [(0, 1)]  # row 1 ends at its NaN: not a hole
    assert "1 curve(s) hold NaN before their end (first: row 0, index 1)" in c.holes_note()
    assert CurveSet(steps=np.arange(1, 5), val=val[1:]).holes_note() is None
    # a generated diverging run: NaN from its blow-up to the end of its full length
    diverged = CurveSet(steps=np.arange(1, 5), val=val[1:2], length=np.array([4]))
    assert diverged.holes() == []


def test_plateau_onset_of_a_curve_reaching_zero():
    # An error rate falling to 0 divided by its minimum (a RuntimeWarning and onset 0).
    with np.errstate(all="raise"):
        assert plateau_onset(np.array([0.4, 0.2, 0.1, 0.002, 0.0, 0.0])) == 3
