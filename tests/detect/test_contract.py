"""One contract, every detector: verdict domain, repeated steps, pickle, state_dict, bounds."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from sweeper.bench.detector import METHODS
from sweeper.detect import (
    AnyOf,
    ConvergenceDetector,
    Detector,
    DivergenceDetector,
    OverfitDetector,
    PlateauDetector,
    Reason,
)
from sweeper.testing import noisy

FACTORIES = {
    "plateau": lambda: PlateauDetector("val/mel", budget=30_000),
    "plateau-no-budget": lambda: PlateauDetector("loss/g/mel"),
    "overfit": lambda: OverfitDetector(),
    "divergence": lambda: DivergenceDetector(),
    "convergence": lambda: ConvergenceDetector(budget=30_000),
    "convergence-train-only": lambda: ConvergenceDetector(),
    "any-of": lambda: AnyOf(PlateauDetector("val/mel"), DivergenceDetector()),
    # Every anchor the benchmark measures, at its default and tuned settings.
    **{f"bench-{name}": (lambda m=m: m.build(30_000)) for name, m in METHODS.items()},
}


def _reports(n: int = 300, seed: int = 3) -> list[tuple[int, dict[str, float]]]:
    x = np.arange(1, n + 1) / n
    val = noisy(15 + 30 * np.exp(-x / 0.1) + 8 * np.maximum(x - 0.6, 0) ** 1.5, 0.04, seed=seed)
    train = noisy(14 + 30 * np.exp(-x / 0.1) - 2 * x, 0.04, seed=seed + 1)
    disc = noisy(np.full(n, 2.0), 0.1, seed=seed + 2)
    return [
        (
            100 * (i + 1),
            {"val/mel": val[i], "loss/g/mel": train[i], "loss/d/total": disc[i], "lr": 1e-4},
        )
        for i in range(n)
    ]


@pytest.fixture(params=sorted(FACTORIES))
def factory(request):
    return FACTORIES[request.param]


def test_verdicts_are_in_the_domain_and_consistent(factory):
    det: Detector = factory()
    for step, metrics in _reports():
        verdict = det.update(step, metrics)
        assert verdict.reason in set(Reason)
        assert verdict.step == step
        assert isinstance(verdict.message, str) and verdict.message
        assert verdict.best_step is None or verdict.best_step <= step
        json.dumps(verdict.to_dict())  # evidence is plain data


def test_repeated_and_backward_steps_are_ignored(factory):
    det = factory()
    reports = _reports(120)
    for step, metrics in reports[:100]:
        det.update(step, metrics)
    before = json.dumps(det.state_dict(), sort_keys=True)
    # A restart re-sends earlier steps with other values: nothing may change.
    for step, metrics in reports[50:100]:
        det.update(step, {k: v * 3 for k, v in metrics.items()})
    assert json.dumps(det.state_dict(), sort_keys=True) == before


def test_state_dict_round_trip_continues_identically(factory):
    reports = _reports()
    original = factory()
    for step, metrics in reports[:150]:
        original.update(step, metrics)
    state = json.loads(json.dumps(original.state_dict()))  # plain, JSON-able data
    restored = factory()
    restored.load_state_dict(state)
    for step, metrics in reports[150:]:
        assert restored.update(step, metrics).to_dict() == original.update(step, metrics).to_dict()


def test_pickles_mid_stream(factory):
    det = factory()
    reports = _reports()
    for step, metrics in reports[:80]:
        det.update(step, metrics)
    clone = pickle.loads(pickle.dumps(det))
    for step, metrics in reports[80:]:
        assert clone.update(step, metrics).to_dict() == det.update(step, metrics).to_dict()


def test_fresh_forgets_history_but_keeps_settings(factory):
    det = factory()
    reports = _reports()
    first = [det.update(s, m).to_dict() for s, m in reports[:60]]
    again = det.fresh()
    assert [again.update(s, m).to_dict() for s, m in reports[:60]] == first


def test_nan_and_inf_never_raise(factory):
    det = factory()
    for step, metrics in _reports(40):
        det.update(step, metrics)
    for bad in (float("nan"), float("inf"), float("-inf")):
        verdict = det.update(10_000 + len(str(bad)), {"val/mel": bad, "loss/g/mel": bad})
        assert verdict.reason in set(Reason)


def test_memory_is_bounded(factory):
    # Every history is capped at 512 points: from 1000 reports on, the state stops growing
    # (a linear growth would be 1.6x between 1000 and 1600 reports).
    det = factory()
    steps = np.arange(1, 1601)
    values = noisy(20 + 10 / np.sqrt(steps), 0.03, seed=1)
    sizes = {}
    for step, value in zip(steps, values, strict=True):
        det.update(int(step), {"val/mel": float(value), "loss/g/mel": float(value)})
        if step in (1000, 1600):
            sizes[step] = len(json.dumps(det.state_dict()))
    assert sizes[1600] < 200_000 and sizes[1600] < 1.3 * sizes[1000], sizes
