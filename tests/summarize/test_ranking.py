"""Pure ranking: tables of trials -> expected order; Pareto fronts; ties broken by compute."""

from __future__ import annotations

import itertools
import random

import pytest

from sweeper.errors import InputError
from sweeper.summarize.ranking import (
    Candidate,
    Criteria,
    dominates,
    normalise,
    pareto_fronts,
    rank,
)


def _c(key, compute=100, **values):
    return Candidate(key, {k.replace("_", "/"): v for k, v in values.items()}, compute)


def _order(cands, *metrics, mode="lexicographic", directions=None, **kw):
    directions = directions or {m: "min" for m in metrics}
    ranked, _ = rank(cands, Criteria(mode, tuple(metrics), directions, **kw))
    return [r.key for r in ranked]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([(0, 3.0, 1.0), (1, 1.0, 9.0), (2, 2.0, 0.0)], [1, 2, 0]),  # first metric decides
        ([(0, 1.0, 5.0), (1, 1.0, 2.0), (2, 0.5, 9.0)], [2, 1, 0]),  # second breaks its tie
        ([(0, 1.0, 2.0), (1, 1.0, 2.0), (2, 1.0, 2.0)], [0, 1, 2]),  # all tied: number
    ],
)
def test_lexicographic_order(rows, expected):
    cands = [_c(k, val_a=a, val_b=b) for k, a, b in rows]
    assert _order(cands, "val/a", "val/b") == expected


def test_max_direction_flips_the_order():
    cands = [_c(0, sim=0.2), _c(1, sim=0.9), _c(2, sim=0.5)]
    assert _order(cands, "sim", directions={"sim": "max"}) == [1, 2, 0]


def test_ties_are_broken_by_compute_then_number():
    cands = [_c(0, 300, m=1.0), _c(1, 100, m=1.0), _c(2, 200, m=1.0), _c(3, 100, m=1.0)]
    assert _order(cands, "m") == [1, 3, 2, 0]
    composite = _order(cands, "m", mode="composite", weights={"m": 1.0})
    assert composite == [1, 3, 2, 0]


def test_composite_minmax_weights_trade_metrics():
    # a: 0 best, 10 worst; b: 0 best, 1 worst. minmax badness -> weighted mean.
    cands = [_c(0, a=0.0, b=1.0), _c(1, a=10.0, b=0.0), _c(2, a=4.0, b=0.5)]
    crit = Criteria("composite", ("a", "b"), {"a": "min", "b": "min"}, {"a": 1, "b": 1}, "minmax")
    ranked, _ = rank(cands, crit)
    scores = {r.key: r.score for r in ranked}
    assert scores == pytest.approx({0: 0.5, 1: 0.5, 2: 0.45})
    assert [r.key for r in ranked] == [2, 0, 1]  # 0 and 1 tie at 0.5: same compute, number
    heavy_a = Criteria("composite", ("a", "b"), crit.directions, {"a": 3, "b": 1}, "minmax")
    assert [r.key for r in rank(cands, heavy_a)[0]] == [0, 2, 1]


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        ("rank", [3.0, 1.0, 2.0], [1.0, 0.0, 0.5]),
        ("rank", [1.0, 1.0, 2.0], [0.25, 0.25, 1.0]),  # ties share the average rank
        ("minmax", [2.0, 4.0, 3.0], [0.0, 1.0, 0.5]),
        ("minmax", [5.0, 5.0], [0.0, 0.0]),
        ("zscore", [1.0, 3.0], [-1.0, 1.0]),
        ("zscore", [7.0, 7.0, 7.0], [0.0, 0.0, 0.0]),
    ],
)
def test_normalise(kind, values, expected):
    assert normalise(values, kind) == pytest.approx(expected)


def test_pareto_front_of_a_known_set():
    # lower is better on both: (1,5), (2,2), (5,1) are the front; (3,3) behind (2,2); (6,6) last
    pts = [(1, 5), (3, 3), (2, 2), (5, 1), (6, 6), (2, 2)]
    assert pareto_fronts(pts) == [0, 1, 0, 0, 2, 0]


def test_pareto_fronts_match_the_definition_on_random_sets():
    rng = random.Random(0)
    for _ in range(50):
        pts = [(rng.randint(0, 5), rng.randint(0, 5), rng.random()) for _ in range(12)]
        fronts = pareto_fronts(pts)
        for i, j in itertools.permutations(range(len(pts)), 2):
            if dominates(pts[i], pts[j]):
                assert fronts[i] < fronts[j]
        for i in range(len(pts)):
            if fronts[i] > 0:  # someone on the previous front dominates it
                assert any(
                    fronts[j] == fronts[i] - 1 and dominates(pts[j], pts[i])
                    for j in range(len(pts))
                )


def test_pareto_ranking_orders_fronts_then_compute():
    cands = [
        _c(0, 500, a=1.0, b=5.0),
        _c(1, 100, a=5.0, b=1.0),
        _c(2, 100, a=3.0, b=3.0),
        _c(3, 100, a=4.0, b=4.0),
    ]
    ranked, _ = rank(cands, Criteria("pareto", ("a", "b"), {"a": "min", "b": "min"}))
    assert [(r.key, r.front) for r in ranked] == [(1, 0), (2, 0), (0, 0), (3, 1)]


def test_missing_or_nan_metric_is_excluded_with_the_reason():
    cands = [_c(0, a=1.0), _c(1, a=float("nan")), Candidate(2, {}, 10)]
    ranked, excluded = rank(cands, Criteria("lexicographic", ("a",), {"a": "min"}))
    assert [r.key for r in ranked] == [0]
    assert [(e.key, e.reason) for e in excluded] == [
        (1, "no finite value of a"),
        (2, "no finite value of a"),
    ]


