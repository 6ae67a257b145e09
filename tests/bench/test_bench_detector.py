"""The replay and its scores, on hand-made curves with hand-computed expected numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sweeper.bench import detector as bench
from sweeper.bench.curves import CurveSet
from sweeper.bench.generator import generate
from sweeper.detect import Detector, Reason, Verdict

NAN = math.nan
PLATEAU = [10, 8, 6, 5, 5, 5, 5, 5, 5, 5]  # min 5, within 1 % from index 3
OVERFIT = [10, 8, 6, 5.5, 5, 5.2, 5.4, 5.6, 5.8, 6.0]  # argmin 4
DIVERGE = [10, 9, 8, 7, NAN, NAN, NAN, NAN, NAN, NAN]  # NaN from index 4


@pytest.fixture
def three() -> CurveSet:
    v = np.array([PLATEAU, OVERFIT, DIVERGE], dtype=float)
    return CurveSet(
        steps=np.arange(1, 11) * 100,
        val=v,
        length=np.array([10, 10, 10]),
        kind=np.array(["plateau", "overfit", "diverge"]),
        onset=np.array([3, 4, 4]),
        val_true=v,
    )


def test_scores_by_hand(three):
    truth = bench.truth_of(three)
    score = bench.score_stops(truth, [1, 5, 4], ["converged", "overfitting", "diverged"])
    # plateau stop at 1 keeps 8: 60 % left (false); overfit stop at 5 keeps 5: 0 % left
    assert score.false_stop_rate == pytest.approx(0.5)
    assert score.compute_saved == pytest.approx((0.8 + 0.4 + 0.5) / 3)
    assert score.compute_saved_plateau == pytest.approx(0.8)
    assert score.delay_median == pytest.approx((-0.2 + 0.1) / 2)
    assert score.overfit_caught == 1.0  # 5 <= 4 + 0.1 * 10
    assert score.overfit_named == 1.0 and score.false_overfitting == 0.0
    assert score.false_diverged == 0.0
    assert score.divergence_caught == 1.0


def test_scores_by_hand_with_missed_stops(three):
    truth = bench.truth_of(three)
    score = bench.score_stops(truth, [None, 7, None], [None, "diverged", None])
    assert score.false_stop_rate == 0.0
    assert score.compute_saved == pytest.approx((0 + 0.2 + 0) / 3)
    assert score.compute_saved_plateau == 0.0
    assert score.delay_median == pytest.approx(0.3)
    assert score.overfit_caught == 0.0  # 7 > 4 + 1
    assert score.overfit_named == 0.0  # named diverged
    assert score.false_diverged == 0.5
    assert score.divergence_caught == 0.0


def test_a_plateau_stop_named_overfitting_counts_as_false_overfitting(three):
    truth = bench.truth_of(three)
    score = bench.score_stops(truth, [6, 5, None], ["overfitting", "converged", None])
    assert score.false_overfitting == 1.0 and score.overfit_named == 0.0
    assert score.overfit_caught == 1.0  # caught in time, whatever its name


def test_empty_groups_score_none(three):
    truth = bench.truth_of(three)
    score = bench.score_stops(truth, [None, None, 9], [None, None, "converged"])
    assert score.false_stop_rate is None  # no healthy curve stopped
    assert score.delay_median is None
    assert score.divergence_caught == 1.0  # 9 = 4 + 5: the window's edge still counts
    early = bench.score_stops(truth, [None, None, 3], [None, None, "converged"])
    assert early.divergence_caught == 1.0  # stopped before it diverged: no harm was done
    late = bench.score_stops(truth, [None, None, 10], [None, None, "diverged"])
    assert late.divergence_caught == 0.0  # 10 > 4 + 5: too late


class StopBelow(Detector):
    """Stops when the value is below ``level`` or not finite; records what it was fed."""

    def __init__(self, level: float, fed: list) -> None:
        self.level, self.fed = level, fed

    def update(self, step, metrics):
        self.fed.append((step, dict(metrics)))
        v = metrics["val/mel"]
        if not math.isfinite(v):
            return Verdict(Reason.DIVERGED, step, None, "nan")
        reason = Reason.CONVERGED if v < self.level else Reason.CONTINUE
        return Verdict(reason, step, None, "")

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass

    def reset(self):
        pass


def test_replay_feeds_train_skips_trailing_nan_and_keeps_middle_nan():
    val = np.array([[9.0, NAN, 8.0, NAN, NAN], [9.0, 9.0, 9.0, 9.0, 9.0]])
    curves = CurveSet(steps=np.array([10, 20, 30, 40, 50]), val=val, train=val - 1)
    fed: list = []
    budgets: list = []

    def build(budget):
        budgets.append(budget)
        return StopBelow(1.0, fed)

    stops, reasons = bench.first_stops(curves, build)
    assert budgets == [30, 50]  # each curve's own last step
    assert stops == [1, None] and reasons == ["diverged", None]
    assert fed[0] == (10, {"val/mel": 9.0, "loss/g/mel": 8.0})
    assert len(fed) == 2 + 5  # stopped at the middle NaN; the second curve ran to its end


def test_estimated_truth_on_noisy_generated_curves_is_close():
    gen = generate(60, seed=5)
    # `length` keeps the NaN of NaN-diverged curves as data rather than as end-of-curve padding
    bare = CurveSet(steps=gen.steps, val=gen.val, train=gen.train, length=gen.length)
    est = bench.truth_of(bare)
    assert est.estimated and not bench.truth_of(gen).estimated
    healthy = np.flatnonzero(gen.kind != "diverge")
    rel = np.abs(est.val_true[healthy] / gen.val_true[healthy] - 1)
    assert np.median(rel) < 0.02
    for i in np.flatnonzero(gen.kind == "diverge"):
        assert est.kind[i] == "diverge" and 0 <= est.onset[i] - gen.onset[i] <= 4
    flat_or_plateau = np.isin(gen.kind, ["plateau", "flat"])
    assert np.mean(np.isin(est.kind[flat_or_plateau], ["plateau", "late_plateau"])) > 0.8


def test_estimated_truth_calls_a_dead_model_diverged_but_not_one_spike():
    # A recorded quick-sweep trial: untrained 94, then val/mel jumps to 3x and stays (a dead
    # model, no NaN, under 10x). A healthy curve with one 2.5x spike stays healthy.
    fall = 94.0 * np.r_[1.0, 0.4 * np.ones(39)] * (1 + 0.01 * np.sin(np.arange(40)))
    dead = np.r_[94.0, 110.0, 284.0 * np.ones(38)]
    spiky = fall.copy()
    spiky[20] = 2.5 * 94.0
    curves = CurveSet(steps=np.arange(40) * 5, val=np.array([dead, fall, spiky]))
    truth = bench.truth_of(curves)
    assert truth.kind[0] == "diverge" and truth.onset[0] == 1
    assert "diverge" not in truth.kind[1:].tolist()


def test_anchor_rows_on_a_small_generated_set():
    curves = generate(40, seed=2)
    methods = [bench.METHODS[name] for name in ("lightning", "mk-tuned")]
    seen = []
    truth, results = bench.run(curves, methods, lambda m, done, s: seen.append((m.name, done)))
    assert seen == [("lightning", 40), ("mk-tuned", 40)]
    lightning, mk = results
    assert len(lightning.stops) == 40
    # Lightning (patience 3) stops almost at once on noisy curves; the tuned MK waits longer
    assert lightning.score.compute_saved > mk.score.compute_saved
    assert lightning.score.false_stop_rate > mk.score.false_stop_rate
    doc = bench.to_json("x.npz", truth, results)
    assert doc["truth"] == "given" and doc["n_curves"] == 40
    assert set(doc["methods"]["mk-tuned"]) >= {
        "false_stop_rate",
        "compute_saved",
        "compute_saved_plateau",
        "delay_median",
        "overfit_caught",
        "overfit_named",
        "false_overfitting",
        "false_diverged",
        "divergence_caught",
        "stops",
        "reasons",
    }


def test_our_detector_row_replays_a_few_curves():
    curves = generate(5, seed=4)
    _, (ours,) = bench.run(curves, [bench.METHODS["sweeper"]])
    assert len(ours.stops) == 5
    assert all(r in (None, "converged", "overfitting", "diverged") for r in ours.reasons)


def test_a_missing_training_value_is_not_a_divergence_an_infinite_one_is():
    # A recorded sweep (``bench record``) has val/mel at step 0 but no training loss yet, and
    # none where the sweep logs less often than it evaluates: NaN there. Fed as data it made
    # every curve DIVERGED (at step 0; after 2026-12-07's probe, at any later NaN too), where
    # `bench pruner` skipped it. An infinite training loss is still a blow-up.
    curves = generate(6, seed=2, mix={"plateau": 1.0})
    plain, _ = bench.first_stops(curves, bench.METHODS["sweeper"].build)
    curves.train[:, 0] = NAN
    curves.train[0, 100:200:2] = NAN
    stops, reasons = bench.first_stops(curves, bench.METHODS["sweeper"].build)
    assert "diverged" not in reasons and all(s is None or s > 0 for s in stops)
    assert stops[0] is None or stops[0] > 100 or stops[0] == plain[0]
    curves.train[1, 100] = np.inf
    stops, reasons = bench.first_stops(curves, bench.METHODS["sweeper"].build)
    assert (stops[1], reasons[1]) == (100, "diverged")


def test_sweeper_saves_on_flat_curves_without_stopping_slow_ones():
    # Regression guard for the whole-history trend window: it must buy savings on curves flat
    # from the start (trailing windows alone saved ~41 % on this kind) and cost no false stop
    # on curves still improving to the end.
    method = [bench.METHODS["sweeper"]]
    _, (flat,) = bench.run(generate(n=8, seed=11, mix={"flat": 1.0}), method)
    _, (slow,) = bench.run(generate(n=8, seed=11, mix={"slow": 1.0}), method)
    assert flat.score.compute_saved is not None and flat.score.compute_saved > 0.5
    assert all(s is not None for s in flat.stops)
    assert slow.score.false_stop_rate in (None, 0.0)


def test_estimated_truth_of_negative_curves_uses_their_range_not_ratios():
    # A log-likelihood-like loss below zero: "10x the median" and "5 % above the minimum"
    # are ratios that mean nothing there (a flat -5 read as diverged, then as overfitting).
    steps = np.arange(1, 201) * 100
    rng = np.random.default_rng(0)
    flat = -5.0 + 0.05 * rng.standard_normal(200)
    falling = -2.0 - 3.0 * (1 - np.exp(-np.arange(200) / 30)) + 0.05 * rng.standard_normal(200)
    est = bench.truth_of(CurveSet(steps=steps, val=np.vstack([flat, falling])))
    assert set(est.kind) <= {"plateau", "late_plateau"}, list(est.kind)


def test_jobs_replay_blocks_of_curves_in_processes_with_the_same_stops(monkeypatch):
    # Blocks of 3 curves over 8: the last block is short, and the stops must come back in the
    # file's order whichever process replayed them.
    monkeypatch.setattr(bench, "CHUNK", 3)
    curves = generate(8, seed=3, points=120)
    methods = [bench.METHODS["sweeper"], bench.METHODS["mk"]]
    ticks: list = []
    _, one = bench.run(curves, methods)
    _, two = bench.run(curves, methods, lambda m, done, s: ticks.append((m.name, done)), jobs=2)
    assert [(r.stops, r.reasons) for r in two] == [(r.stops, r.reasons) for r in one]
    assert any(s is not None for r in one for s in r.stops)  # something to keep in order
    assert ticks == [(m.name, done) for m in methods for done in (3, 6, 8)]
