"""ConvergencePruner in plain Optuna studies of losses other than a so-vits mel loss.

Found by a probe on 2026-12-06 and fixed then: a loss near or below zero (an MSE, an error
rate, a negative log-likelihood), studies made again under one name, a budget in other units,
numpy numbers as arguments, a training metric named ``train/...``.
"""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
import torch
from test_pruner import T, X, _interleave, _objective

from sweeper.detect import ConvergenceDetector, Reason
from sweeper.pruning import ConvergencePruner, report_training

STEPS = np.arange(1, T + 1)


def _absolute(level: float, noise: float, seed: int) -> np.ndarray:
    """A fall of 2 to ``level`` with absolute (not relative) noise: it may cross zero."""
    rng = np.random.default_rng(seed)
    return level + 2.0 * np.exp(-STEPS / 20.0) + noise * rng.standard_normal(T)


@pytest.mark.parametrize("level", [-0.1, 0.0, 0.02])
def test_equal_trials_of_a_loss_crossing_zero_are_not_cut_for_noise(level):
    # A margin that was a fraction of the value vanished near zero: 6-8 of 8 equal trials cut.
    same = [_absolute(level, 0.02, k) for k in range(6)]
    stopped = _interleave(optuna.create_study(pruner=ConvergencePruner(budget=T)), same)
    assert not any(rule == "cannot_catch_up" for rule, _ in stopped.values()), stopped


def test_a_clearly_worse_trial_of_a_loss_crossing_zero_is_still_cut():
    curves = [_absolute(-0.5, 0.02, k) for k in range(3)] + [_absolute(1.5, 0.02, 9)]
    stopped = _interleave(optuna.create_study(pruner=ConvergencePruner(budget=T)), curves)
    assert stopped.get(3, ("", 0))[0] in {"cannot_catch_up", "converged"}, stopped
    assert all(k == 3 or rule != "cannot_catch_up" for k, (rule, _) in stopped.items())


@pytest.mark.parametrize("metric", ["value", "val/mel"])
def test_a_healthy_loss_near_zero_is_never_called_diverged(metric):
    # The mel explosion guard (a median of 3 over twice its best) tripped on noise alone.
    for seed in range(3):
        values = np.abs(_absolute(0.02, 0.006, seed))
        study = optuna.create_study(pruner=ConvergencePruner(budget=T, metric=metric))
        study.optimize(_objective(values), n_trials=1)
        record = study.trials[0].system_attrs.get("sweeper:stop")
        assert record is None or record["rule"] != "diverged", record["message"]


def test_a_real_mel_explosion_still_stops_the_trial():
    values = 20 + 10 * np.exp(-STEPS / 30.0) + 0.5 * np.random.default_rng(0).normal(size=T)
    values[120:] *= 3.0
    study = optuna.create_study(pruner=ConvergencePruner(budget=T, metric="val/mel"))
    study.optimize(_objective(values), n_trials=1)
    record = study.trials[0].system_attrs["sweeper:stop"]
    assert record["rule"] == "diverged" and 121 <= record["step"] <= 124


def test_a_training_metric_named_train_is_watched_for_explosion():
    detector = ConvergenceDetector("value", train_metric="train/mel")
    for step in range(1, 60):
        train = 30.0 if step < 40 else 300.0
        verdict = detector.update(step, {"value": 20.0 + 0.01 * step, "train/mel": train})
    assert verdict.reason is Reason.DIVERGED and "train/mel exploded" in verdict.message


def _nan_then_healthy(pruner: ConvergencePruner, same_storage: bool) -> list[str | None]:
    """Study "exp" whose second trial goes NaN, then a healthy study "exp" (made again in
    the same storage after deleting the first, or in another storage), one pruner."""
    rules = []
    storage = optuna.storages.InMemoryStorage()
    for attempt in range(2):
        if attempt == 1 and same_storage:
            optuna.delete_study(study_name="exp", storage=storage)
        elif attempt == 1:
            storage = optuna.storages.InMemoryStorage()
        study = optuna.create_study(study_name="exp", storage=storage, pruner=pruner)
        values = 20 + 10 * np.exp(-STEPS / 30.0)
        if attempt == 0:
            values[30:] = np.nan
        study.optimize(_objective(values), n_trials=2)
        record = study.trials[-1].system_attrs.get("sweeper:stop")
        rules.append(None if record is None else record["rule"])
    return rules


