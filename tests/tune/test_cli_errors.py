"""One-line errors of run/resume/status before any Ray starts."""

from __future__ import annotations

import pytest
from sweep_tools import write_sweep

from sweeper.cli import main


def test_resume_and_status_refuse_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    for command in ("resume", "status"):
        assert main([command, str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "is not a sweep folder" in err and "fix:" in err


def test_run_refuses_to_overwrite_a_sweep_folder(tmp_path, capsys):
    space = write_sweep(tmp_path)
    (tmp_path / "sweeps" / "t").mkdir(parents=True)
    (tmp_path / "sweeps" / "t" / "sweep.yaml").write_text("name: t\n")
    (tmp_path / "sweeps" / "t" / "trial_0a1b").mkdir()  # a trial ran there (else: reused)
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err.strip()
    assert "already holds a sweep" in err and "sweeper resume" in err and "--name t-2" in err


def test_run_names_an_unknown_trainer_key_with_its_line(tmp_path, capsys):
    params = {"train.learning_rat": {"type": "float", "low": 1e-4, "high": 1e-2}}
    space = write_sweep(tmp_path, parameters=params, sampler={"kind": "tpe", "seed": 0})
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err.strip()
    assert "train.learning_rat" in err and "did you mean 'train.learning_rate'" in err
    assert f"{space.name}:" in err and not (tmp_path / "sweeps").exists()


def test_run_refuses_a_bucket_it_cannot_open_and_a_bad_yaml(tmp_path, capsys):
    space = write_sweep(tmp_path)
    assert main(["run", str(space), "--storage", "s3://bucket/sweeps"]) == 2
    assert "s3://bucket/sweeps" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(space.read_text().replace("max_steps: 30", "max_steps: -3"))
    assert main(["run", str(bad), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.yaml:" in err and "max_steps" in err and "-3" in err


def _sweep_folder(tmp_path):
    """A sweep folder as `sweeper run` leaves it (sweep.yaml and a journal with one trial that
    ran to its budget), made without Ray."""
    import shutil

    from sweeper.config import load_sweep
    from sweeper.tune._study import BEST, Outcome, SweepStudy

    folder = tmp_path / "sweeps" / "t"
    folder.mkdir(parents=True)
    shutil.copy(write_sweep(tmp_path), folder / "sweep.yaml")
    study = SweepStudy.for_sweep(load_sweep(folder / "sweep.yaml"), folder)
    study.ask("abc")
    trial_id = study.find("abc")._trial_id
    best = {"step": 30, "metrics": ["val/mel"], "values": {"val/mel": 30.0}}
    study.set_attr(trial_id, BEST, best)
    study.tell(trial_id, Outcome("budget", "ran to its budget", 30))
    (folder / "trial_abc").mkdir()
    return folder


def test_a_lost_journal_is_refused_and_never_replaced_by_an_empty_study(tmp_path, capsys):
    folder = _sweep_folder(tmp_path)
    (folder / "study.journal").unlink()
    out = str(tmp_path / "best.json")
    for argv in (["status"], ["summarize"], ["export-best", "--out", out], ["resume"]):
        assert main([argv[0], str(folder), *argv[1:]]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "has no study journal (study.journal)" in err, err
        assert str(folder) in err and "fix:" in err
        assert not (folder / "study.journal").exists(), argv  # status used to create it


def test_status_only_reads(tmp_path, capsys, monkeypatch):
    folder = _sweep_folder(tmp_path)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    folder.chmod(0o555)  # (root writes there anyway: the check below is what proves it)
    try:
        import sweeper.tune.storage as storage

        def refuse(path, what):
            raise AssertionError(f"status asked for a writable folder: {what}")

        monkeypatch.setattr(storage, "_writable_folder", refuse)
        assert main(["status", str(folder)]) == 0
        printed = capsys.readouterr().out
        # The grid's other point, queued and never started (until 2026-12-07 "unfinished").
        assert "trials: 2 (1 budget, 1 not started)" in printed
    finally:
        folder.chmod(0o755)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("name", ["..", "../x", "/tmp/abs", "x/y", ".hidden", "a b", ""])
def test_run_refuses_a_name_that_leaves_the_storage_folder(tmp_path, capsys, name):
    space = write_sweep(tmp_path)
    storage = tmp_path / "store" / "sweeps"
    assert main(["run", str(space), "--storage", str(storage), "--name", name]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--name must be a folder-safe name" in err
    assert repr(name) in err and "fix:" in err and "--name t-2" in err  # (was "{cfg.name}-2")
    assert not (tmp_path / "store").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("scheme", ["ftp", "gcs"])
def test_run_refuses_a_storage_scheme_it_does_not_know(tmp_path, capsys, monkeypatch, scheme):
    """ftp://x/y (or gcs://, a slip for gs://) became a local folder named 'ftp:/x/y'."""
    space = write_sweep(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(space), "--storage", f"{scheme}://bucket/sweeps"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"uses scheme {scheme!r}" in err and "gs://" in err
    assert not (tmp_path / f"{scheme}:").exists()


def test_a_missing_folder_is_said_to_not_exist(tmp_path, capsys):
    gone = tmp_path / "nope"
    for argv in (["status"], ["summarize"], ["export-best", "--out", "x.json"], ["resume"]):
        assert main([argv[0], str(gone), *argv[1:]]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and f"'{gone}' does not exist" in err and "fix:" in err


@pytest.mark.parametrize(
    ("param", "words"),
    [
        # A quoted "false" is a non-empty string: it switched the GAN on, in silence.
        ({"train.use_gan": {"type": "fixed", "value": "false"}}, "train.use_gan must be a bool"),
        ({"train.eval_interval": {"type": "fixed", "value": 0}}, "must be >= 1"),
        ({"train.batch_size": {"type": "categorical", "choices": [2, 4.0]}}, "value 4.0"),
        ({"model.p_dropout": {"type": "fixed", "value": False}}, "p_dropout must be a float"),
        # The trainer's own message had no fix.
        (
            {"train.learning_rate": {"type": "fixed", "value": -0.001}},
            "must be a finite number > 0, got learning_rate=-0.001; fix:",
        ),
    ],
)
def test_run_refuses_a_value_the_trainer_would_refuse_with_its_line(
    tmp_path, capsys, param, words
):
    # Until 2026-12-06 these passed the load and failed in every trial, one by one.
    space = write_sweep(tmp_path, parameters=param, sampler={"kind": "tpe", "seed": 0})
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and words in err and "fix:" in err
    assert f"{space.name}:" in err and not (tmp_path / "sweeps").exists()


def test_a_sweep_yaml_edited_after_the_start_is_refused_naming_what_changed(tmp_path, capsys):
    # Resume sampled the old range, summarize ranked by the new `modes: [max]`: in silence.
    import json

    folder = _sweep_folder(tmp_path)
    text = (folder / "sweep.yaml").read_text()
    (folder / "sweep.json").write_text(json.dumps({"space": text}))
    import yaml

    data = yaml.safe_load(text)
    data["summary"] = {"mode": "lexicographic", "metrics": ["val/mel"]}  # made to be edited
    (folder / "sweep.yaml").write_text(yaml.safe_dump(data) + "\n# a note\n")
    assert main(["status", str(folder)]) == 0
    capsys.readouterr()
    data["objective"]["modes"] = ["max"]
    (folder / "sweep.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    out = str(tmp_path / "best.json")
    for argv in (["status"], ["summarize"], ["export-best", "--out", out], ["resume"]):
        assert main([argv[0], str(folder), *argv[1:]]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "was edited after the sweep started" in err, err
        assert "objective.modes" in err and "--name t-2" in err


def test_trial_folders_missing_from_the_journal_are_warned_of_and_block_resume(
    tmp_path, capsys
):
    # A journal cut mid-line read as a smaller sweep: another winner, exported, exit 0.
    folder = _sweep_folder(tmp_path)
    assert main(["status", str(folder)]) == 0
    assert "warning" not in capsys.readouterr().err
    (folder / "trial_zzz").mkdir()
    assert main(["status", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "trial_zzz" in err and "cut short" in err
    assert main(["resume", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "would train them again" in err and "fix:" in err


@pytest.mark.parametrize("state", [None, "{not json"])
def test_resume_without_a_readable_run_state_is_refused(tmp_path, capsys, state):
    # Ray printed its traceback and started the trials over: a 13th trial of 12 ran.
    folder = _sweep_folder(tmp_path)
    if state is not None:
        (folder / "experiment_state-2026-12-06_10-00-00.json").write_text(state)
    assert main(["resume", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no readable Ray run state" in err and "fix:" in err


def test_every_reader_warns_of_a_journal_whose_last_write_was_cut(tmp_path, capsys):
    folder = _sweep_folder(tmp_path)
    with (folder / "study.journal").open("ab") as journal:
        journal.write(b'{"op_code": 6, "worker_id": "ab')  # a crash mid-append
    out = str(tmp_path / "best.json")
    for argv in (["status"], ["summarize"], ["export-best", "--out", out]):
        main([argv[0], str(folder), *argv[1:]])
        err = capsys.readouterr().err
        assert err.count("ends in a partial line (31 bytes") == 1, (argv, err)
        assert f"`sweeper resume {folder}` repairs the journal" in err


def test_a_pruner_with_too_few_evaluations_to_judge_is_named(tmp_path):
    """9 evaluations per trial: the pruner could never judge a plateau (20) or overfitting
    (40), and a sweep ran every trial to its budget with '0 % saved' and no word why."""
    from sweeper.config import load_sweep
    from sweeper.testing import tiny_sweep
    from sweeper.tune._checks import few_points_note

    def note(max_steps, pruner, interval=5):
        sweep = tiny_sweep(budget={"max_steps": max_steps, "num_trials": 1}, pruner=pruner)
        sweep["parameters"]["train.eval_interval"]["value"] = interval
        return few_points_note(load_sweep(write_sweep(tmp_path, **sweep)))

    text = note(45, {"n_warmup_steps": 5})
    assert text.startswith("9 held-out evaluations per trial (budget.max_steps 45 / ")
    assert "neither a plateau nor overfitting" in text and "eval_interval of at most 1" in text
    assert "a plateau only" in note(150, {"n_warmup_steps": 5})  # 30 points
    assert note(300, {"n_warmup_steps": 5}) is None  # 60 points: both judged
    assert note(45, None) is None  # no pruner, nothing to judge


def test_a_short_sweep_says_its_note_once_not_the_plain_optuna_warning_too(tmp_path):
    """A sweep of max_steps under 20 also got ConvergencePruner's warning, which counts
    steps as reports and names plain-Optuna fixes ("use another pruner"), beside its own
    note; the sweep builds its pruner with that warning left out, and only that one."""
    import warnings

    from sweeper.config import load_sweep
    from sweeper.testing import tiny_sweep
    from sweeper.tune._run import _study_and_parts

    sweep = tiny_sweep(budget={"max_steps": 10, "num_trials": 1}, pruner={"n_warmup_steps": 5})
    cfg = load_sweep(write_sweep(tmp_path, **sweep))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler = _study_and_parts(cfg, tmp_path / "sweeps" / "t")[2]
        warnings.warn("ConvergencePruner: budget=10 (a later one still shows)", stacklevel=1)
    assert scheduler.pruner is not None and scheduler.pruner.budget == 10
    ours = [str(w.message) for w in caught if "ConvergencePruner" in str(w.message)]
    assert ours == ["ConvergencePruner: budget=10 (a later one still shows)"]


def test_a_space_and_a_sweep_folder_swapped_get_the_command_that_fits(tmp_path, capsys):
    """`status SPACE.yaml` named no folder, `run DIR` said "Is a directory" (probe K)."""
    space = write_sweep(tmp_path)  # name: t
    assert main(["status", str(space)]) == 2
    assert "e.g. sweeps/t" in capsys.readouterr().err
    folder = tmp_path / "sweeps" / "t"
    folder.mkdir(parents=True)
    (folder / "sweep.yaml").write_text(space.read_text())
    for command in ("run", "check"):
        assert main([command, str(folder)]) == 2
        assert f"fix: that is a sweep folder: `sweeper resume {folder}`" in capsys.readouterr().err
