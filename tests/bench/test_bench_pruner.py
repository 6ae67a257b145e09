"""The sweep replay, its scores and ``sweeper bench pruner``, on hand-made noise-free curves."""

from __future__ import annotations

import json
import math

import numpy as np
import optuna
import pytest

from sweeper.bench import _replay
from sweeper.bench import pruner as bench
from sweeper.bench.curves import CurveSet
from sweeper.cli import main
from sweeper.errors import InputError

N, T = 6, 20
# Curve i decays to 1 + i + 0.5: never crossing, so curve 0 is the best at every step.
VAL = np.array([[1.0 + i + 10.0 / (t + 1) for t in range(T)] for i in range(N)])
STEPS = np.arange(1, T + 1) * 10
LENGTHS = np.full(N, T)


@pytest.fixture
def six() -> CurveSet:
    return CurveSet(steps=STEPS, val=VAL, length=LENGTHS, val_true=VAL)


def _sweep(judge: _replay.Judge, order=range(N), concurrency: int = 4) -> _replay.Outcome:
    return _replay.replay(VAL, LENGTHS, STEPS, list(order), concurrency, judge)


class _FirstReport(optuna.pruners.BasePruner):
    """Prunes every trial whose first report is above ``bar``."""

    def __init__(self, bar: float) -> None:
        self.bar = bar

    def prune(self, study, trial) -> bool:
        return trial.intermediate_values[min(trial.intermediate_values)] > self.bar


def test_no_pruning_uses_everything_and_ranks_perfectly(six):
    truth = bench.truth_of(six)
    out = _sweep(_replay.OptunaJudge(optuna.pruners.NopPruner(), "nop"))
    assert out.stops == [None] * N and out.kept.all()
    score = bench.score(truth, out, LENGTHS)
    assert (score.compute, score.regret, score.top10_cut) == (1.0, 0.0, 0.0)
    assert score.spearman == pytest.approx(1.0)


