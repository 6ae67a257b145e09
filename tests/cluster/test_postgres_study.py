"""One Optuna study on a real PostgreSQL server, shared by several worker processes at once.

The ``postgres`` fixture starts a private server from Debian's ``postgresql`` package (see
local_postgres.py for what that needs). Workers are separate interpreters (spawn), each
opening the storage through ``open_study_storage`` as a node of a cluster would, asking for
trials, reporting every step and asking ``should_prune`` after each report. The workload is
benchmarks/bench_storage.py's, so the test also prints its per-report cost beside a journal
file's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_storage
from local_postgres import _free_port

pytestmark = pytest.mark.slow

PROCESSES, TRIALS, STEPS = 4, 4, 10


def _check_study(run: bench_storage.Run, storage) -> None:
    import optuna

    study = optuna.load_study(study_name=run.study_name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    told = {number: (steps, state) for r in run.results for number, steps, state in r.trials}
    # No lost and no duplicated trial: every worker's trial is in the study exactly once.
    assert len(told) == PROCESSES * TRIALS == sum(len(r.trials) for r in run.results)
    assert sorted(t.number for t in trials) == list(range(PROCESSES * TRIALS))
    assert sorted(told) == sorted(t.number for t in trials)
    for trial in trials:
        steps, state = told[trial.number]
        assert trial.state.name == state, trial.number
        # Every report of every worker arrived, with the value that worker sent.
        assert sorted(trial.intermediate_values) == steps, trial.number
        for step, value in trial.intermediate_values.items():
            assert value == pytest.approx(bench_storage.curve(trial.number, step))
        assert trial.user_attrs["worker"] in range(PROCESSES)
    # Each worker ran its own trials (none taken over by another).
    by_worker = {r.worker: {n for n, _, _ in r.trials} for r in run.results}
    for trial in trials:
        assert trial.number in by_worker[trial.user_attrs["worker"]]


def test_workers_share_one_study_on_postgresql(postgres, tmp_path):
    from sweeper.tune.storage import open_study_storage

    run = bench_storage.run_workload(
        postgres.url, processes=PROCESSES, trials=TRIALS, steps=STEPS, pruner="median"
    )
    _check_study(run, open_study_storage(postgres.url))
    states = [state for r in run.results for _, _, state in r.trials]
    # MedianPruner compares against trials *other* processes completed: pruning at all shows
    # should_prune read the shared study (odd trials are the worse ones).
    assert "PRUNED" in states and "COMPLETE" in states, states

    journal = bench_storage.run_workload(
        str(tmp_path / "study.journal"),
        processes=PROCESSES, trials=TRIALS, steps=STEPS, pruner="median",
    )  # fmt: skip
    _check_study(journal, open_study_storage(str(tmp_path / "study.journal")))
    print(f"\n{PROCESSES} processes x {TRIALS} trials x up to {STEPS} reports (MedianPruner)")
    print(bench_storage.HEADER)
    print(run.row("postgresql", "median"))
    print(journal.row("journal", "median"))


def test_convergence_pruner_decides_the_same_on_postgresql_as_in_memory(postgres):
    # Our pruner reads each trial's intermediate_values back from the storage, in the order
    # the storage returns them: PostgreSQL must give it what memory gives it. One process,
    # so the trials (which the pruner compares with each other) come in a fixed order.
    run = bench_storage.run_workload(
        postgres.url, processes=1, trials=3, steps=40, pruner="convergence"
    )
    memory = bench_storage.run_workload("memory", processes=1, trials=3, steps=40,
                                        pruner="convergence")  # fmt: skip
    on_server = [(n, steps[-1], state) for n, steps, state in run.results[0].trials]
    assert on_server == [(n, steps[-1], s) for n, steps, s in memory.results[0].trials]
    assert "PRUNED" in {state for _, _, state in on_server}, on_server


def test_unreachable_server_is_one_line(postgres):
    from sweeper.errors import InputError
    from sweeper.tune.storage import open_study_storage

    port = _free_port()  # nothing listens there
    wrong = postgres.url.replace(f":{postgres.port}/", f":{port}/")
    with pytest.raises(InputError) as err:
        open_study_storage(wrong.replace("sweeper@", "sweeper:s3cret@"))
    text = str(err.value)
    assert "\n" not in text and f"127.0.0.1:{port}" in text
    assert "s3cret" not in text and "pg_isready" in text


def test_check_connects_to_the_study_database_and_writes_nothing(postgres, tmp_path, capsys,
                                                                   monkeypatch):  # fmt: skip
    """`sweeper check` said ok of any postgresql:// URL (run refused it after Ray started);
    it now connects, warns when it cannot, and creates no table (Optuna's open would)."""
    import sqlalchemy

    from sweeper.cli import main

    monkeypatch.chdir(tmp_path)
    quick = Path(__file__).resolve().parents[2] / "search_spaces" / "quick.yaml"
    empty = postgres.url.rsplit("/", 1)[0] + "/postgres"  # the server's own, table-less db
    wrong = empty.replace(f":{postgres.port}/", f":{_free_port()}/")
    said = {}
    for url in (empty, wrong):
        space = tmp_path / "pg.yaml"
        space.write_text(quick.read_text().replace("\nstorage: null", f"\nstorage: {url}"))
        assert main(["check", str(space), "--draws", "0"]) == 0
        said[url] = capsys.readouterr().out
    assert f"study storage: {empty}" in said[empty] and "warning" not in said[empty]
    engine = sqlalchemy.create_engine(empty)
    try:
        assert sqlalchemy.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    warning = next(line for line in said[wrong].splitlines() if "warning" in line)
    assert "refuses storage: cannot reach the study database" in warning, warning
    assert "pg_isready" in warning, warning