def test_a_weight_0_metric_is_shown_but_never_excludes_a_trial():
    """summary.weights says 0 means "show without weight": a trial that lacks that metric
    (not evaluated, NaN) is ranked all the same, on the weighted ones."""
    cands = [_c(0, a=2.0, b=5.0), _c(1, a=1.0), _c(2, a=3.0, b=float("nan")), _c(3, b=1.0)]
    crit = Criteria("composite", ("a", "b"), {"a": "min", "b": "min"}, {"a": 1, "b": 0}, "minmax")
    ranked, excluded = rank(cands, crit)
    assert [r.key for r in ranked] == [1, 0, 2]
    assert [r.score for r in ranked] == pytest.approx([0.0, 0.5, 1.0])
    assert [(e.key, e.reason) for e in excluded] == [(3, "no finite value of a")]
    assert [r.normalized for r in ranked] == [{"a": 0.0}, {"a": 0.5, "b": 0.0}, {"a": 1.0}]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "best"}, "ranking mode 'best' is unknown"),
        ({"normalize": "log"}, "normalisation 'log' is unknown"),
        ({"directions": {}}, "metric 'a' has no direction"),
        ({"mode": "composite", "weights": {"a": 0.0}}, "composite ranking needs a weight > 0"),
    ],
)
def test_bad_criteria_are_one_line_errors(kwargs, message):
    args = {"mode": "lexicographic", "metrics": ("a",), "directions": {"a": "min"}, **kwargs}
    with pytest.raises(InputError, match=message):
        Criteria(**args)


def test_importance_names_the_conditional_parameters_it_cannot_measure():
    """Optuna's fANOVA takes only parameters every trial has: a conditional one was left
    out of "parameters that mattered" without a word."""
    import random

    from optuna.distributions import FloatDistribution, IntDistribution
    from optuna.trial import create_trial

    from sweeper.summarize.importance import importances

    rng = random.Random(0)
    trials = []
    for number in range(12):
        params, dists = {"a": rng.random()}, {"a": FloatDistribution(0.0, 1.0)}
        if number % 2 == 0:  # only when its parent took one value
            params["b"], dists["b"] = rng.randint(1, 4), IntDistribution(1, 4)
        trial = create_trial(params=params, distributions=dists, value=0.0)
        trial.number = number
        trials.append(trial)
    found, note = importances(trials, {t.number: t.params["a"] for t in trials})
    assert set(found) == {"a"}
    assert note.endswith("not measured (absent from some trials: conditional): b")


def test_importance_without_scikit_learn_is_a_note_not_an_error():
    """fANOVA needs scikit-learn, which only the extras pulled in: on the README's plain
    install, summarize and export-best ended in "internal error: ImportError"."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['sklearn'] = None\n"  # as if it were not installed
        "from optuna.distributions import FloatDistribution\n"
        "from optuna.trial import create_trial\n"
        "from sweeper.summarize.importance import importances\n"
        "ts = [create_trial(params={'a': x / 10}, distributions={'a': FloatDistribution(0, 1)},"
        " value=0.0) for x in range(5)]\n"
        "for i, t in enumerate(ts): t.number = i\n"
        "print(importances(ts, {i: float(i) for i in range(5)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("({}, ") and "needs scikit-learn" in out.stdout, out.stdout


def test_scikit_learn_is_a_dependency_of_the_plain_install():
    from importlib.metadata import requires

    plain = [r for r in requires("sovits-sweeper") or [] if "extra ==" not in r]
    assert any(r.startswith("scikit-learn") for r in plain), plain


def test_huge_weights_keep_the_composite():
    """Weights need not sum to 1: 1e308 each summed to inf, every score was 0 and the trials
    were ordered by their steps (a probe). Divided by the largest, they rank as 1 and 1."""
    cands = [_c(0, 10, a=3.0, b=3.0), _c(1, 300, a=1.0, b=1.0), _c(2, 20, a=2.0, b=2.0)]
    huge = _order(cands, "a", "b", mode="composite", weights={"a": 1e308, "b": 1e308})
    assert huge == _order(cands, "a", "b", mode="composite", weights={"a": 1, "b": 1}) == [1, 2, 0]
    ranked, _ = rank(cands, Criteria("composite", ("a", "b"), {"a": "min", "b": "min"},
                                     {"a": 1e308, "b": 1e-300}, "minmax"))  # fmt: skip
    assert [r.score for r in ranked] == pytest.approx([0.0, 0.5, 1.0])  # a alone, in effect


@pytest.mark.parametrize("mode", ["lexicographic", "pareto"])
def test_float_noise_does_not_decide_a_place(mode):
    """0.1 + 0.2 against 0.3 (4e-17 apart) decided the lexicographic order before the second
    metric was consulted; now they tie there, and val/b (or the compute) decides."""
    cands = [_c(0, 100, val_a=0.1 + 0.2, val_b=1.0), _c(1, 100, val_a=0.3, val_b=2.0)]
    assert _order(cands, "val/a", "val/b", mode=mode) == [0, 1]
    # relative digits, not absolute: noise at 3e5 ties, a real difference at 1e-5 still counts
    assert _order([_c(0, 200, m=3e5 * (1 - 1e-15)), _c(1, 100, m=3e5)], "m", mode=mode) == [1, 0]
    assert _order([_c(0, 200, m=3e5 - 1e-5), _c(1, 100, m=3e5)], "m", mode=mode) == [0, 1]
    assert _order([_c(0, 200, m=3e-9), _c(1, 100, m=3.01e-9)], "m", mode=mode) == [0, 1]

def test_rank_normalisation_ties_float_noise():
    assert normalise([0.1 + 0.2, 0.3, 1.0], "rank") == [0.25, 0.25, 1.0]
