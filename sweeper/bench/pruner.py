"""Replay recorded curves as sweeps and score pruners: compute, regret, good trials cut, ranking.

Each curve is one trial minimising ``val``. A sweep starts the trials in a seeded random order,
``concurrency`` at a time, one report per running trial per tick (see
:mod:`sweeper.bench._replay`); K orders give K sweeps per method. Optuna pruners run in a real
study (``ask``/``report``/``should_prune``/``tell``); Ray's ASHA and TrialPlateauStopper are
faithful re-implementations. A converged stop (ConvergencePruner's "converged" rule, Ray's
plateau stopper) is told COMPLETE, a prune PRUNED; either way the trial keeps its best value.

Scores per sweep, reported as the median (and min, max) over orders. Every trial counts with
its best checkpoint up to its stop, pruned or not: the sweep keeps it, and ranks trials by it
(``sweeper.tune``'s table does). A trial's true value at its stop is the lowest true value up
to there (the oracle is the lowest true value of any curve run to its end); "true" is
``val_true`` when the file has it, else a heavy smooth of ``val``.

- ``compute``: points reported / points in all curves;
- ``regret``: (true value of the best trial the sweep holds - oracle) / |oracle|: what the
  pruning cost, 0 when the truly best curve ran past its minimum;
- ``regret_picked``: the same for the trial the sweep picks, the one with the lowest reported
  value. Noise adds to it whatever the pruner (no pruning: 25 % on one generated seed);
- ``top10_cut``: share of the oracle's top 10 % (by true best) stopped, by any rule, more than
  1 % short of their true best;
- ``spearman``: rho between the oracle ranking and the sweep's (every trial by its lowest
  reported value).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sweeper.bench import _orders, _replay
from sweeper.bench._pruner_scores import Score, Truth, score, truth_of
from sweeper.bench.curves import CurveSet
from sweeper.errors import InputError

METRIC = "val/mel"
TRAIN_METRIC = "train/mel"
KEEP_RULES = ("converged",)  # ConvergencePruner rules told COMPLETE; the others PRUNED
SCORES = ("compute", "regret", "top10_cut", "spearman", "regret_picked")


@dataclass(frozen=True)
class Grid:
    """What the settings are scaled to: the steps and the points of the longest curve."""

    steps: np.ndarray
    points: int
    train: np.ndarray | None = None  # (N, T) training curves, for the methods that read them

    @property
    def budget(self) -> int:
        """The last step (at least 1: a grid of step 0 alone would give a budget of 0)."""
        return max(1, int(self.steps[-1]))

    def step_at(self, fraction: float) -> int:
        # At least 1: Optuna's resource-based pruners divide by their min_resource, and
        # recorded sweeps validate at step 0.
        index = min(self.points - 1, max(0, round(fraction * self.points) - 1))
        return max(1, int(self.steps[index]))


@dataclass(frozen=True)
class Method:
    """A named rule: ``settings(grid)`` describes it, ``build(grid, study_name)`` a judge."""

    name: str
    settings: Callable[[Grid], str]
    build: Callable[[Grid, str], _replay.Judge]


def _optuna(make: Callable[[Grid], object]) -> Callable[[Grid, str], _replay.Judge]:
    def build(g: Grid, name: str) -> _replay.Judge:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PatientPruner's ExperimentalWarning
            pruner = make(g)
        return _replay.OptunaJudge(pruner, name)  # type: ignore[arg-type]

    return build


def _pruners():  # imported only when a method is built
    import optuna

    return optuna.pruners


def _sweeper(g: Grid, name: str) -> _replay.Judge:
    from sweeper.pruning import ConvergencePruner, stop_verdict

    def keep(trial: object) -> bool:
        verdict = stop_verdict(trial)  # type: ignore[arg-type]
        return verdict is not None and verdict.get("rule") in KEEP_RULES

    # With training curves in the file it gets them as a sweep does (pruner.train_metric).
    train_metric = None if g.train is None else TRAIN_METRIC
    # The curves stand for a so-vits held-out mel loss: named so, as the sweep names it.
    pruner = ConvergencePruner(budget=g.budget, metric=METRIC, train_metric=train_metric)
    return _replay.OptunaJudge(pruner, name, keep, train=g.train)


def _plateau(g: Grid, name: str) -> _replay.Judge:
    from sweeper.detect.anchors import RayPlateauDetector

    window = _plateau_window(g)
    return _replay.DetectorJudge(
        lambda: RayPlateauDetector(METRIC, 0.03, window, window, relative=True), METRIC
    )


def _plateau_window(g: Grid) -> int:
    return max(4, round(g.points * 160 / 300))  # the detector bench's ray-tuned, per budget


def _patience(g: Grid) -> int:
    return max(1, g.points // 10)


def _grace(g: Grid) -> int:
    return max(1, g.points // 10)


# Defaults plus one setting each that a user would pick knowing the budget (10 % of it).
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("none", lambda g: "NopPruner", _optuna(lambda g: _pruners().NopPruner())),
        Method(
            "sweeper",
            lambda g: f"ConvergencePruner(budget={g.budget}"
            + (", train_metric" if g.train is not None else "")
            + "); converged -> COMPLETE",
            _sweeper,
        ),
        Method("median", lambda g: "MedianPruner()", _optuna(lambda g: _pruners().MedianPruner())),
        Method(
            "median-tuned",
            lambda g: f"MedianPruner(n_startup_trials=5, n_warmup_steps={g.step_at(0.1)})",
            _optuna(lambda g: _pruners().MedianPruner(5, g.step_at(0.1))),
        ),
        Method(
            "sha",
            lambda g: "SuccessiveHalvingPruner()",
            _optuna(lambda g: _pruners().SuccessiveHalvingPruner()),
        ),
        Method(
            "sha-tuned",
            lambda g: f"SuccessiveHalvingPruner(min_resource={g.step_at(0.1)})",
            _optuna(lambda g: _pruners().SuccessiveHalvingPruner(min_resource=g.step_at(0.1))),
        ),
        Method(
            "hyperband",
            lambda g: "HyperbandPruner()",
            _optuna(lambda g: _pruners().HyperbandPruner()),
        ),
        Method(
            "hyperband-tuned",
            lambda g: (
                f"HyperbandPruner(min_resource={g.step_at(0.02)}, max_resource={g.budget})"
            ),
            _optuna(lambda g: _pruners().HyperbandPruner(g.step_at(0.02), g.budget)),
        ),
        Method(
            "patient",
            lambda g: f"PatientPruner(None, patience={_patience(g)})",
            _optuna(lambda g: _pruners().PatientPruner(None, _patience(g))),
        ),
        Method(
            "asha",
            lambda g: f"Ray ASHA(max_t={g.points}, grace_period=1, reduction_factor=4)",
            lambda g, name: _replay.AshaJudge(g.points, 1, 4),
        ),
        Method(
            "asha-tuned",
            lambda g: f"Ray ASHA(max_t={g.points}, grace_period={_grace(g)}, reduction_factor=4)",
            lambda g, name: _replay.AshaJudge(g.points, _grace(g), 4),
        ),
        Method(
            "ray-plateau",
            lambda g: (
                f"TrialPlateauStopper(relative std=0.03, num_results=grace="
                f"{_plateau_window(g)}); stop -> COMPLETE"
            ),
            _plateau,
        ),
    )
}


@dataclass(frozen=True)
class Result:
    """One method over every order: scores per order, the first order's stops and keeps."""

    method: Method
    settings: str
    scores: list[Score]
    stops: list[int | None]
    kept: list[bool]
    seconds: float
    skipped: str | None = None  # why the method did not run

    def summary(self, field: str) -> tuple[float, float, float] | None:
        """(median, min, max) of a score over the orders; None if undefined in all of them."""
        values = [getattr(s, field) for s in self.scores]
        values = [v for v in values if v is not None]
        if not values:
            return None
        return float(np.median(values)), float(min(values)), float(max(values))


