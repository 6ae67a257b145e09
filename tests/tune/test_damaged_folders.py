"""Sweep folders damaged after the fact (probe P): a lost tuner.pkl, a cut or emptied
journal, messages that must keep finished results. Made without Ray (fast)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from sweep_tools import write_sweep

from sweeper.cli import main


def _folder(tmp_path, ended: int, running: int = 0):
    """A sweep folder of 2 trials as `sweeper run` leaves it: ``ended`` ran to their budget,
    ``running`` were still running; Ray's run state is there, its tuner.pkl is not."""
    from sweeper.config import load_sweep
    from sweeper.tune._study import BEST, Outcome, SweepStudy

    folder = tmp_path / "sweeps" / "t"
    folder.mkdir(parents=True)
    shutil.copy(write_sweep(tmp_path), folder / "sweep.yaml")
    study = SweepStudy.for_sweep(load_sweep(folder / "sweep.yaml"), folder)
    for n in range(ended + running):
        study.ask(f"t{n}")
        trial_id = study.find(f"t{n}")._trial_id
        study.report(trial_id, 10, 31.0 - n)
        best = {"step": 10, "metrics": ["val/mel"], "values": {"val/mel": 31.0 - n}}
        study.set_attr(trial_id, BEST, best)
        (folder / f"trial_t{n}").mkdir()
        if n < ended:
            study.tell(trial_id, Outcome("budget", "ran to its budget", 30))
            (folder / f"trial_t{n}" / "run" / "best").mkdir(parents=True)
            torch.save({}, folder / f"trial_t{n}" / "run" / "best" / "G_10.pth")
    state = {"trial_data": [[json.dumps({"trial_id": f"t{n}"}), "{}"] for n in range(2)]}
    (folder / "experiment_state-2026-12-07_10-00-00.json").write_text(json.dumps(state))
    return folder