@pytest.mark.parametrize("same_storage", [False, True])
def test_a_study_made_again_under_its_name_inherits_nothing(same_storage):
    # The cache was keyed by (study name, trial number): a healthy trial of the new study
    # was pruned at step 1 as "val/mel is nan at step 31".
    pruner = ConvergencePruner(budget=T, catch_up=False)
    first, second = _nan_then_healthy(pruner, same_storage)
    assert first == "diverged" and second != "diverged"


def test_steps_past_the_budget_warn_once():
    study = optuna.create_study(pruner=ConvergencePruner(budget=30))  # epochs, say
    trial = study.ask()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(100, 3000, 100):
            trial.report(20.0 + np.sin(step), step)
            trial.should_prune()
    messages = [str(w.message) for w in caught if "ConvergencePruner" in str(w.message)]
    assert len(messages) == 1 and "past budget=30" in messages[0] and "fix:" in messages[0]


def test_past_the_budget_the_noise_still_sets_the_margin():
    values = 10 * (1 + 0.03 * np.random.default_rng(0).standard_normal(T)) * (1 + X) ** -0.1
    detector = ConvergenceDetector("value", budget=T // 2)
    for step, value in zip(STEPS, values, strict=True):
        verdict = detector.update(int(step), {"value": float(value)})
    assert verdict.evidence["horizon_steps"] == 0 and verdict.evidence["noise_cv"] > 0.01


def test_numpy_numbers_are_arguments_and_strings_are_named():
    pruner = ConvergencePruner(
        budget=np.int64(300), n_warmup_steps=np.int32(5), top_share=np.float32(0.1)
    )
    assert pruner.budget == 300 and type(pruner.budget) is int and pruner.n_warmup_steps == 5
    for name, bad in (("alpha", "0.05"), ("epsilon", None), ("budget", 300.5)):
        with pytest.raises(ValueError, match=f"{name} must be .*got {name}=.*fix:"):
            ConvergencePruner(**{name: bad})
    # A whole float (YAML's 3e2) and numpy's bool are what configs hand over: accepted.
    pruner = ConvergencePruner(budget=np.float64(3e2), catch_up=np.True_)
    assert pruner.budget == 300 and type(pruner.budget) is int and pruner.catch_up is True


def test_a_slow_curve_falling_below_zero_is_not_cut_before_it_leads():
    # Its trend's windows took different scales (level or range) and the smallest bound won,
    # in the wrong units: the best trial was cut at 38 % of its budget with 1.04 to fall.
    rng = np.random.default_rng(14)
    fast = [-0.3 - 0.05 * k + 2.3 * np.exp(-X / 0.05) for k in range(5)]
    slow = -1.0 + 3.0 * np.exp(-X / 0.45)
    curves = [c + 0.02 * rng.standard_normal(T) for c in (*fast, slow)]
    stopped = _interleave(optuna.create_study(pruner=ConvergencePruner(budget=T)), curves)
    assert 5 not in stopped, stopped


def _stop_record(values: np.ndarray, **kwargs) -> dict | None:
    study = optuna.create_study(pruner=ConvergencePruner(budget=T, **kwargs))
    study.optimize(_objective(values), n_trials=1)
    return study.trials[0].system_attrs.get("sweeper:stop")


@pytest.mark.parametrize(("jump_at", "factor"), [(5, 10.0), (5, 1e6), (40, 1e6)])
def test_a_finite_explosion_of_a_plain_value_stops_the_trial(jump_at, factor):
    """A probe (2026-12-06): with the default metric name a 1e6x jump at step 5 ran all 200
    steps (the guard watched only loss/val/train names), one at step 10 was cut at 42."""
    noise = 1 + 0.03 * np.random.default_rng(3).normal(size=T)
    values = (10 + 30 * (1 + STEPS / 5) ** -0.8) * noise
    values[jump_at - 1 :] *= factor
    record = _stop_record(values)
    assert record is not None and record["rule"] == "diverged", record
    assert jump_at <= record["step"] <= jump_at + 4


def test_a_plain_value_that_rises_by_design_is_not_called_diverged():
    """A loss of another kind may rise (a KL weight switched on): 3x its best is no
    explosion for a name that is not a mel loss; for val/mel it is."""
    rng = np.random.default_rng(1)
    values = np.where(STEPS < 50, 10.0, 30.0) * (1 + 0.02 * rng.normal(size=T))
    record = _stop_record(values)
    assert record is None or record["rule"] != "diverged", record
    assert _stop_record(values, metric="val/mel")["rule"] == "diverged"


def test_a_nan_in_the_warm_up_stops_the_trial_when_it_ends():
    values = 20 + 10 * np.exp(-STEPS / 30.0)
    values[4] = np.nan  # step 5 only: the values after it are finite
    record = _stop_record(values, n_warmup_steps=10)
    assert record is not None and record["rule"] == "diverged" and record["step"] == 10
    assert "nan at step 5" in record["message"]


def test_report_training_names_bad_arguments_and_skips_a_fixed_trial():
    """A probe: FixedTrial (Optuna's dry run) raised AttributeError, None a TypeError not
    naming the argument, and step 5.7 overwrote step 5."""
    report_training(optuna.trial.FixedTrial({}), 1.0, 1)  # nothing to store, no error
    study = optuna.create_study()
    trial = study.ask()
    for value, step, named in [(None, 1, "value=None"), (1.0, 5.7, "step=5.7"),
                               (1.0, "5", "step='5'"), (1.0, float("inf"), "step=inf")]:
        with pytest.raises(TypeError, match=named):
            report_training(trial, value, step)
    report_training(trial, np.float32(2.0), np.int64(5))
    report_training(trial, torch.tensor(3.0), 6)  # what trial.report takes, float() reads
    assert study.trials[0].system_attrs == {"sweeper:train:5": 2.0, "sweeper:train:6": 3.0}


def test_a_tiny_alpha_is_accepted():
    assert ConvergencePruner(alpha=1e-20)._z > 9  # StatisticsError before 2026-12-06


def test_steps_out_of_order_warn_once():
    """Steps are judged in increasing order; one reported after a later one was skipped in
    silence (a trial reported in reverse was never judged)."""
    study = optuna.create_study(pruner=ConvergencePruner(budget=T))
    trial = study.ask()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in (10, 20, 15, 5, 30):
            trial.report(1.0, step)
            trial.should_prune()
    ours = [w for w in caught if "ConvergencePruner" in str(w.message)]
    assert len(ours) == 1 and "step 15 after step 20" in str(ours[0].message)


def test_a_warm_up_rise_is_not_read_as_nothing_left_to_gain():
    """A loss lifted 25 % by a learning-rate warm-up over its first 40 of 200 reports, then
    falling to 12.1 against the other trials' 14.2: a line through the rise read as no gain
    left, and the trial was cut as cannot_catch_up at its first judgement."""
    from sweeper.pruning._standing import after_warm_up, improvement_left_upper
    from sweeper.testing import noisy

    s = np.arange(1, 201)
    rise = np.where(s <= 40, 1 + 0.25 * s / 40, 1 + 0.25 * np.exp(-(s - 40) / 8))
    hump = noisy(10 * rise * (1 + 1.5 * (1 + np.maximum(s - 40, 0) / 6) ** -0.6), 0.02, seed=2)
    plain = noisy(12 * (1 + 1.5 * (1 + s / 6) ** -0.6), 0.02, seed=2)
    for step in (25, 32, 45):
        seen = {int(k): float(v) for k, v in zip(s[:step], hump[:step], strict=True)}
        upper = improvement_left_upper(seen, 1.0, step, 200, 0.05)
        left = 1 - hump.min() / hump[:step].min()  # the fall still to come: over a third
        assert upper is None or upper >= left, (step, upper, left)
    assert after_warm_up(plain) == 0  # a falling curve is judged whole
    seen = {int(k): float(v) for k, v in zip(s[:30], plain[:30], strict=True)}
    assert improvement_left_upper(seen, 1.0, 30, 200, 0.05) is not None


def test_no_budget_warns_once_when_the_catch_up_rule_first_judges():
    """Without a budget a trial is judged over as many steps again as its step: the docs'
    demo lost its late bloomer that way (cut at step 20-24, 6 of 6 runs), with no word."""
    from sweeper.testing import noisy

    said = {}
    for budget in (None, T):
        study = optuna.create_study(pruner=ConvergencePruner(budget=budget))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for level in (10.0, 11.0, 30.0):
                trial = study.ask()
                for step, value in enumerate(noisy(np.full(40, level), 0.02, seed=int(level)), 1):
                    trial.report(float(value), step)
                    trial.should_prune()
                study.tell(trial, float(level))
        said[budget] = [str(w.message) for w in caught if "no budget" in str(w.message)]
    assert len(said[None]) == 1 and "fix: budget=<the last step" in said[None][0], said
    assert said[T] == []