def orders(n: int, k: int, seed: int) -> list[np.ndarray]:
    """K seeded random trial orders."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(k)]


def run(
    curves: CurveSet,
    methods: Sequence[Method],
    *,
    n_orders: int = 5,
    concurrency: int = 4,
    seed: int = 0,
    progress: Callable[[Method, int, float], None] | None = None,
    jobs: int = 1,
) -> tuple[Truth, list[Result]]:
    """Replay ``n_orders`` sweeps per method, ``jobs`` orders at a time (same results);
    ``progress(method, orders_done, seconds)``, also with 0 done as each method starts."""
    if n_orders < 1 or concurrency < 1:
        raise InputError(
            f"need n_orders >= 1 and concurrency >= 1, got {n_orders=}, {concurrency=}; "
            "pass positive counts"
        )
    truth = truth_of(curves)
    lengths = curves.lengths()
    train = None if curves.train is None else np.asarray(curves.train, float)
    # The grid ends at the longest curve's last point: trailing all-NaN columns would move
    # the budget the step-based pruners are given (the detector bench's is per curve).
    points = int(lengths.max())
    grid = Grid(np.asarray(curves.steps)[:points], points, train)
    val = np.asarray(curves.val, float)
    sweeps = orders(curves.n_curves, n_orders, seed)
    results = []
    for method in methods:
        began = time.perf_counter()
        if progress is not None:
            progress(method, 0, 0.0)  # started: a long order is otherwise minutes of silence
        try:
            method.build(grid, "probe")
        except ImportError as err:  # ConvergencePruner not importable: say so, run the rest
            results.append(Result(method, method.settings(grid), [], [], [], 0.0, str(err)))
            continue
        scores: list[Score] = []
        first: _replay.Outcome | None = None

        def one(k: int, method: Method = method) -> tuple[Score, _replay.Outcome]:
            judge = method.build(grid, f"replay-{method.name}-{k}")
            out = _replay.replay(val, lengths, grid.steps, sweeps[k], concurrency, judge)
            return score(truth, out, lengths), out

        for k, (scored, out) in enumerate(_orders.each(one, len(sweeps), jobs)):
            scores.append(scored)
            first = out if first is None else first
            if progress is not None:
                progress(method, k + 1, time.perf_counter() - began)
        elapsed = time.perf_counter() - began
        stops, kept = first.stops, first.kept.tolist()  # type: ignore[union-attr]
        results.append(Result(method, method.settings(grid), scores, stops, kept, elapsed))
    return truth, results


def to_json(path: str, truth: Truth, results: Sequence[Result], **setup: int) -> dict:
    """The ``--json`` document: per method the four scores (median [min, max] over orders),
    ``stops`` and ``kept`` (told COMPLETE with a finite value) per curve in the first order."""
    methods: dict[str, object] = {}
    for r in results:
        if r.skipped is not None:
            methods[r.method.name] = {"settings": r.settings, "skipped": r.skipped}
            continue
        row: dict[str, object] = {"settings": r.settings}
        for field in SCORES:
            summary = r.summary(field)
            row[field] = None if summary is None else summary[0]
            row[f"{field}_range"] = None if summary is None else list(summary[1:])
        row["stops"] = list(r.stops)
        row["kept"] = list(r.kept)
        # `stops` and `kept` are the first order's; its compute is the one they add up to
        # (the median above is over every order: a probe, 2026-12-07, took them to disagree).
        row["stops_order"] = 0
        row["stops_compute"] = r.scores[0].compute if r.scores else None
        row["seconds"] = round(r.seconds, 2)
        methods[r.method.name] = row
    return {
        "file": path,
        "truth": "estimated" if truth.estimated else "given",
        "n_curves": int(truth.best.size),
        **setup,
        "methods": methods,
    }