def test_pruning_all_but_the_best_at_the_first_report(six):
    truth = bench.truth_of(six)
    judge = _replay.OptunaJudge(_FirstReport(bar=VAL[0, 0] + 0.5), "first")
    out = _sweep(judge, order=[3, 0, 5, 1, 4, 2])
    assert out.stops == [None, 0, 0, 0, 0, 0]
    states = [t.state for t in judge.study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 1
    assert judge.study.best_value == pytest.approx(VAL[0].min())  # told its lowest value
    score = bench.score(truth, out, LENGTHS)
    assert score.compute == pytest.approx((T + 5) / (N * T))
    assert score.regret == 0.0 and score.top10_cut == 0.0  # top 10 % of 6: curve 0 alone
    # a pruned trial still ranks by its best so far: here its first report, in the true order
    assert score.spearman == pytest.approx(1.0)


def test_a_pruned_best_gives_regret_and_a_cut(six):
    truth = bench.truth_of(six)
    out = _sweep(_replay.OptunaJudge(_FirstReport(bar=VAL[1, 0] + 0.5), "first"))
    # curves 0 and 1 kept; pruning curve 0 instead must cost regret: check via a fake outcome
    assert out.kept.tolist() == [True, True, False, False, False, False]
    kept = np.array([False, True, True, True, True, True])
    fake = _replay.Outcome(
        [0, None, None, None, None, None], kept, np.array([1] + [T] * 5), VAL.min(1)
    )
    score = bench.score(truth, fake, LENGTHS)
    assert score.regret == pytest.approx((VAL[1].min() - VAL[0].min()) / VAL[0].min())
    assert score.top10_cut == 1.0


def test_a_converged_stop_keeps_the_trial_with_its_best_so_far(six):
    truth = bench.truth_of(six)

    class StopAt5:
        def start(self, trial): ...
        def judge(self, trial, index, step, value):
            return _replay.STOP if index == 5 else _replay.CONTINUE

        def finish(self, trial, kept, best): ...

    out = _sweep(StopAt5())
    assert out.stops == [5] * N and out.kept.all()
    assert out.best.tolist() == VAL[:, 5].tolist()
    score = bench.score(truth, out, LENGTHS)
    assert score.compute == pytest.approx(6 / T)
    assert score.regret == pytest.approx((VAL[0, 5] - VAL[0, -1]) / VAL[0, -1])
    assert score.top10_cut == 1.0  # curve 0 kept with > 1 % left


def test_median_prunes_nothing_until_a_trial_is_complete():
    # 4 at once: trials 0-3 run side by side with no COMPLETE trial to compare to, until
    # trial 0 completes in the last tick just before 1-3 make their last report
    out = _sweep(_replay.OptunaJudge(optuna.pruners.MedianPruner(n_startup_trials=1), "m4"))
    assert out.stops == [None, T - 1, T - 1, T - 1, 0, 0]
    # one at a time: trial 0 completes first, and every worse one is cut at its first report
    out = _sweep(
        _replay.OptunaJudge(optuna.pruners.MedianPruner(n_startup_trials=1), "m1"),
        concurrency=1,
    )
    assert out.stops == [None, 0, 0, 0, 0, 0]


def test_slots_are_refilled_in_order_as_trials_end():
    seen: list[tuple[int, int]] = []

    class Record:
        def start(self, trial):
            seen.append((trial, len(seen)))

        def judge(self, trial, index, step, value):
            return _replay.PRUNE if trial == 2 and index == 1 else _replay.CONTINUE

        def finish(self, trial, kept, best): ...

    out = _sweep(Record(), order=[2, 0, 1, 3, 4, 5], concurrency=2)
    assert [t for t, _ in seen] == [2, 0, 1, 3, 4, 5]
    assert out.used.tolist() == [T, T, 2, T, T, T] and not out.kept[2]


def test_asha_rungs_and_cutoff():
    asha = _replay.AshaJudge(max_t=20, grace_period=1, reduction_factor=4)
    assert [m for m, _ in asha.rungs] == [16, 4, 1]
    # rung 1, cutoff = 75th percentile of the rewards (-value) recorded before
    assert asha.judge(0, 0, 10, 1.0) == _replay.CONTINUE  # first there
    assert asha.judge(1, 0, 10, 2.0) == _replay.PRUNE  # -2 < -1
    assert asha.judge(2, 0, 10, 1.2) == _replay.CONTINUE  # -1.2 >= -1.25 of [-2, -1]
    assert asha.judge(3, 0, 10, 1.3) == _replay.PRUNE  # -1.3 < -1.1 of [-2, -1.2, -1]
    assert asha.judge(0, 1, 20, 9.0) == _replay.CONTINUE  # between rungs
    assert asha.judge(0, 3, 40, 9.0) == _replay.CONTINUE  # first at rung 4
    assert asha.judge(2, 3, 40, 9.5) == _replay.PRUNE


@pytest.mark.slow  # importing ray takes seconds
def test_asha_matches_ray():
    bracket_mod = pytest.importorskip("ray.tune.schedulers.async_hyperband")
    rng = np.random.default_rng(0)
    ours = _replay.AshaJudge(max_t=50, grace_period=2, reduction_factor=3)
    ray = bracket_mod._Bracket(2, 50, 3, 0)

    class Trial:
        def __init__(self, trial_id):
            self.trial_id = trial_id

    for _ in range(400):
        i, it = int(rng.integers(30)), int(rng.integers(1, 51))
        value = float(rng.normal())
        expected = ray.on_result(Trial(i), it, -value)
        assert ours.judge(i, it - 1, it, value) == {"STOP": "prune"}.get(expected, "continue")


def test_spearman_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.integers(0, 8, 30).astype(float)  # many ties
        b = np.where(rng.random(30) < 0.3, math.inf, rng.normal(size=30))
        assert _replay.spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
        assert _replay.ranks(a) == pytest.approx(stats.rankdata(a))
    assert _replay.spearman(np.ones(4), np.arange(4.0)) is None


def test_cli_json_shape(tmp_path, capsys):
    path = tmp_path / "six.npz"
    np.savez(path, steps=STEPS, val=VAL)
    argv = ["bench", "pruner", str(path), "--json", "--methods", "none,asha", "--orders", "2"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["truth"] == "estimated" and doc["n_curves"] == N and doc["orders"] == 2
    assert set(doc["methods"]) == {"none", "asha"}
    for row in doc["methods"].values():
        assert {"compute", "regret", "top10_cut", "spearman"} <= set(row)
        assert len(row["stops"]) == len(row["kept"]) == N
    assert doc["methods"]["none"]["compute"] == 1.0
    assert doc["methods"]["none"]["kept"] == [True] * N
    assert "[2/2] asha: 2/2 orders" in captured.err


def test_cli_table(six, tmp_path, capsys):
    path = tmp_path / "six.npz"
    six.save(path)
    assert main(["bench", "pruner", str(path), "--methods", "none", "patient"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "truth given" in lines[0]
    assert lines[1].split()[:3] == ["method", "compute", "regret"]
    assert [line.split()[0] for line in lines[2:4]] == ["none", "patient"]


def test_a_method_that_cannot_import_is_skipped(six):
    def broken(grid, name):
        raise ImportError("No module named 'sweeper.pruning'")

    method = bench.Method("broken", lambda g: "-", broken)
    _, [result] = bench.run(six, [method], n_orders=1)
    assert result.skipped is not None and "sweeper.pruning" in result.skipped
    doc = bench.to_json("x.npz", bench.truth_of(six), [result])
    assert doc["methods"]["broken"]["skipped"] == result.skipped


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--methods", "nope"], "unknown method(s) ['nope']"),
        # Only the counts given (--orders 0 named a "--jobs 0" nobody passed; a probe).
        (["--orders", "0"], "must be >= 1, got --orders 0; pass positive counts"),
        (["--jobs", "0"], "--orders, --concurrency and --jobs must be >= 1, got --jobs 0;"),
    ],
)
def test_cli_errors(six, tmp_path, capsys, argv, message):
    path = tmp_path / "six.npz"
    six.save(path)
    assert main(["bench", "pruner", str(path), *argv]) != 0
    assert message in capsys.readouterr().err


def test_run_rejects_bad_counts(six):
    with pytest.raises(InputError, match="n_orders=0"):
        bench.run(six, [bench.METHODS["none"]], n_orders=0)


def test_convergence_pruner_runs_in_the_replay(six):
    pytest.importorskip("sweeper.pruning")
    _, [result] = bench.run(six, [bench.METHODS["sweeper"]], n_orders=1)
    assert result.skipped is None and len(result.stops) == N
    assert 0 < result.scores[0].compute <= 1


def test_training_curves_reach_the_convergence_pruner_as_in_a_sweep():
    # With `train` in the file, every report's training value is stored beside it (the
    # system attribute report_training writes) before the pruner is asked.
    train = VAL * 0.9
    curves = CurveSet(steps=STEPS, val=VAL, length=LENGTHS, val_true=VAL, train=train)
    method = bench.METHODS["sweeper"]
    grid = bench.Grid(STEPS, T, train)
    assert "train_metric" in method.settings(grid)
    judge = method.build(grid, "with-train")
    _replay.replay(VAL, LENGTHS, STEPS, list(range(N)), 4, judge)
    stored = judge.study.trials[2].system_attrs  # trial 2 is curve 2 (started in order)
    assert stored["sweeper:train:10"] == pytest.approx(train[2, 0])
    assert judge.study.pruner.train_metric == bench.TRAIN_METRIC
    _, [result] = bench.run(curves, [method], n_orders=1)
    assert result.skipped is None and "train_metric" in result.settings


def test_a_trial_pruned_after_its_minimum_is_neither_cut_nor_regret():
    # Curve 0 overfits: its true minimum (the best of all) is at index 5. Pruned at index 10,
    # the sweep still holds that checkpoint; pruned at index 3, it lost it.
    u = np.array([0.5 + (t - 5) ** 2 / 10 for t in range(T)])
    val = np.vstack([u, VAL[1:]])
    truth = bench.truth_of(CurveSet(steps=STEPS, val=val, length=LENGTHS, val_true=val))
    for stop, lost in ((10, False), (3, True)):
        used = np.array([stop + 1] + [T] * 5)
        best = np.array([val[0, : stop + 1].min(), *val[1:].min(1)])
        out = _replay.Outcome([stop, None, None, None, None, None], np.ones(N, bool), used, best)
        score = bench.score(truth, out, LENGTHS)
        assert (score.top10_cut == 1.0) is lost
        assert (score.regret > 0) is lost
        assert score.regret_picked == score.regret  # no noise: the pick is the best held


def test_regret_picked_shows_a_lucky_noisy_pick():
    # Curve 3 reports one lucky low value; the sweep picks it, though curve 0 is truly best.
    val = VAL.copy()
    val[3, 7] = 0.5
    truth = bench.truth_of(CurveSet(steps=STEPS, val=val, length=LENGTHS, val_true=VAL))
    out = _sweep_of(val)
    score = bench.score(truth, out, LENGTHS)
    assert score.regret == 0.0
    assert score.regret_picked == pytest.approx((VAL[3].min() - VAL[0].min()) / VAL[0].min())


def _sweep_of(val: np.ndarray) -> _replay.Outcome:
    judge = _replay.OptunaJudge(optuna.pruners.NopPruner(), "nop")
    return _replay.replay(val, LENGTHS, STEPS, list(range(N)), 4, judge)


def test_an_oracle_of_zero_is_scored_not_divided_by():
    # An error rate reaching 0 crashed the scores ("ZeroDivisionError", 2026-12-06).
    val = np.clip(VAL - 1.5, 0.0, None)  # curve 0 reaches 0 from its 10th point
    zero = CurveSet(steps=STEPS, val=val, length=LENGTHS, val_true=val)
    def sweep(bar: float) -> _replay.Outcome:
        judge = _replay.OptunaJudge(_FirstReport(bar=bar), "first")
        return _replay.replay(val, LENGTHS, STEPS, [3, 0, 5, 1, 4, 2], 4, judge)

    score = bench.score(bench.truth_of(zero), sweep(val[0, 0] + 0.5), LENGTHS)
    assert score.regret == 0.0 and score.top10_cut == 0.0
    score = bench.score(bench.truth_of(zero), sweep(-1.0), LENGTHS)  # all cut at once
    assert math.isfinite(score.regret) and score.regret > 0 and score.top10_cut == 1.0


def test_orders_in_parallel_processes_give_the_same_results():
    from sweeper.bench.generator import generate

    curves = generate(12, seed=5, points=60)
    methods = [bench.METHODS["sweeper"], bench.METHODS["median"]]
    one = bench.run(curves, methods, n_orders=2, jobs=1)[1]
    two = bench.run(curves, methods, n_orders=2, jobs=2)[1]
    for a, b in zip(one, two, strict=True):
        assert a.scores == b.scores and a.stops == b.stops and a.kept == b.kept


def test_progress_is_told_as_each_method_starts_and_a_heartbeat_fills_the_wait(six, capsys):
    """One order of 2,000 curves ran for minutes with no line (a probe, 2026-12-07): run()
    now says when a method starts, and the CLI repeats where it is while orders run."""
    import time

    from sweeper.cli._bench_progress import Heartbeat

    calls = []
    methods = [bench.METHODS["none"], bench.METHODS["median"]]
    bench.run(six, methods, n_orders=2, progress=lambda m, done, s: calls.append((m.name, done)))
    assert calls == [("none", 0), ("none", 1), ("none", 2), ("median", 0), ("median", 1),
                     ("median", 2)]  # fmt: skip
    told = []
    with Heartbeat(lambda m, done, s: told.append(done), every=0.05) as beat:
        beat(methods[1], 0, 0.0)
        time.sleep(0.3)
    time.sleep(0.1)  # the beat thread sees the stop and ends
    lines = capsys.readouterr().err.splitlines()
    assert told == [0] and len(lines) >= 3
    assert all(line.startswith("  median: 0 orders done, still replaying (") for line in lines)