def test_a_finished_sweep_without_tuner_pkl_resumes_as_a_no_op(tmp_path, capsys):
    # It said "fix: remove the folder and `sweeper run` its sweep.yaml again": every finished
    # trial deleted for a file only an unfinished sweep needs.
    folder = _folder(tmp_path, ended=2)
    assert main(["resume", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "is a finished sweep (2 trials ended): nothing to resume" in out, out + err
    assert "remove the folder" not in out + err and "error" not in err


def test_an_unfinished_sweep_without_tuner_pkl_keeps_its_finished_trials(tmp_path, capsys):
    folder = _folder(tmp_path, ended=1, running=1)
    assert main(["resume", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "tuner.pkl (Ray Tune's state) is missing" in err, err
    assert "remove the folder" not in err and "keep the finished trials" in err
    assert f"--name t-2 --storage {folder.parent}" in err
    assert (folder / "trial_t0").is_dir()


def test_refusals_name_what_follows_and_the_storage_folder(tmp_path, capsys):
    folder = _folder(tmp_path, ended=2)
    (folder / "trial_zzz").mkdir()  # a trial the journal lost
    assert main(["resume", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "would train them again" in err and "below" not in err, err  # nothing follows it
    shutil.rmtree(folder / "trial_zzz")
    text = (folder / "sweep.yaml").read_text()
    (folder / "sweep.json").write_text(json.dumps({"space": text, "study": "t"}))
    (folder / "sweep.yaml").write_text(text.replace("max_steps: 30", "max_steps: 40"))
    assert main(["status", str(folder)]) == 2
    err = capsys.readouterr().err  # without --storage the new sweep went to ./sweeps
    assert f"--name t-2 --storage {folder.parent}`" in err, err


def test_summarize_and_export_best_warn_of_an_unfinished_sweep(tmp_path, capsys):
    # A killed sweep's export named a winner that was not the final one, without a word.
    folder = _folder(tmp_path, ended=1, running=1)
    (folder / ".sweeper.lock").write_text("{}")  # a driver held it: killed since
    out = str(tmp_path / "best.json")
    for argv in (["summarize", "--no-html"], ["export-best", "--out", out]):
        main([argv[0], str(folder), *argv[1:]])
        err = capsys.readouterr().err
        assert err.count(f"warning: {folder} is an unfinished sweep (1 of 2 trial(s) not done; "
                         "no driver is running it)") == 1, (argv, err)  # fmt: skip
        assert f"the winner may change; fix: `sweeper resume {folder}`" in err
    folder2 = _folder(tmp_path / "done", ended=2)
    for argv in (["summarize", "--no-html"], ["export-best", "--out", out]):
        main([argv[0], str(folder2), *argv[1:]])
        assert "unfinished" not in capsys.readouterr().err


def test_a_trial_ray_ended_but_the_journal_lost_is_ended_from_its_results(tmp_path):
    # A journal restored from a backup: #1 diverged in Ray, RUNNING in the study for ever,
    # and every resume ended "interrupted with 1 trial(s) unfinished", exit 130.
    from sweeper.config import load_sweep
    from sweeper.tune._run import _study_and_parts
    from sweeper.tune._settle import settle
    from sweeper.tune._table import rows

    folder = _folder(tmp_path, ended=1, running=2)  # t1, t2 reported step 10, then lost
    ended = [[json.dumps({"trial_id": f"t{n}", "status": "TERMINATED"}), "{}"] for n in (1, 2)]
    running = [[json.dumps({"trial_id": "t0", "status": "RUNNING"}), "{}"]]  # (not t0's case)
    (folder / "experiment_state-2026-12-07_10-00-01.json").write_text(
        json.dumps({"trial_data": running + ended})
    )
    results = {1: [(5, 32.0), (10, 30.0), (15, float("nan"))], 2: [(5, 35.0), (10, 29.0)]}
    results[2] += [(20, 20.0), (30, 25.0)]  # its budget: best at step 20
    for n, points in results.items():
        lines = [json.dumps({"step": s, "val/mel": v, "loss/g/total": v}) for s, v in points]
        (folder / f"trial_t{n}" / "result.json").write_text("\n".join(lines) + "\n")
    study, _, scheduler, _ = _study_and_parts(load_sweep(folder / "sweep.yaml"), folder)
    notes = settle(scheduler, folder)
    assert len(notes) == 2 and "ended from its result.json as diverged" in notes[0], notes
    table = {row.number: row for row in rows(study)}
    assert (table[1].state, table[1].rule, table[1].best_value) == ("PRUNED", "diverged", 30.0)
    assert (table[2].state, table[2].rule, table[2].best_value) == ("COMPLETE", "budget", 20.0)
    assert settle(scheduler, folder) == []  # once


def test_an_emptied_journal_beside_trial_results_is_named_with_a_way_out(tmp_path, capsys):
    # status said "run the sweep first", run said "already holds a sweep; resume it": a circle.
    folder = _folder(tmp_path, ended=2)
    for n in range(2):
        (folder / f"trial_t{n}" / "result.json").write_text('{"step": 10}\n')
    (folder / "study.journal").write_text("")
    space = write_sweep(tmp_path)
    out = str(tmp_path / "best.json")
    runs = (["status"], ["summarize"], ["export-best", "--out", out], ["resume"])
    for argv in (*([a[0], str(folder), *a[1:]] for a in runs), ["run", str(space), "--storage",
                                                                 str(folder.parent)]):  # fmt: skip
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "study.journal is empty, while 2 trial folder(s)" in err
        assert "restore the journal from a backup" in err and "keep their checkpoints" in err
        assert f"--name t-2 --storage {folder.parent}`" in err, err


def test_a_start_killed_before_writing_anything_is_named(tmp_path, capsys):
    # A run SIGKILLed at 2.5 s left only .sweeper.lock: "not a sweep folder; fix: give the
    # folder `sweeper run` made" (it is that folder).
    folder = tmp_path / "sweeps" / "sk"
    folder.mkdir(parents=True)
    (folder / ".sweeper.lock").write_text('{"command": "sweeper run", "pid": 1}')
    for command in ("status", "resume"):
        assert main([command, str(folder)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "died as it started, before writing anything" in err
        assert f"--name sk --storage {folder.parent}`" in err and f"rm -r {folder}" in err


# The journal made here holds val/mel reports only: the pruner rightly says it has no
# training value to judge overfitting with, which is not what this test is about.
@pytest.mark.filterwarnings("ignore:ConvergencePruner. train_metric=")
def test_a_trial_whose_journal_lost_only_its_stop_ends_by_the_rule_that_stopped_it(tmp_path):
    # Its reports were all in the journal, so the replay skipped them as repeats and no rule
    # ran: a converged trial ended "ended by its trainer at step 200, before the budget".
    import numpy as np

    from sweeper.config import load_sweep
    from sweeper.tune._run import _study_and_parts
    from sweeper.tune._settle import settle
    from sweeper.tune._study import BEST, SweepStudy
    from sweeper.tune._table import rows

    folder = tmp_path / "sweeps" / "t"
    folder.mkdir(parents=True)
    budget = {"max_steps": 300, "num_trials": 1, "concurrency": 1}
    space = write_sweep(tmp_path, budget=budget, pruner={"catch_up": False})
    shutil.copy(space, folder / "sweep.yaml")
    study = SweepStudy.for_sweep(load_sweep(folder / "sweep.yaml"), folder)
    study.ask("t0")
    trial_id = study.find("t0")._trial_id
    rng = np.random.default_rng(0)
    points = [(s, 30.0 * (1 + 0.01 * rng.standard_normal())) for s in range(5, 201, 5)]
    for step, value in points:
        study.report(trial_id, step, value)
    best_step, best_value = min(points, key=lambda p: p[1])
    best = {"step": best_step, "metrics": ["val/mel"], "values": {"val/mel": best_value}}
    study.set_attr(trial_id, BEST, best)  # as the scheduler records it with each report
    (folder / "trial_t0").mkdir()
    lines = [json.dumps({"step": s, "val/mel": v}) for s, v in points]
    (folder / "trial_t0" / "result.json").write_text("\n".join(lines) + "\n")
    state = [[json.dumps({"trial_id": "t0", "status": "TERMINATED"}), "{}"]]
    (folder / "experiment_state-2026-12-07_10-00-01.json").write_text(
        json.dumps({"trial_data": state})
    )
    study, _, scheduler, _ = _study_and_parts(load_sweep(folder / "sweep.yaml"), folder)
    notes = settle(scheduler, folder)
    assert len(notes) == 1 and "ended from its result.json as converged" in notes[0], notes
    (row,) = rows(study)
    assert (row.state, row.rule) == ("COMPLETE", "converged")


def test_running_another_space_into_an_older_folder_says_it_holds_a_sweep(tmp_path, capsys):
    # A folder from before the study key (2026-12-06) opened under the new space's name read
    # as "the study was lost; fix: restore the journal from a backup" - it was intact.
    folder = _folder(tmp_path, ended=2)
    for n in range(2):
        (folder / f"trial_t{n}" / "result.json").write_text('{"step": 10}\n')
    other = tmp_path / "other"
    other.mkdir()
    space = write_sweep(other)
    space.write_text(space.read_text().replace("name: t\n", "name: other\n", 1))
    assert main(["run", str(space), "--name", "t", "--storage", str(folder.parent)]) == 2
    err = capsys.readouterr().err
    assert "already holds a sweep" in err and "was lost" not in err, err
