"""ConvergencePruner in plain Optuna: what a third probe (2026-12-07) found, each fixed.

A NaN below the last judged step went unseen; warnings were once per pruner object; a short
budget made a silent NopPruner; a converged stop at the last step turned a finished trial
PRUNED; a stop record outlived its decision; maximised studies read negated values; argument
errors named no fix; a training value reported after should_prune was dropped in silence; a
reused pruner cached every study.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import optuna
import pytest

from sweeper.pruning import ConvergencePruner, report_training, stop_verdict
from sweeper.testing import noisy

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _ours(caught) -> list[str]:
    return [str(w.message) for w in caught if "ConvergencePruner" in str(w.message)]


def _plateau(n: int, floor: float, seed: int) -> np.ndarray:
    s = np.arange(1, n + 1)
    return noisy(floor + 30 * (1 + s / 5) ** -1.5, 0.03, seed=seed)


def _after_finished(n: int, level: float, count: int, catch_up: bool = True) -> optuna.Study:
    """A study (budget n) whose first ``count`` trials ran plateaus at ``level`` to the end."""
    study = optuna.create_study(pruner=ConvergencePruner(budget=n, catch_up=catch_up))
    for seed in range(count):
        trial = study.ask()
        for step, value in enumerate(_plateau(n, level, seed), 1):
            trial.report(float(value), step)
        study.tell(trial, level)
    return study


def test_a_nan_at_a_step_below_the_last_judged_one_stops_the_trial():
    # Instances evaluated in a shuffled order (steps = instance ids): the NaN was skipped
    # with its step and never seen; the docs say a NaN or inf always counts.
    study = optuna.create_study(pruner=ConvergencePruner(budget=100))
    trial = study.ask()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(1, 61, 2):
            trial.report(1.0 + 0.01 * step, step)
            assert not trial.should_prune()
        trial.report(float("nan"), 10)
        assert trial.should_prune()
    record = stop_verdict(trial)
    assert record["rule"] == "diverged" and "nan at step 10" in record["message"], record


def test_warnings_are_per_study_not_per_pruner():
    # One pruner in a seed loop warned in its first study only; pickled, it carried the flag.
    pruner = ConvergencePruner(budget=100)
    said = []
    for k in range(3):
        study = optuna.create_study(pruner=pruner)
        trial = study.ask()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in (10, 20, 15, 30):
                trial.report(1.0, step)
                trial.should_prune()
            study.tell(trial, 1.0)
            trial = study.ask()  # a second trial of the same study: no second warning
            for step in (10, 20, 15, 30):
                trial.report(1.0, step)
                trial.should_prune()
        said.append(len([m for m in _ours(caught) if "after step 20" in m]))
        if k == 0:
            pruner = pickle.loads(pickle.dumps(pruner))
    assert said == [1, 1, 1], said


def test_a_budget_below_a_trend_warns_at_construction():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ConvergencePruner(budget=10)
        ConvergencePruner(budget=300)
        ConvergencePruner()
    said = _ours(caught)
    assert len(said) == 1 and "budget=10" in said[0] and "fix:" in said[0], said
    assert "from 20" in said[0]


@pytest.mark.parametrize("catch_up", [False, True])
def test_no_converged_stop_at_the_last_step_of_the_budget(catch_up):
    # A converged stop there saves nothing, and `raise TrialPruned()` turned the trial PRUNED.
    n = 200
    study = _after_finished(n, 5.0, 4, catch_up)  # clearly better, for the cross-trial rules
    answers = {}
    # Still falling 2.5 % a step at the end (not converged there), yet far behind.
    falling = noisy(1000.0 * np.exp(-5.0 * np.arange(1, n + 1) / n), 0.03, seed=9)
    for shape, values in (("flat", _plateau(n, 20.0, 9)), ("falling", falling)):
        for asked in (n - 1, n):  # asked only once, late: the trend was judged long before
            trial = study.ask()
            for step, value in enumerate(values[:asked], 1):
                trial.report(float(value), step)
            pruned = trial.should_prune()
            answers[shape, asked] = pruned, (stop_verdict(trial) or {}).get("rule")
            study.tell(trial, float(values[asked - 1]))
    if catch_up:
        assert answers["falling", n - 1] == (True, "cannot_catch_up"), answers
    # Until 2026-12-07 a trial still improving there was stopped (cannot_catch_up) while a
    # converged one was not: at the end neither stop saves a step (a probe).
    assert answers["flat", n - 1] == (True, "converged"), answers
    assert answers["flat", n] == answers["falling", n] == (False, None), answers


def test_a_stop_that_no_longer_holds_leaves_no_record():
    # should_prune said True (cannot_catch_up), the objective went on, the trial won: its
    # "sweeper:stop" still said cannot_catch_up.
    n = 200
    study = _after_finished(n, 20.0, 6)
    late = _plateau(n, 40.0, 42)
    late[120:] *= 0.3  # a second phase (a learning-rate drop)
    trial = study.ask()
    said = []
    for step, value in enumerate(late, 1):
        trial.report(float(value), step)
        said.append(trial.should_prune())
    assert True in said and not said[-1]
    study.tell(trial, float(late.min()))
    assert stop_verdict(study.trials[-1]) is None
    assert study.best_trial.number == 6


def test_a_maximised_study_speaks_in_its_own_frame():
    # A reported +inf read "diverged: value is -inf"; the highest report "its lowest one".
    study = optuna.create_study(direction="maximize", pruner=ConvergencePruner(budget=100))
    trial = study.ask()
    for step in range(1, 61):
        trial.report(float("inf") if step == 60 else 20 + 10 * (1 - (1 + step / 5) ** -1), step)
    assert trial.should_prune()
    assert "value is inf at step 60" in stop_verdict(trial)["message"]
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    n = 200
    for k, floor in enumerate([0.05, 0.06, 0.07, 0.3]):
        trial = study.ask()
        s = np.arange(1, n + 1)
        errors = noisy(floor + 0.4 * (1 + s / 5) ** -1.0, 0.03, seed=k)
        for step, e in enumerate(errors, 1):
            trial.report(float(1 - e), step)
            if trial.should_prune():
                break
        study.tell(trial, float(1 - e))
    record = stop_verdict(study.trials[-1])
    assert record["rule"] == "cannot_catch_up", record
    assert "its highest single one" in record["message"], record["message"]


@pytest.mark.parametrize(
    "bad",
    [
        {"epsilon": 0},
        {"alpha": 0.7},
        {"top_share": 1},
        {"n_warmup_steps": -1},
        {"catch_up": "yes"},
        {"budget": 0},
        {"metric": ""},
    ],
)
def test_argument_errors_name_the_value_and_the_fix(bad):
    with pytest.raises(ValueError) as caught:
        ConvergencePruner(**bad)
    name, value = next(iter(bad.items()))
    assert f"{name}={value!r}" in str(caught.value) and "; fix: " in str(caught.value)


def test_a_training_value_reported_after_should_prune_warns():
    study = optuna.create_study(pruner=ConvergencePruner(budget=100, train_metric="train/loss"))
    for after in (False, True):
        trial = study.ask()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in range(1, 31):
                if not after:
                    report_training(trial, 10.0 / step, step)
                trial.report(20.0 / step, step)
                trial.should_prune()
                if after:
                    report_training(trial, 10.0 / step, step)
        said = [m for m in _ours(caught) if "training metric" in m]
        assert len(said) == (1 if after else 0), said
        study.tell(trial, 1.0)
    assert "fix: call report_training" in said[0]


def test_a_reused_pruner_keeps_only_the_current_studys_caches():
    pruner = ConvergencePruner(budget=60)
    for k in range(4):
        study = optuna.create_study(pruner=pruner)
        for i in range(3):
            trial = study.ask()
            for step, value in enumerate(_plateau(60, 10.0 * (1 + i), 10 * k + i), 1):
                trial.report(float(value), step)
                if trial.should_prune():
                    break
            study.tell(trial, float(value))
    assert len(pruner._levels) <= 3 and len(pruner._tracks) <= 3


def test_a_rising_training_metric_in_a_maximised_study_warns():
    # A training accuracy as train_metric (a maximised study's natural pick) read as a
    # training loss getting worse: overfitting could never be confirmed, in silence.
    said = {}
    rising, falling = (lambda k: 0.99 - 0.89 / (1 + k / 5)), (lambda k: 0.89 / (1 + k / 5))
    for name, train in (("acc", rising), ("loss", falling)):
        study = optuna.create_study(
            direction="maximize", pruner=ConvergencePruner(budget=100, train_metric="train/x")
        )
        trial = study.ask()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in range(1, 41):
                report_training(trial, train(step), step)
                trial.report(0.9 - 0.8 / (1 + step / 5), step)
                trial.should_prune()
        said[name] = [m for m in _ours(caught) if "must be a loss" in m]
    assert len(said["acc"]) == 1 and "fix:" in said["acc"][0] and said["loss"] == [], said


@pytest.mark.parametrize("how", ["batch counter", "never", "late", "right"])
def test_a_training_metric_never_found_at_a_judged_step_warns_once(how):
    """train_metric set, but the training value reported at a batch counter (step * 100)
    where trial.report has the eval step, or never: overfitting was judged without it and
    nothing said so (a probe, 2026-12-07). A late one keeps its own warning only."""
    study = optuna.create_study(pruner=ConvergencePruner(budget=100, train_metric="train/loss"))
    said = []
    for _ in range(2):
        trial = study.ask()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in range(1, 31):
                if how == "batch counter":
                    report_training(trial, 10.0 / step, step * 100)
                elif how == "right":
                    report_training(trial, 10.0 / step, step)
                trial.report(20.0 / step, step)
                trial.should_prune()
                if how == "late":
                    report_training(trial, 10.0 / step, step)
        said += [m for m in _ours(caught) if "has no training value" in m]
        study.tell(trial, 1.0)
    if how in ("late", "right"):
        assert said == []
    else:
        assert len(said) == 1, said  # once per study, not per trial
        assert "train_metric='train/loss' is set" in said[0]
        assert "with the same step as trial.report" in said[0]


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_a_study_loaded_again_per_call_keeps_the_caches_and_warns_once(tmp_path, kind):
    """An ask-and-tell server loads the study per request: a new storage object each time.
    Until 2026-12-07 the caches were keyed by that object: every call replayed the trial's
    whole history (139 ms a call at 119 reports) and the once-a-study warnings came again."""
    if kind == "sqlite":
        storage = f"sqlite:///{tmp_path / 'study.db'}"
    else:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = str(tmp_path / "study.journal")

        def storage():
            return JournalStorage(JournalFileBackend(path))

    def load(**kwargs):
        where = storage if isinstance(storage, str) else storage()
        return optuna.load_study(study_name="s", storage=where, **kwargs)

    optuna.create_study(study_name="s", storage=storage if kind == "sqlite" else storage())
    pruner = ConvergencePruner()  # no budget: its warning is due once for the study
    trial_id = load(pruner=pruner).ask()._trial_id
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step, value in enumerate(_plateau(40, 20.0, 3), 1):
            trial = optuna.trial.Trial(load(pruner=pruner), trial_id)
            trial.report(float(value), step)
            trial.should_prune()
            if step == 30:
                track = next(iter(pruner._tracks.values()))
    said = [m for m in _ours(caught) if "no budget" in m]
    assert len(said) == 1, said
    assert next(iter(pruner._tracks.values())) is track  # the detector went on, no replay


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # the callback's
def test_a_retry_of_a_stopped_trial_carries_no_stop_record():
    """Optuna's RetryHeartbeatStaleTrialCallback (RetryFailedTrialCallback before 4.9, for
    heartbeat storages) copies every system attribute of the failed trial onto its retry;
    until 2026-12-07 that included the stop record, so the new trial read as stopped before
    its first report (a probe)."""
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    n = 200
    study = _after_finished(n, 5.0, 4)
    hopeless = study.ask()
    for step, value in enumerate(_plateau(n, 40.0, 9)[:120], 1):
        hopeless.report(float(value), step)
    assert hopeless.should_prune()
    study.tell(hopeless, state=optuna.trial.TrialState.FAIL)  # its worker died there
    RetryHeartbeatStaleTrialCallback(max_retry=1)(study, study.trials[hopeless.number])
    retry = study.trials[-1]
    assert retry.state == optuna.trial.TrialState.WAITING
    assert retry.system_attrs.get("sweeper:stop") is not None  # copied, as Optuna does
    assert stop_verdict(retry) is None
    assert stop_verdict(study.ask()) is None  # the retry, running
    assert stop_verdict(study.trials[hopeless.number])["rule"] in ("converged", "cannot_catch_up")
