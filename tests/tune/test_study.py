"""SweepStudy: sampling the search space through Optuna, joining Ray and Optuna trials."""

from __future__ import annotations

import pickle

import pytest
from optuna.trial import TrialState

from sweeper.space import space_from_dict
from sweeper.tune._study import BEST, CONFIG, OUTCOME, Outcome, SweepStudy

SPACE = {
    "train.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "train.batch_size": {"type": "int", "low": 2, "high": 8, "step": 2},
    "train.betas": {"type": "categorical", "choices": [[0.8, 0.99], [0.5, 0.9]]},
    "train.use_gan": {"type": "categorical", "choices": [True, False]},
    "model.disc_channel_div": {
        "type": "int",
        "low": 1,
        "high": 4,
        "when": {"train.use_gan": True},
    },
    "train.lr_decay": {"type": "fixed", "value": 1.0},
}


def make(tmp_path, kind="tpe", seed=0, num_trials=8, space=SPACE, directions=("minimize",)):
    return SweepStudy(
        "s",
        str(tmp_path / "study.journal"),
        list(directions),
        kind,
        seed,
        space_from_dict(space),
        num_trials,
    )


def test_ask_samples_every_active_parameter_within_its_range(tmp_path):
    study = make(tmp_path)
    for i in range(12):
        config = study.ask(f"ray{i}")
        assert 1e-4 <= config["train.learning_rate"] <= 1e-2
        assert config["train.batch_size"] in (2, 4, 6, 8)
        assert config["train.betas"] in ([0.8, 0.99], [0.5, 0.9])  # lists again, for so-vits
        assert config["train.lr_decay"] == 1.0
        assert ("model.disc_channel_div" in config) == config["train.use_gan"]
    trials = study.study.trials
    assert len(trials) == 12
    assert all(t.user_attrs[CONFIG] == study.ask(t.user_attrs["ray_trial_id"]) for t in trials)
    assert len(study.study.trials) == 12  # asking again for a known Ray trial adds nothing


def test_same_seed_same_first_suggestions_and_a_resumed_study_moves_on(tmp_path):
    a = [make(tmp_path / "a", seed=3).ask(f"r{i}") for i in range(3)]
    b = [make(tmp_path / "b", seed=3).ask(f"r{i}") for i in range(3)]
    assert a == b
    resumed = make(tmp_path / "a", seed=3)  # a new driver on the same journal
    assert resumed.ask("r0") == a[0]  # known trial: its own config
    assert resumed.ask("r9") not in a  # new trial: not the seed's first suggestion again


def test_opening_an_existing_study_writes_nothing(tmp_path):
    make(tmp_path).ask("r0")
    journal = tmp_path / "study.journal"
    before = journal.read_bytes()
    reader = make(tmp_path)  # what `sweeper status` and `summarize` do
    assert len(reader.study.trials) == 1
    assert journal.read_bytes() == before  # read-only storage stays readable


def test_grid_enqueues_each_point_once_in_a_seeded_order(tmp_path):
    space = {
        "train.learning_rate": {"type": "categorical", "choices": [1e-3, 2e-3, 4e-3]},
        "train.betas": {"type": "categorical", "choices": [[0.8, 0.99], [0.5, 0.9]]},
    }
    study = make(tmp_path, kind="grid", num_trials=6, space=space)
    configs = [study.ask(f"r{i}") for i in range(6)]
    points = {(c["train.learning_rate"], tuple(c["train.betas"])) for c in configs}
    assert len(points) == 6
    again = make(tmp_path / "again", kind="grid", num_trials=6, space=space)
    assert [again.ask(f"r{i}") for i in range(6)] == configs


def test_tell_complete_uses_the_best_values_and_is_idempotent(tmp_path):
    study = make(tmp_path, directions=("minimize", "maximize"))
    study.ask("r0")
    trial = study.find("r0")
    study.report(trial._trial_id, 5, 30.0)
    best = {"step": 5, "metrics": ["val/mel", "mos"], "values": {"val/mel": 30.0, "mos": 3.1}}
    study.set_attr(trial._trial_id, BEST, best)
    study.tell(trial._trial_id, Outcome("converged", "flat", 20, 5, 30.0))
    study.tell(trial._trial_id, Outcome("error", "late", None))  # after a restart: ignored
    done = study.find("r0")
    assert done.state == TrialState.COMPLETE and done.values == [30.0, 3.1]
    assert done.user_attrs[OUTCOME]["rule"] == "converged"


