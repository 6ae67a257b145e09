"""How reports reach a detector: one step in several calls, null and numpy values, the step and
best step a verdict carries, and states saved by older code."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

from sweeper.detect import (
    BestTracker,
    ConvergenceDetector,
    DivergenceDetector,
    OverfitDetector,
    PlateauDetector,
    Reason,
)
from sweeper.errors import InputError

T = 300
STEPS = np.arange(1, T + 1) * 100
FRAC = STEPS / STEPS[-1]


def held_out_plateau() -> PlateauDetector:
    """The plateau rule alone, on val/mel (it read values with float(): "0.5" passed)."""
    return PlateauDetector("val/mel")


EVERY_DETECTOR = [ConvergenceDetector, DivergenceDetector, OverfitDetector, held_out_plateau]


def _overfitting_run() -> list[tuple[int, float, float]]:
    """val/mel falls, then climbs 15 % from 40 % of the budget while training keeps falling
    (the probe's case: named OVERFITTING when each step came in one call)."""
    rng = np.random.default_rng(0)
    val = 0.45 * (1 + 0.6 * np.exp(-FRAC / 0.1)) * (1 + 0.15 * np.clip(FRAC - 0.4, 0, None) / 0.6)
    val = val * (1 + 0.01 * rng.standard_normal(T))
    train = 40 * (1.2 - 0.2 * FRAC) * (1 + 0.01 * rng.standard_normal(T))
    return [(int(s), float(v), float(t)) for s, v, t in zip(STEPS, val, train, strict=True)]


def _tripling_run() -> list[tuple[int, float, float]]:
    """val/mel triples from its 16th point on and stays there (a dead model, no NaN)."""
    rng = np.random.default_rng(1)
    return [
        (
            int(STEPS[i]),
            0.5 * (3.0 if i >= 15 else 1.0) * (1 + 0.01 * rng.standard_normal()),
            30 * (1 + 0.01 * rng.standard_normal()),
        )
        for i in range(120)
    ]


def _nan_run() -> list[tuple[int, float, float]]:
    """val/mel NaN at its second report."""
    return [(100, 0.6, 30.0), (200, math.nan, 29.0), (300, 0.6, 28.0)]


def _replay(run, order: tuple[str, ...] | None):
    """First stop (else the last verdict) with each step in one call (``order`` None) or in
    one call per metric, in ``order``."""
    det = ConvergenceDetector(budget=int(STEPS[-1]))
    verdict = None
    for step, val, train in run:
        metrics = {"val/mel": val, "loss/g/mel": train}
        for call in [metrics] if order is None else [{name: metrics[name]} for name in order]:
            verdict = det.update(step, call)
            if verdict.stops:
                return verdict
    return verdict


SPLIT_CASES = [
    # (run, what one merged call per step gives, at which step)
    (_overfitting_run, Reason.OVERFITTING, 19_200),  # 16_400 before 2026-12-08
    (_tripling_run, Reason.DIVERGED, 1_800),
    (_nan_run, Reason.DIVERGED, 200),
]


@pytest.mark.parametrize("order", [("loss/g/mel", "val/mel"), ("val/mel", "loss/g/mel")])
@pytest.mark.parametrize(("run", "reason", "step"), SPLIT_CASES)
def test_one_step_in_two_calls_gives_the_merged_verdict(run, reason, step, order):
    # Split, the second call was dropped as a repeat by the overfitting and divergence rules:
    # CONVERGED, CONVERGED at 4500 and CONTINUE.
    merged = _replay(run(), None)
    assert (merged.reason, merged.step) == (reason, step)
    split = _replay(run(), order)
    assert (split.reason, split.step, split.best_step) == (
        merged.reason,
        merged.step,
        merged.best_step,
    )


def test_a_metric_repeated_at_its_recorded_step_is_still_ignored():
    for det in (DivergenceDetector(), OverfitDetector()):
        det.update(100, {"loss/g/mel": 30.0})
        det.update(100, {"val/mel": 0.6})
        before = json.dumps(det.state_dict(), sort_keys=True)
        det.update(100, {"val/mel": math.nan, "loss/g/mel": math.inf})  # a restart's repeat
        assert json.dumps(det.state_dict(), sort_keys=True) == before


@pytest.mark.parametrize("factory", EVERY_DETECTOR, ids=lambda f: f.__name__)
def test_null_means_not_reported_and_numpy_numbers_count(factory):
    plain, odd = factory(), factory()
    for i in range(1, 30):
        val = 0.5 + 0.3 / i
        with_val = i % 4 == 0
        train = 30.0 - i / 8  # exact in float32
        plain.update(100 * i, {"loss/g/mel": train, **({"val/mel": val} if with_val else {})})
        verdict = odd.update(
            100 * i,
            {
                "loss/g/mel": np.float32(train) if i % 2 else np.array([train]),
                "val/mel": np.array(val) if with_val else None,  # JSON null between evaluations
                "note": "not a metric",  # unwatched: ignored, whatever it is
            },
        )
    assert verdict.reason is Reason.CONTINUE
    same = json.dumps(odd.state_dict(), sort_keys=True)
    assert same == json.dumps(plain.state_dict(), sort_keys=True)  # was a TypeError


@pytest.mark.parametrize("factory", EVERY_DETECTOR, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", ["0.5", "abc", [0.5, 0.6], {"v": 1}])
def test_a_non_numeric_value_is_a_one_line_error_naming_the_metric(factory, bad):
    with pytest.raises(InputError) as err:
        factory().update(100, {"val/mel": bad})
    text = str(err.value)
    assert "'val/mel'" in text and repr(bad)[:4] in text and "\n" not in text


def test_diverged_carries_the_best_step_of_the_judged_signal():
    rng = np.random.default_rng(1)
    val = 0.45 * (1 + 0.6 * np.exp(-STEPS[:130] / 4000)) * (1 + 0.02 * rng.standard_normal(130))
    det = ConvergenceDetector(budget=40_000)
    for i, step in enumerate(STEPS[:130]):
        verdict = det.update(int(step), {"val/mel": val[i] if i < 100 else math.nan})
        if verdict.stops:
            break
    assert verdict.reason is Reason.DIVERGED and verdict.step == 10_100
    assert verdict.best_step == det.held_out_plateau._best.step  # was None
    assert verdict.best_step is not None and 5_000 <= verdict.best_step <= 10_000


def test_a_held_out_metric_broken_from_its_first_report_names_the_training_best():
    for split in (False, True):
        det = ConvergenceDetector()
        for step in (100, 200, 300):
            det.update(step, {"loss/g/mel": 40.0 - step / 100})
        if split:
            det.update(400, {"loss/g/mel": 30.0})
            verdict = det.update(400, {"val/mel": math.nan})
        else:
            verdict = det.update(400, {"loss/g/mel": 30.0, "val/mel": math.nan})
        assert (verdict.reason, verdict.best_step) == (Reason.DIVERGED, 400)


def test_the_best_step_is_the_median_of_its_window_not_a_spiked_neighbour():
    tracker = BestTracker()
    # The lowest median of 3 is the window (0.381, 0.464, 0.422): the probe's seed 57, where
    # the middle step 23500 was credited although it was the worst of the three.
    for step, value in [(23_300, 0.47), (23_400, 0.381), (23_500, 0.464), (23_600, 0.422)]:
        tracker.add(step, value)
    for step in (23_700, 23_800):
        tracker.add(step, 0.5)
    assert (tracker.step, tracker.value) == (23_600, 0.422)
    # One lucky batch still cannot move it.
    for step, value in [(23_900, 0.30), (24_000, 0.51), (24_100, 0.5)]:
        tracker.add(step, value)
    assert tracker.step == 23_600


def test_the_newest_pair_credits_its_lower_point():
    tracker = BestTracker()
    for step, value in [(100, 1.0), (200, 0.9), (300, 0.5), (400, 0.6)]:
        tracker.add(step, value)
    assert (tracker.step, tracker.value) == (300, 0.55)


def test_a_best_tracker_state_saved_by_older_code_loads_and_pickles():
    # What the code of 2026-12-07 saved: the same keys; its step was the window's middle.
    old = {
        "recent": [[200, 0.9], [300, 0.5]],
        "step": 300,
        "value": 0.7,
        "final_step": 200,
        "final_value": 0.9,
    }
    tracker = BestTracker()
    tracker.load_state_dict(old)
    tracker.add(400, 0.6)
    assert (tracker.step, tracker.value) == (300, 0.55)
    assert pickle.loads(pickle.dumps(tracker)).state_dict() == tracker.state_dict()


def _old_state(det) -> dict:
    """A state as the code of 2026-12-07 saved it: one last step for every metric."""
    state = json.loads(json.dumps(det.state_dict()))
    steps = [s for s in state.pop("last_steps").values()]
    state["last_step"] = max(steps)
    for key in ("floor", "judged_at", "before_judging"):
        state.pop(key, None)
    return state


@pytest.mark.parametrize(
    "factory", [DivergenceDetector, OverfitDetector], ids=lambda f: f.__name__
)
def test_a_state_saved_before_steps_counted_per_metric_still_loads(factory):
    det = factory()
    for i in range(1, 60):
        det.update(100 * i, {"val/mel": 0.5 + 0.3 / i, "loss/g/mel": 30.0 - i / 10})
    loaded = factory()
    loaded.load_state_dict(_old_state(det))
    # Its one last step holds for every metric: a restart's repeats stay ignored ...
    before = json.dumps(loaded.state_dict(), sort_keys=True)
    loaded.update(5_900, {"val/mel": 9.0, "loss/g/mel": 9.0})
    assert json.dumps(loaded.state_dict(), sort_keys=True) == before
    # ... and the stream goes on as in the original.
    for step in (6_000, 6_100):
        metrics = {"val/mel": 0.505, "loss/g/mel": 24.0}
        assert loaded.update(step, metrics) == det.update(step, metrics)
    pickle.loads(pickle.dumps(loaded))


def test_a_continue_carries_the_step_just_passed_and_a_stop_its_own():
    rng = np.random.default_rng(1)
    det = ConvergenceDetector(budget=40_000)
    stale = []
    for step in range(200, 40_001, 200):  # so-vits cadence: losses every 200, val/mel every 800
        metrics = {"loss/g/mel": 30 * (1 + 0.03 * rng.standard_normal()), "loss/d/total": 2.4}
        if step % 800 == 0:
            metrics["val/mel"] = 0.45 * (1 + 0.6 * np.exp(-step / 4000)) * (
                1 + 0.02 * rng.standard_normal()
            )
        verdict = det.update(step, metrics)
        if verdict.reason is Reason.CONTINUE and verdict.step != step:
            stale.append((step, verdict.step))
        if verdict.stops:
            assert verdict.step % 800 == 0  # decided on a val/mel report, and says so
    assert stale == []  # was 147 of 200 updates
    # A restart repeating a step gets the previous verdict as it was.
    assert det.update(1_000, {"loss/g/mel": 30.0}).step == verdict.step


def test_a_held_out_metric_that_stops_coming_is_named_in_the_continue():
    det = ConvergenceDetector(budget=40_000)
    for step in range(200, 8_001, 200):  # val/mel every 800 steps, then no more
        metrics = {"loss/g/mel": 30.0 - step / 1_000}
        if step % 800 == 0:
            metrics["val/mel"] = 0.5 + 400 / step
        verdict = det.update(step, metrics)
    assert "not reported" not in verdict.message  # on cadence: nothing to say
    late = det.update(10_400, {"loss/g/mel": 20.0})  # three intervals missed: a late eval
    assert "not reported" not in late.message
    silent = det.update(10_600, {"loss/g/mel": 20.0})
    assert silent.reason is Reason.CONTINUE and silent.step == 10_600
    assert "val/mel not reported since step 8000" in silent.message
    assert silent.evidence["held_out_last_step"] == 8_000
    # The note survives a restore, and a new report ends it.
    loaded = ConvergenceDetector(budget=40_000)
    loaded.load_state_dict(json.loads(json.dumps(det.state_dict())))
    assert "not reported" in loaded.update(10_800, {"loss/g/mel": 20.0}).message
    assert "not reported" not in loaded.update(11_000, {"val/mel": 0.55}).message


@pytest.mark.parametrize("factory", EVERY_DETECTOR, ids=lambda f: f.__name__)
@pytest.mark.parametrize("first", [10**16, 2**62, 10**18])
def test_steps_near_the_int64_limit_judge_without_overflow(factory, first):
    """Log-steps barely differ there, so a slope's estimate was huge: math.expm1 raised
    OverflowError from inside the trend (a pruner leftover of 2026-12-07)."""
    rng = np.random.default_rng(0)
    det = factory()
    for i in range(200):
        value = 1.0 + 0.05 * rng.standard_normal()  # a flat noisy curve
        verdict = det.update(first + 1000 * i, {"val/mel": value, "loss/g/mel": 20 * value})
    assert verdict.step == first + 1000 * 199
    assert verdict.reason in set(Reason) and verdict.message
