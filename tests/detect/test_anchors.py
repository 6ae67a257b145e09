"""The anchors: tables of curves -> expected first stop index, plus the detector contract."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

from sweeper.detect import Reason
from sweeper.detect.anchors import (
    GLDetector,
    MannKendallDetector,
    PatienceDetector,
    RayPlateauDetector,
    UPDetector,
    mann_kendall,
)

NAN, INF = math.nan, math.inf


def first_stop(det, values, metric="v", train=None):
    """(index, reason) of the first stopping verdict, (None, None) if none."""
    for i, v in enumerate(values):
        metrics = {metric: v}
        if train is not None:
            metrics["t"] = train[i]
        verdict = det.update(100 * (i + 1), metrics)
        if verdict.stops:
            return i, verdict.reason
    return None, None


rng = np.random.default_rng(0)
NOISY_FLAT = list(20 + rng.normal(0, 0.5, 200))
DECREASING = [100.0 - i for i in range(120)]

C, OV, D = Reason.CONVERGED, Reason.OVERFITTING, Reason.DIVERGED
Keras, Lightning = PatienceDetector.keras, PatienceDetector.lightning

# fmt: off
CASES = [  # (name, detector, values, first stop index or None, its reason)
    # Keras/Lightning: wait counts reports without improvement; stop once wait >= patience
    ("keras p3", Keras("v", 3), [5, 4, 4, 4, 4], 4, C),
    ("keras p0 stops at first miss", Keras("v"), [5, 4, 4.5], 2, C),
    ("keras min_delta not met", Keras("v", 2, 0.5), [5, 4.6, 4.2, 3.9], None, None),
    ("keras min_delta stop", Keras("v", 2, 0.5), [5, 4.6, 4.7], 2, C),
    ("keras NaN is no improvement", Keras("v", 2), [5, NAN, NAN], 2, C),
    ("keras NaN first never stops", Keras("v", 0), [NAN], None, None),
    ("keras NaN first blocks", Keras("v", 2), [NAN, 5, 4, 3], 2, C),
    ("keras improving never stops", Keras("v", 1), [5, 4, 3, 2], None, None),
    ("lightning p3", Lightning("v"), [5, 4, 4, 4, 4], 4, C),
    ("lightning NaN diverges", Lightning("v", 10), [5, 4, NAN, 3], 2, D),
    ("lightning inf diverges", Lightning("v", 10), [5, INF], 1, D),
    ("lightning max mode", Lightning("v", 2, mode="max"), [1, 2, 1.5, 1.9], 3, C),
    # Ray: grace_period / num_results gate, then population std of the window < std
    ("ray constant", RayPlateauDetector("v"), [1.0] * 10, 3, C),
    ("ray grace 6", RayPlateauDetector("v", grace_period=6), [1.0] * 10, 5, C),
    ("ray num_results 5", RayPlateauDetector("v", num_results=5, grace_period=1), [1.0] * 10,
     4, C),
    ("ray absolute std", RayPlateauDetector("v", std=0.01),
     [100, 101, 100.01, 99.99, 100.005, 100], 5, C),
    ("ray std just too big", RayPlateauDetector("v", std=0.01), [0, 0.02] * 5, None, None),
    ("ray relative", RayPlateauDetector("v", 0.01, relative=True), [100, 101, 100, 101, 100],
     3, C),
    ("ray NaN in window", RayPlateauDetector("v"), [1, 1, 1, NAN, 1, 1, 1, 1], 7, C),
    ("ray threshold 0 honoured", RayPlateauDetector("v", metric_threshold=0.0), [1.0] * 6,
     None, None),
    # Prechelt GL_alpha: 100 (E/E_opt - 1) > alpha
    ("GL_5 at 6 % above min", GLDetector("v", 5), [10, 9, 9.3, 9.54], 3, OV),
    ("GL_5 at 4.9 % above min", GLDetector("v", 5), [10, 8, 8.39], None, None),
    ("GL NaN ignored", GLDetector("v", 5), [10, NAN, 9], None, None),
    # UP_s: rises at the ends of s consecutive strips
    ("UP_2 strip 2", UPDetector("v", strip=2, s=2), [5, 4, 3, 5, 2, 6], 5, OV),
    ("UP_2 interrupted", UPDetector("v", strip=1, s=2), [3, 4, 3, 4, 3, 4], None, None),
    ("UP_1 strip 1", UPDetector("v", strip=1, s=1), [3, 2, 2, 2.5], 3, OV),
    # Mann-Kendall "no trend, so stop"
    ("MK decreasing never stops", MannKendallDetector("v", 40), DECREASING, None, None),
    ("MK constant stops when full", MannKendallDetector("v", 10), [3.0] * 20, 9, C),
    ("MK increasing stops when full", MannKendallDetector("v", 10), list(range(20)), 9, C),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "det", "values", "index", "reason"), CASES, ids=[c[0] for c in CASES]
)
def test_first_stop(name, det, values, index, reason):
    assert first_stop(det, values) == (index, reason)


def test_mk_stops_on_flat_noise_soon_after_the_window_fills():
    index, reason = first_stop(MannKendallDetector("v", 40), NOISY_FLAT)
    assert reason is Reason.CONVERGED and 39 <= index < 60


def test_gl_training_progress_safeguard():
    det = GLDetector("v", 50, progress_metric="t", strip=5)
    train = [10, 9, 8, 7, 6] + [5.0] * 5  # second strip: no progress at all
    assert first_stop(det, [10 - 0.1 * i for i in range(10)], train=train) == (
        9,
        Reason.CONVERGED,
    )


def test_best_step_is_the_rule_best():
    det = PatienceDetector.keras("v", 5, min_delta=1.0)
    for i, v in enumerate([10, 9.5, 8.5, 8.4]):
        verdict = det.update(i + 1, {"v": v})
    assert verdict.best_step == 3  # 8.4 is not 1.0 better than 8.5
    det = UPDetector("v")
    for i, v in enumerate([10, 9, 11, NAN]):
        verdict = det.update(i + 1, {"v": v})
    assert verdict.best_step == 2


def test_message_names_rule_and_numbers():
    det = PatienceDetector.keras("val/mel", 2)
    messages = [det.update(i, {"val/mel": v}).message for i, v in enumerate([5, 6, 7])]
    assert "patience=2" in messages[-1] and "val/mel" in messages[-1]


ALL = [
    PatienceDetector.keras("v", 5),
    PatienceDetector.lightning("v", 5),
    RayPlateauDetector("v", 0.5, 6, 6),
    GLDetector("v", 3, progress_metric="t"),
    UPDetector("v", 3, 2),
    MannKendallDetector("v", 12),
]
STREAM = [20 + 5 * math.exp(-i / 10) + 0.3 * math.sin(i) for i in range(60)] + [NAN, 30, INF]


@pytest.mark.parametrize("det", ALL, ids=lambda d: type(d).__name__)
def test_state_dict_json_round_trip_continues_identically(det):
    det = det.fresh()
    for i, v in enumerate(STREAM[:30]):
        det.update(i, {"v": v, "t": v - 1})
    clone = det.fresh()
    clone.load_state_dict(json.loads(json.dumps(det.state_dict())))
    copy = pickle.loads(pickle.dumps(det))
    for i, v in enumerate(STREAM[30:], start=30):
        expected = det.update(i, {"v": v, "t": v - 1})
        assert clone.update(i, {"v": v, "t": v - 1}) == expected
        assert copy.update(i, {"v": v, "t": v - 1}) == expected


@pytest.mark.parametrize("det", ALL, ids=lambda d: type(d).__name__)
def test_repeated_steps_and_other_metrics_are_ignored(det):
    det = det.fresh()
    first = det.update(5, {"v": 3.0})
    assert det.update(5, {"v": 100.0}) is first
    assert det.update(4, {"v": NAN}) is first
    assert det.update(6, {"other": 1.0}) is first
    assert det.state_dict()["last_step"] == 5


def test_window_memory_is_bounded():
    det = MannKendallDetector("v", 10)
    for i in range(500):
        det.update(i, {"v": float(i % 7)})
    assert len(det.state_dict()["rule"]["_values"]) == 10


@pytest.mark.parametrize(
    "build",
    [
        lambda: PatienceDetector("v", patience=-1),
        lambda: PatienceDetector("v", mode="best"),
        lambda: RayPlateauDetector("v", std=0),
        lambda: GLDetector("v", alpha=0),
        lambda: UPDetector("v", s=0),
        lambda: MannKendallDetector("v", window=2),
        lambda: MannKendallDetector("v", alpha=1.5),
    ],
)
def test_bad_settings_are_rejected_with_the_value(build):
    with pytest.raises(ValueError, match="="):
        build()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_mann_kendall_matches_scipy_kendalltau(seed, ties):
    stats = pytest.importorskip("scipy.stats")
    x = np.random.default_rng(seed).normal(0, 1, 40) - np.linspace(0, 0.5 * seed, 40)
    if ties:
        x = np.round(x * 2) / 2
    mk = mann_kendall(x)
    ref = stats.kendalltau(np.arange(x.size), x, method="asymptotic")
    z_plain = mk.s / math.sqrt(mk.var_s)  # scipy has no continuity correction
    assert math.erfc(abs(z_plain) / math.sqrt(2)) == pytest.approx(ref.pvalue, rel=1e-9)
    if not ties:
        assert mk.s / (x.size * (x.size - 1) / 2) == pytest.approx(ref.statistic)
    assert mk.p >= ref.pvalue  # the continuity correction only makes the test more cautious


def test_mk_detector_keeps_s_equal_to_the_full_sum_over_its_window():
    rng = np.random.default_rng(1)
    stream = list(np.round(rng.normal(0, 1, 120), 1))
    stream[50] = NAN
    stream[70] = INF
    det = MannKendallDetector("v", 30)
    for i, v in enumerate(stream):
        verdict = det.update(i, {"v": v})
        if i >= 29:
            window = np.asarray(stream[i - 29 : i + 1])
            assert verdict.evidence["z"] == mann_kendall(window[np.isfinite(window)]).z
