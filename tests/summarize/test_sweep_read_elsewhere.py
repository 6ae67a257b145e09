"""A sweep folder read from another directory than the one it ran in: its relative
``base.config`` and ``storage:`` are relative to where it ran (sweep.json's ``cwd``). Until
2026-12-07 status, summarize and export-best failed outside it, with a fix (edit sweep.yaml)
that the edit check refuses. Real sweep, real CLI processes. And a journal line that parses
but cannot be replayed is a one-line error, not an internal KeyError."""

from __future__ import annotations

import json

import yaml

from sweeper.cli import main
from sweeper.testing import tiny_sweep
from sweeper.trainers.reference.config import load_config
from tests.summarize.conftest import replace_file, run_cli


def test_relative_base_config_and_storage_are_read_from_where_the_sweep_ran(
    tmp_path, monkeypatch, capsys
):
    ran_in, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (ran_in / "cfg").mkdir(parents=True)
    elsewhere.mkdir()
    (ran_in / "cfg" / "micro.json").write_text(json.dumps(load_config("micro").to_dict()))
    sweep = tiny_sweep(
        "rel",
        (2.0e-3,),
        base={"config": "cfg/micro.json"},
        budget={"max_steps": 10, "num_trials": 1},
        storage="journals/rel.journal",
    )
    (ran_in / "rel.yaml").write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    done = run_cli("run", "rel.yaml", "--storage", str(tmp_path / "sweeps"), cwd=ran_in)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (ran_in / "journals" / "rel.journal").is_file()
    folder = str(tmp_path / "sweeps" / "rel")

    monkeypatch.chdir(elsewhere)  # the commands below, in this process, from elsewhere
    assert main(["status", folder]) == 0
    assert "#0" in capsys.readouterr().out
    assert main(["summarize", folder, "--out", str(tmp_path / "s")]) == 0
    assert "1 ranked" in capsys.readouterr().out
    out = tmp_path / "config.json"
    assert main(["export-best", folder, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["train"]["learning_rate"] == 2.0e-3


def test_a_journal_line_optuna_cannot_replay_is_one_line(sweep_copy):
    journal = sweep_copy / "study.journal"
    lines = journal.read_text().splitlines()
    lines[5] = json.dumps({"op_code": 5, "trial_id": 0})  # set_trial_param without its fields
    replace_file(journal, ("\n".join(lines) + "\n").encode())
    done = run_cli("status", str(sweep_copy))
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert "cannot replay" in err and "KeyError" in err and len(err.splitlines()) == 1
    assert "internal error" not in err
