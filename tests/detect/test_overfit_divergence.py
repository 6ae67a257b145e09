"""Overfitting, divergence and the combined detector: tables of curves to verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from sweeper.detect import (
    ConvergenceDetector,
    DivergenceDetector,
    OverfitDetector,
    Reason,
    first_stop,
)
from sweeper.testing import noisy, stream

T = 300
STEPS = np.arange(1, T + 1) * 100
X = np.arange(1, T + 1) / T
BASE = 15 + 30 * np.exp(-X / 0.05)


def _u_curve(rise: float) -> np.ndarray:
    """Falls to a minimum at 40 % of the budget, then climbs ``rise`` above it by the end."""
    return BASE + rise * 15 * (np.maximum(X - 0.4, 0) / 0.6) ** 1.2


@pytest.mark.parametrize("seed", range(3))
def test_val_rising_while_train_falls_is_overfitting(seed):
    val = noisy(_u_curve(0.4), 0.03, seed=seed)
    train = noisy(0.95 * BASE * (1 - 0.2 * np.maximum(X - 0.4, 0)), 0.03, seed=seed + 10)
    first, _ = first_stop(OverfitDetector(), stream(STEPS, val__mel=val, loss__g__mel=train))
    assert first is not None and first.reason is Reason.OVERFITTING
    # Caught after the minimum, before the end, and the checkpoint kept is near the bottom.
    assert 0.4 * T * 100 < first.step < 0.9 * T * 100
    assert first.best_step is not None and abs(first.best_step - 0.4 * T * 100) < 0.2 * T * 100
    assert first.evidence["generalization_gap"] > first.evidence["gap_threshold"]


@pytest.mark.parametrize("seed", range(3))
def test_flat_or_falling_val_is_never_overfitting(seed):
    for true in (np.full(T, 18.0), BASE, 40 * (1 + X / 0.02) ** -0.4):
        val = noisy(true, 0.06, seed=seed, phi=0.3, spike_prob=0.03)
        first, _ = first_stop(OverfitDetector(), stream(STEPS, val__mel=val, loss__g__mel=val))
        assert first is None


def test_val_and_train_rising_together_is_not_overfitting():
    up = _u_curve(0.4)
    first, _ = first_stop(
        OverfitDetector(), stream(STEPS, val__mel=noisy(up, 0.02), loss__g__mel=0.95 * up)
    )
    assert first is None


@pytest.mark.parametrize("seed", range(3))
def test_a_rise_before_any_improvement_is_overfitting_only_while_training_falls(seed):
    """A learning-rate warm-up lifts val/mel 20 % over its first 60 reports before it falls
    far below its start: with no training metric it was OVERFITTING at its 42nd report
    (best at the first points). A fine-tuned model whose val/mel rises from its first step
    while its training loss falls still overfits."""
    s = np.arange(1, T + 1)
    rise = np.where(s <= 60, 1 + 0.2 * s / 60, 1 + 0.2 * np.exp(-(s - 60) / 8))
    warm_up = noisy(10 * rise * (1 + 1.5 * (1 + np.maximum(s - 60, 0) / 6) ** -0.6), 0.02,
                    seed=seed, phi=0.2)  # fmt: skip
    first, _ = first_stop(OverfitDetector(), stream(STEPS, val__mel=warm_up))
    assert first is None, first.message
    fine_tune = noisy(20 * (1 + 0.15 * X), 0.02, seed=seed)
    train = noisy(18 * (1 - 0.3 * X), 0.02, seed=seed + 10)
    first, _ = first_stop(OverfitDetector(), stream(STEPS, val__mel=fine_tune, loss__g__mel=train))
    assert first is not None and first.reason is Reason.OVERFITTING
    assert first.evidence["improved_before_best"] is False


@pytest.mark.parametrize(
    ("metrics_at", "guard"),
    [
        (lambda i: {"loss/g/mel": float("nan") if i == 150 else 20.0}, "non_finite"),
        (lambda i: {"val/mel": float("inf") if i == 150 else 20.0}, "non_finite"),
        (lambda i: {"loss/g/mel": 20.0 * (10 ** ((i - 149) / 2) if i >= 150 else 1)}, "explosion"),
        (lambda i: {"grad_norm_g": 30.0 * (1e4 if i >= 150 else 1)}, "grad_explosion"),
        (
            lambda i: {
                "loss/d/total": 2.0 if i < 150 else 0.01,
                "loss/g/gen": 2.5 if i < 150 else 12.0,
            },
            "d_collapse",
        ),
    ],
)
def test_divergence_guards_fire_at_the_break(metrics_at, guard):
    det = DivergenceDetector()
    first, _ = first_stop(det, ((100 * (i + 1), metrics_at(i)) for i in range(T)))
    assert first is not None and first.reason is Reason.DIVERGED
    assert first.evidence["guard"] == guard
    assert 151 * 100 <= first.step <= 156 * 100


def test_a_blow_up_right_after_the_first_evaluation_is_an_explosion():
    # Seen in the quick sweep: val/mel 93.9 before training, then a dead model's 284.3 held
    # flat. The first value is the best level; the plateau rule would call the flat 284.3
    # "converged".
    det = DivergenceDetector()
    values = [93.9] + [284.3] * 20
    first, _ = first_stop(det, ((5 * i, {"val/mel": v}) for i, v in enumerate(values)))
    assert first is not None and first.evidence["guard"] == "explosion"
    assert first.step == 20  # min_points (5) reports


def test_healthy_gan_drift_and_spikes_never_diverge():
    rng = np.random.default_rng(0)
    gen = 2.5 + np.linspace(0, 2.0, T)  # adversarial losses drift up in healthy runs
    fm = 8 + np.linspace(0, 6, T)
    disc = 2.2 - np.linspace(0, 0.8, T)
    mel = noisy(BASE, 0.09, seed=1, spike_prob=0.05)
    reports = (
        (
            int(STEPS[i]),
            {
                "loss/g/mel": mel[i],
                "loss/g/gen": gen[i] * (1 + 0.2 * rng.standard_normal()),
                "loss/g/fm": fm[i],
                "loss/d/total": disc[i] * (1 + 0.2 * rng.standard_normal()),
                "grad_norm_g": 200 * (1 + 3 * (rng.random() < 0.05)),
            },
        )
        for i in range(T)
    )
    first, _ = first_stop(DivergenceDetector(), reports)
    assert first is None


def test_convergence_detector_prefers_the_held_out_metric():
    det = ConvergenceDetector(budget=int(STEPS[-1]))
    train = noisy(0.95 * BASE * (1 - 0.2 * np.maximum(X - 0.4, 0)), 0.03, seed=2)
    val = noisy(_u_curve(0.4), 0.03, seed=3)
    first, last = first_stop(det, stream(STEPS, val__mel=val, loss__g__mel=train))
    assert first is not None and first.signal == "val/mel"
    assert first.reason in (Reason.OVERFITTING, Reason.CONVERGED)
    assert last is not None and "only a plateau" not in last.message


def test_convergence_detector_on_training_loss_says_what_it_cannot_judge():
    det = ConvergenceDetector()
    verdict = None
    for step, metrics in stream(STEPS, loss__g__mel=noisy(BASE, 0.04)):
        verdict = det.update(step, metrics)
    assert verdict is not None and verdict.signal == "loss/g/mel"
    assert "only a plateau can be judged" in verdict.message
    assert verdict.evidence["overfitting_judged"] is False


def test_convergence_detector_reports_divergence_first():
    det = ConvergenceDetector(budget=int(STEPS[-1]))
    val = noisy(np.full(T, 18.0), 0.02)
    val[200] = float("nan")
    first, _ = first_stop(det, stream(STEPS, val__mel=val, loss__g__mel=val))
    # A flat curve may converge before 200; if it runs on, NaN must say DIVERGED.
    assert first is not None
    if first.step >= STEPS[200]:
        assert first.reason is Reason.DIVERGED


@pytest.mark.parametrize(
    ("cls", "kwargs", "fragment"),
    [
        (OverfitDetector, {"alpha": 0.0}, "alpha=0.0"),
        (OverfitDetector, {"min_rise": 1.5}, "min_rise=1.5"),
        (OverfitDetector, {"level_points": 2}, "level_points=2"),
        (OverfitDetector, {"min_points": 5}, "min_points=5"),
        (DivergenceDetector, {"explode_factor": 1.0}, "explode_factor=1.0"),
        (DivergenceDetector, {"collapse_ratio": 2.0}, "collapse_ratio=2.0"),
    ],
)
def test_bad_settings_name_the_value(cls, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        cls(**kwargs)


def test_a_dead_run_swinging_around_3x_is_stopped_at_once():
    # The noise allowance is the noise where the best was set: measured over the blow-up,
    # its own swings counted as noise, and this quick-sweep trial ran on to step 55.
    detector = DivergenceDetector()
    swings = [93.9, 209.9, 280.7, 242.3, 106.9, 265.8, 242.0]
    verdicts = [detector.update(5 * i, {"val/mel": v}) for i, v in enumerate(swings)]
    first = next(v for v in verdicts if v.reason is Reason.DIVERGED)
    assert first.step == 20 and "exploded" in first.message


def test_a_loss_near_zero_is_not_exploded_by_its_noise():
    rng = np.random.default_rng(3)
    detector = DivergenceDetector(explode_metrics=("loss/mse",))
    values = 0.02 + 2.0 * np.exp(-np.arange(300) / 20.0) + np.abs(rng.normal(0, 0.006, 300))
    reasons = {detector.update(i, {"loss/mse": float(v)}).reason for i, v in enumerate(values)}
    assert Reason.DIVERGED not in reasons


def test_two_spikes_or_two_dips_within_three_points_are_not_an_explosion():
    # A median of 3 read both as a blow-up: two 15x spikes one apart, or two dips to 0.4x
    # that set a best level the run then "exploded" from at its normal values.
    base = noisy(np.full(T, 20.0), 0.03, seed=0)
    spikes, dips = base.copy(), base.copy()
    spikes[[20, 22]] *= 15
    dips[[20, 22]] *= 0.4
    for values in (spikes, dips):
        first, _ = first_stop(
            DivergenceDetector(),
            ((int(s), {"val/mel": float(v)}) for s, v in zip(STEPS, values, strict=True)),
        )
        assert first is None, first


def test_values_near_the_float_limit_neither_raise_nor_warn():
    import warnings

    values = noisy(np.full(T, 1e300), 0.05, seed=2)
    det = ConvergenceDetector(budget=int(STEPS[-1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warnings too
        for step, v in zip(STEPS, values, strict=True):
            verdict = det.update(int(step), {"val/mel": float(v), "loss/g/mel": float(v)})
    assert verdict.reason in set(Reason)