@pytest.mark.parametrize(
    ("rule", "state"),
    [
        ("converged", TrialState.COMPLETE),
        ("budget", TrialState.COMPLETE),
        ("overfitting", TrialState.PRUNED),
        ("diverged", TrialState.PRUNED),
        ("cannot_catch_up", TrialState.PRUNED),
        ("error", TrialState.FAIL),
    ],
)
def test_outcome_states(tmp_path, rule, state):
    study = make(tmp_path)
    study.ask("r0")
    trial = study.find("r0")
    study.report(trial._trial_id, 5, 30.0)
    best = {"step": 5, "metrics": ["val/mel"], "values": {"val/mel": 30.0}}
    study.set_attr(trial._trial_id, BEST, best)
    study.tell(trial._trial_id, Outcome(rule, "why", 10, 5, 30.0))
    assert study.find("r0").state == state


def test_complete_without_a_finite_value_is_a_failure(tmp_path):
    study = make(tmp_path)
    study.ask("r0")
    trial = study.find("r0")
    study.tell(trial._trial_id, Outcome("budget", "ran to its budget", 10))
    assert study.find("r0").state == TrialState.FAIL
    # ... and says so: the table showed "budget" and counted no error.
    outcome = study.find("r0").user_attrs[OUTCOME]
    assert outcome["rule"] == "error", outcome
    assert outcome["message"] == "ran to its budget with no value of every objective to rank"


def test_pickles_as_an_address_and_rebinds_to_a_moved_folder(tmp_path):
    study = make(tmp_path)
    study.ask("r0")
    copy = pickle.loads(pickle.dumps(study))
    assert copy._study is None and copy.find("r0") is not None
    moved = tmp_path / "moved"
    moved.mkdir()
    (tmp_path / "study.journal").rename(moved / "study.journal")
    copy = pickle.loads(pickle.dumps(study))
    copy.rebind(moved)
    assert copy.find("r0") is not None


def test_sweeps_of_one_space_under_two_names_keep_apart_in_a_shared_storage(tmp_path):
    """The study was named after the space's name: `--name a` and `--name b` of one file
    with a shared `storage:` were one study (b counted a's trials; a max-mode copy joined
    the min study silently)."""
    import json

    from sweeper.config import load_sweep
    from sweeper.errors import InputError
    from sweeper.testing import tiny_sweep
    from sweeper.tune._study import META_FILE, STUDY_KEY, study_name

    space = tiny_sweep(
        "shared", storage=str(tmp_path / "shared.journal"), sampler={"kind": "random", "seed": 0}
    )
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(space))
    cfg = load_sweep(path)
    folders = {}
    for name in ("a", "b"):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        (folders[name] / META_FILE).write_text(json.dumps({STUDY_KEY: name}))
    first = SweepStudy.for_sweep(cfg, folders["a"])
    first.check_new()
    first.ask("ray-a")
    second = SweepStudy.for_sweep(cfg, folders["b"])
    second.check_new()  # its own study, though the storage and the space's name are shared
    second.ask("ray-b")
    assert (first.name, second.name) == ("a", "b")
    assert len(first.study.trials) == len(second.study.trials) == 1
    # Another folder's start under a name the storage holds, with trials, is refused (a
    # sweep `a` under another --storage root); a restart of a's own start that never ran
    # a trial ("starting over") is not.
    elsewhere = tmp_path / "elsewhere" / "a"
    with pytest.raises(InputError, match=r"already holds a study named 'a' \(1 trial"):
        SweepStudy.for_sweep(cfg, elsewhere, "a").check_new()
    SweepStudy.for_sweep(cfg, folders["a"]).check_new()
    # A folder from before the study's name was recorded keeps the space's name.
    old = tmp_path / "old"
    old.mkdir()
    (old / META_FILE).write_text(json.dumps({"source": "s.yaml"}))
    assert study_name(cfg, old) == "shared" and study_name(cfg, tmp_path / "none") == "shared"


def test_the_searcher_ends_when_the_study_holds_every_trial_whatever_ray_counted(tmp_path):
    from ray.tune.search import Searcher

    from sweeper.tune._searcher import SpaceSearcher
    from sweeper.tune._study import REUSE

    sweep = make(tmp_path, num_trials=2)
    searcher = SpaceSearcher(sweep)
    first, second = searcher.suggest("a"), searcher.suggest("b")
    # A resume whose Ray count was lost (a cut search state) asks again: no third trial.
    assert searcher.suggest("c") == Searcher.FINISHED and len(sweep.study.trials) == 2
    assert searcher.suggest("a") == first  # a known Ray trial gets its own parameters
    # One asked as the driver died, never known to Ray (see _recover.mend): handed on once.
    sweep.set_attr(sweep.find("b")._trial_id, REUSE, True)
    assert sweep.created() == 1
    assert searcher.suggest("d") == second and sweep.find("d").number == 1
    assert searcher.suggest("e") == Searcher.FINISHED and len(sweep.study.trials) == 2
