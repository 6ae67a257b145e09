"""PrunerScheduler: Ray's scheduler callbacks over the sweep's study, without Ray workers.

Trials and the controller are minimal stand-ins for Ray's objects (only the attributes the
scheduler reads); the study, pruner and detectors are the real ones.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from optuna.trial import TrialState
from ray.tune.schedulers import TrialScheduler

from sweeper.pruning import ConvergencePruner
from sweeper.space import space_from_dict
from sweeper.tune._scheduler import PrunerScheduler
from sweeper.tune._study import OUTCOME, SweepStudy

SPACE = {"train.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}}


class FakeTrial:
    """Stand-in for ray.tune.experiment.Trial: id, status, retry, and where Ray 2.60 keeps
    the error (``error_file``, appended by the driver; ``get_error()`` reads storage)."""

    def __init__(self, trial_id: str, recover: bool = False, error_file=None) -> None:
        self.trial_id = trial_id
        self.status = "RUNNING"
        self.error_file = error_file
        self._recover = recover

    def should_recover(self) -> bool:
        return self._recover

    def get_error(self):
        return None


class FakeController:
    def __init__(self, trials):
        self.trials = trials
        self.stopped = []

    def get_trials(self):
        return self.trials

    def stop_trial(self, trial):
        self.stopped.append(trial.trial_id)


def setup(
    tmp_path, pruner=True, max_steps=300, metrics=("val/mel",), modes=("min",), train_metric=None,
    warmup=0,
):  # fmt: skip
    study = SweepStudy(
        "s",
        str(tmp_path / "study.journal"),
        ["minimize" if m == "min" else "maximize" for m in modes],
        "random",
        0,
        space_from_dict(SPACE),
        4,
    )
    p = None
    if pruner:
        p = ConvergencePruner(
            budget=max_steps, catch_up=False, train_metric=train_metric, n_warmup_steps=warmup
        )
    return study, PrunerScheduler(study, list(metrics), list(modes), p, max_steps)


def start(study, scheduler, ray_id):
    study.ask(ray_id)
    trial = FakeTrial(ray_id)
    scheduler.on_trial_add(None, trial)
    return trial


def feed(scheduler, trial, steps, values, extra=None, train=None):
    decisions = []
    for i, (step, value) in enumerate(zip(steps, values, strict=True)):
        result = {"step": int(step), "val/mel": float(value), **(extra or {})}
        if train is not None:
            result["train/mel"] = float(train[i])
        decisions.append(scheduler.on_trial_result(None, trial, result))
        if decisions[-1] == TrialScheduler.STOP:
            break
    return decisions


def test_nan_stops_at_once_as_diverged_and_ends_pruned(tmp_path):
    study, sched = setup(tmp_path)
    trial = start(study, sched, "a")
    assert feed(sched, trial, [5, 10], [40.0, 35.0]) == ["CONTINUE"] * 2
    assert sched.on_trial_result(None, trial, {"step": 15, "loss/g/mel": math.nan}) == "STOP"
    sched.on_trial_complete(None, trial, {"step": 15})
    done = study.find("a")
    assert done.state == TrialState.PRUNED
    assert (
        done.user_attrs[OUTCOME]["rule"] == "diverged" and done.user_attrs[OUTCOME]["step"] == 15
    )


def test_an_undefined_side_metric_is_not_divergence(tmp_path):
    study, sched = setup(tmp_path)
    trial = start(study, sched, "a")
    result = {"step": 5, "val/mel": 40.0, "val/f0_rmse_cents": math.nan, "grad_norm_g": math.inf}
    assert sched.on_trial_result(None, trial, result) == TrialScheduler.CONTINUE


def test_repeated_steps_after_a_restart_are_ignored(tmp_path):
    study, sched = setup(tmp_path)
    trial = start(study, sched, "a")
    feed(sched, trial, [5, 10, 15], [40.0, 35.0, 33.0])
    feed(sched, trial, [10, 15], [99.0, 99.0])  # the retry repeats them with other values
    assert study.find("a").intermediate_values == {5: 40.0, 10: 35.0, 15: 33.0}


@pytest.mark.parametrize("mode", ["min", "max"])
def test_step_0_is_never_the_best(tmp_path, mode):
    """Step 0 is the untrained (or base) model, and no checkpoint of the trial holds it: a
    best there made the trial unrankable (an f0 error lowest before training)."""
    study, sched = setup(tmp_path, pruner=False, modes=(mode,))
    trial = start(study, sched, "a")
    first, later = (10.0, [30.0, 20.0, 25.0]) if mode == "min" else (90.0, [30.0, 50.0, 40.0])
    feed(sched, trial, [0, 5, 10, 15], [first, *later])
    sched.on_trial_complete(None, trial, {"step": 300})
    done = study.find("a")
    assert done.state == TrialState.COMPLETE
    assert done.value == later[1] and done.user_attrs["best"]["step"] == 10
    # A restarted driver rebuilds the best from the study the same way.
    _, again = setup(tmp_path, pruner=False, modes=(mode,))
    assert again._entry(FakeTrial("a")).best == (later[1] if mode == "min" else -later[1])


def test_an_objective_metric_never_reported_is_named_when_the_trial_ends(tmp_path):
    """loss/d/total with the GAN off: every trial ran its budget and ended FAIL with only
    'ran to its budget' to say why."""
    study, sched = setup(tmp_path, pruner=False, metrics=("loss/d/total",))
    trial = start(study, sched, "a")
    for step in (0, 5, 10):
        result = {"step": step, "val/mel": 30.0, "loss/g/mel": 20.0, "time_total_s": 1.0}
        sched.on_trial_result(None, trial, result)
    sched.on_trial_complete(None, trial, {"step": 10, "config/params/x": 1})
    done = study.find("a")
    message = done.user_attrs[OUTCOME]["message"]
    assert done.state == TrialState.FAIL and done.user_attrs[OUTCOME]["rule"] == "error"
    assert "without reporting 'loss/d/total' (it reported val/mel, loss/g/mel)" in message


def test_what_a_trial_reported_lists_held_out_metrics_first():
    """The list was the first 8 names sorted: config/..., grad_norm..., and no val/*."""
    from sweeper.tune._scheduler import _reported

    seen = {"config/params/a", "grad_norm_d", "grad_norm_g", "learning_rate", "loss/g/kl",
            "loss/g/mel", "loss/g/total", "train/mel", "val/mel", "val/vuv_error"}  # fmt: skip
    assert _reported(seen, limit=4) == "val/mel, val/vuv_error, train/mel, loss/g/kl and 5 more"


def test_a_trial_its_trainer_ended_without_a_value_is_an_error_with_its_reason(tmp_path):
    """train.epochs 1: the trainer ended at step 0; the table said "budget" and counted no
    error, and the run's end pointed at errors that were nowhere."""
    study, sched = setup(tmp_path, pruner=False)
    trial = start(study, sched, "a")
    sched.on_trial_result(None, trial, {"step": 0, "val/mel": 40.0, "loss/g/mel": 9.0})
    sched.on_trial_complete(None, trial, {"step": 0})
    done = study.find("a")
    outcome = done.user_attrs[OUTCOME]
    assert done.state == TrialState.FAIL and outcome["rule"] == "error", outcome
    assert "ended by its trainer at step 0, before the budget of 300 steps" in outcome["message"]
    assert "no value to rank" in outcome["message"] and "train.epochs" in outcome["message"]
    # One that ended early with a value is still ranked (COMPLETE, "budget").
    ranked = start(study, sched, "b")
    feed(sched, ranked, [0, 5], [40.0, 30.0])
    sched.on_trial_complete(None, ranked, {"step": 5})
    assert study.find("b").state == TrialState.COMPLETE
    assert study.find("b").user_attrs[OUTCOME]["rule"] == "budget"


def test_a_second_objective_never_reported_is_named_too(tmp_path):
    """Two objectives, the second never reported: the trial ended FAIL saying only 'ran to
    its budget', though it had reported the first all along."""
    study, sched = setup(tmp_path, pruner=False, metrics=("val/mel", "val/f0"), modes=("min",) * 2)
    trial = start(study, sched, "a")
    for step in (0, 5, 10):
        sched.on_trial_result(None, trial, {"step": step, "val/mel": 30.0 - step})
    sched.on_trial_complete(None, trial, {"step": 10})
    done = study.find("a")
    assert done.state == TrialState.FAIL and done.user_attrs[OUTCOME]["rule"] == "error"
    message = done.user_attrs[OUTCOME]["message"]
    assert "without reporting 'val/f0' (it reported val/mel)" in message


def test_a_restarted_driver_does_not_call_a_reported_metric_never_reported(tmp_path):
    """After a driver restart the scheduler's record of the names a trial reported was
    empty: a restored trial that then sent only losses was told it never reported val/mel."""
    study, sched = setup(tmp_path, pruner=False)
    trial = start(study, sched, "a")
    for step in (5, 10):
        sched.on_trial_result(None, trial, {"step": step, "val/mel": 30.0 - step})
    _, again = setup(tmp_path, pruner=False)  # a new driver over the same study
    again.on_trial_result(None, trial, {"step": 12, "loss/g/mel": 20.0})
    again.on_trial_complete(None, trial, {"step": 12})
    done = study.find("a")
    assert done.state == TrialState.COMPLETE, done.user_attrs[OUTCOME]
    assert "without reporting" not in done.user_attrs[OUTCOME]["message"]


def test_a_flat_noisy_curve_converges_and_completes_with_its_best_value(tmp_path):
    study, sched = setup(tmp_path)
    trial = start(study, sched, "a")
    rng = np.random.default_rng(0)
    steps = np.arange(5, 301, 5)
    values = 20 * (1 + 0.03 * rng.standard_normal(steps.size))
    decisions = feed(sched, trial, steps, values)
    assert decisions[-1] == TrialScheduler.STOP
    stop_step = int(steps[len(decisions) - 1])
    assert stop_step < 300
    sched.on_trial_complete(None, trial, {"step": stop_step})
    done = study.find("a")
    assert done.state == TrialState.COMPLETE
    assert done.user_attrs[OUTCOME]["rule"] == "converged"
    assert done.value == pytest.approx(min(values[: len(decisions)]))


def test_a_steadily_improving_curve_is_not_stopped_while_it_has_2_percent_left(tmp_path):
    study, sched = setup(tmp_path, max_steps=300)
    trial = start(study, sched, "a")
    steps = np.arange(5, 301, 5)
    values = 60 * (steps / 5.0) ** -0.3
    decisions = feed(sched, trial, steps, values)
    stopped_at = len(decisions) - 1
    left = values[stopped_at] / values[-1] - 1  # improvement still to come at the stop
    assert decisions[-1] == TrialScheduler.CONTINUE or left < 0.02, (steps[stopped_at], left)
    sched.on_trial_complete(None, trial, {"step": int(steps[stopped_at])})
    done = study.find("a")
    assert done.state == TrialState.COMPLETE
    assert done.user_attrs[OUTCOME]["rule"] in ("budget", "converged")


def test_no_pruner_still_stops_nan_but_nothing_else(tmp_path):
    study, sched = setup(tmp_path, pruner=False)
    trial = start(study, sched, "a")
    assert TrialScheduler.STOP not in feed(sched, trial, np.arange(5, 301, 5), [20.0] * 60)
    other = start(study, sched, "b")
    assert feed(sched, other, [5], [math.inf]) == [TrialScheduler.STOP]


def test_errors_fail_only_when_ray_gives_up(tmp_path):
    from ray.tune.experiment import Trial

    # What the scheduler reads exists on Ray's Trial (error_msg, read before, did not).
    assert isinstance(Trial.error_file, property) and callable(Trial.get_error)
    assert "error_msg" not in vars(Trial)
    study, sched = setup(tmp_path)
    retried = start(study, sched, "a")
    retried._recover = True
    sched.on_trial_error(None, retried)
    assert study.find("a").state == TrialState.RUNNING
    final = start(study, sched, "b")
    final.error_file = str(tmp_path / "error.txt")
    (tmp_path / "error.txt").write_text(  # as Trial.handle_error appends each failure
        "Failure # 1 (occurred at 2026-12-06_10-00-00)\nTraceback ...\n"
        "RuntimeError: CUDA out of memory\n\n"
        "Failure # 4 (occurred at 2026-12-06_10-00-09)\nTraceback ...\n"
        "sweeper.errors.InputError: train.eval_interval must be >= 1; fix: use 1+\n"
    )
    sched.on_trial_error(None, final)
    done = study.find("b")
    assert done.state == TrialState.FAIL
    outcome = done.user_attrs[OUTCOME]
    assert outcome["rule"] == "error"
    assert outcome["message"] == "InputError: train.eval_interval must be >= 1; fix: use 1+"
    bare = start(study, sched, "c")  # no error file (storage gone): a default reason
    sched.on_trial_error(None, bare)
    assert study.find("c").user_attrs[OUTCOME]["message"] == "the trial errored"


def test_a_restarted_driver_reattaches_and_never_reruns_a_finished_trial(tmp_path):
    study, sched = setup(tmp_path)
    trial = start(study, sched, "a")
    feed(sched, trial, [5, 10], [40.0, 35.0])
    sched.on_trial_complete(None, trial, {"step": 300})
    running = start(study, sched, "b")
    feed(sched, running, [5, 10, 15], [40.0, 35.0, 33.0])
    fresh = pickle.loads(pickle.dumps(sched))  # what tuner.pkl gives a resumed driver
    again, resumed = FakeTrial("a"), FakeTrial("b")
    again.status = resumed.status = "PENDING"
    controller = FakeController([again, resumed])
    fresh.choose_trial_to_run(controller)
    assert controller.stopped == ["a"]  # finished in the study: not trained again
    assert fresh.on_trial_result(None, resumed, {"step": 15, "val/mel": 99.0}) == "CONTINUE"
    assert study.find("b").intermediate_values[15] == 33.0  # the repeat was ignored
    fresh.on_trial_result(None, resumed, {"step": 20, "val/mel": 32.0})
    assert study.find("b").intermediate_values[20] == 32.0


def test_several_objectives_judge_the_first_and_tell_all(tmp_path):
    study, sched = setup(tmp_path, metrics=("val/mel", "val/f0_rmse_cents"), modes=("min", "min"))
    trial = start(study, sched, "a")
    rng = np.random.default_rng(1)
    steps = np.arange(5, 301, 5)
    decisions = []
    for step in steps:
        result = {"step": int(step), "val/mel": 20 * (1 + 0.03 * rng.standard_normal())}
        result["val/f0_rmse_cents"] = 50.0
        decisions.append(sched.on_trial_result(None, trial, result))
        if decisions[-1] == "STOP":
            break
    assert decisions[-1] == "STOP"
    sched.on_trial_complete(None, trial, {"step": int(steps[len(decisions) - 1])})
    done = study.find("a")
    assert done.state == TrialState.COMPLETE and done.values[1] == 50.0


def test_several_objectives_keep_the_warm_up_but_divergence_stops_in_it(tmp_path):
    """n_warmup_steps 250: the several-objectives detector stopped a flat curve as converged
    long before it (the single-objective pruner waited); a NaN still stops at once."""
    metrics, modes = ("val/mel", "val/vuv_error"), ("min", "max")
    rng = np.random.default_rng(1)
    steps = np.arange(5, 301, 5)
    values = 20 * (1 + 0.03 * rng.standard_normal(steps.size))
    stops = {}
    for warmup in (0, 250):
        study, sched = setup(tmp_path / str(warmup), metrics=metrics, modes=modes, warmup=warmup)
        decisions = feed(sched, start(study, sched, "a"), steps, values, {"val/vuv_error": 0.1})
        stops[warmup] = int(steps[len(decisions) - 1])
        assert decisions[-1] == "STOP"
        assert study.find("a").user_attrs[OUTCOME]["rule"] == "converged"
    assert stops[0] < 250 <= stops[250], stops
    study, sched = setup(tmp_path / "nan", metrics=metrics, modes=modes, warmup=250)
    trial = start(study, sched, "a")
    assert feed(sched, trial, [5, 10], [20.0, math.nan], {"val/vuv_error": 0.1})[-1] == "STOP"
    assert study.find("a").user_attrs[OUTCOME]["rule"] == "diverged"


@pytest.mark.parametrize("metrics", [("val/mel",), ("val/mel", "val/vuv_error")])
def test_the_training_metric_reaches_the_overfitting_rule(tmp_path, metrics):
    # A held-out U-curve while training keeps falling: overfitting, said as Prechelt's; the
    # training values live in the study (a driver restart replays them). Two objectives:
    # the scheduler's own detector on the first metric gets them too.
    steps = np.arange(5, 601, 5)
    x = steps / 600
    rng = np.random.default_rng(1)
    val = (10 + 40 * (x - 0.4) ** 2) * (1 + 0.03 * rng.standard_normal(x.size))
    train = 8 + 30 * np.exp(-x / 0.3)
    modes = ("min",) * len(metrics)
    study, sched = setup(tmp_path, max_steps=600, metrics=metrics, modes=modes,
                         train_metric="train/mel")  # fmt: skip
    trial = start(study, sched, "a")
    extra = {m: 0.1 for m in metrics[1:]}
    decisions = feed(sched, trial, steps, val, extra, train)
    assert decisions[-1] == TrialScheduler.STOP
    outcome = study.find("a").user_attrs[OUTCOME]
    assert outcome["rule"] == "overfitting", outcome
    assert "while train/mel kept improving" in outcome["message"]
    assert study.find("a").system_attrs["sweeper:train:5"] == pytest.approx(train[0])


@pytest.mark.parametrize("order", [0, 1])
def test_a_nan_f0_objective_is_no_value_at_that_step_not_divergence(tmp_path, order):
    """No voiced frame makes val/f0_rmse_cents NaN: as an objective it stopped the trial as
    diverged at step 2, though every loss was finite. Now the step has no value to rank."""
    metrics = ("val/mel", "val/f0_rmse_cents")[:: 1 if order == 0 else -1]
    study, sched = setup(tmp_path, pruner=False, metrics=metrics, modes=("min", "min"))
    trial = start(study, sched, "a")
    reports = [(2, 30.0, math.nan), (4, 25.0, 80.0), (6, 20.0, math.nan)]
    for step, mel, f0 in reports:
        result = {"step": step, "val/mel": mel, "val/f0_rmse_cents": f0, "loss/g/mel": 9.0}
        assert sched.on_trial_result(None, trial, result) == "CONTINUE", step
    best = study.find("a").user_attrs["best"]
    assert best["step"] == 4 and best["values"]["val/f0_rmse_cents"] == 80.0
    nan_first = {2, 6} if order == 1 else set()
    assert nan_first.isdisjoint(study.find("a").intermediate_values)
    bad = {"step": 8, "val/mel": 20.0, "val/f0_rmse_cents": math.nan, "loss/g/mel": math.nan}
    assert sched.on_trial_result(None, trial, bad) == "STOP"  # a NaN loss still diverges
    assert study.find("a").user_attrs[OUTCOME]["rule"] == "diverged"


def test_a_leader_spared_a_plateau_stop_says_so_when_it_ends_on_its_budget(tmp_path):
    # With catch_up on, a trial that may lead takes no plateau stop; it ran to its budget and
    # read "ran to its budget", its flat (or overfitting) verdict gone (a probe, 2026-12-07).
    study, _ = setup(tmp_path)
    pruner = ConvergencePruner(budget=300, metric="val/mel")
    sched = PrunerScheduler(study, ["val/mel"], ["min"], pruner, 300)
    trial = start(study, sched, "a")
    rng = np.random.default_rng(0)
    steps = np.arange(5, 301, 5)
    decisions = feed(sched, trial, steps, 20 * (1 + 0.03 * rng.standard_normal(steps.size)))
    assert TrialScheduler.STOP not in decisions  # alone, it leads: never stopped
    sched.on_trial_complete(None, trial, {"step": 300})
    outcome = study.find("a").user_attrs[OUTCOME]
    assert outcome["rule"] == "budget"
    assert outcome["message"].startswith("ran to its budget, kept as it could still lead")
    assert "val/mel has converged: at most" in outcome["message"]
