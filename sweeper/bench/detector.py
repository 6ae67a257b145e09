"""Replay curves with known truth through stopping rules and score when each one stopped.

Every curve is fed point by point, ``(step, {"val/mel": val, "loss/g/mel": train})``, to a fresh
detector per method until its first stopping verdict. A stop keeps the best checkpoint so far,
so the improvement a stop at index s gave up is ``left = (min(val_true[:s+1]) - min) / min``.

Scores per method (None when a score has no curve to be computed on):
- ``false_stop_rate``: stopped curves (all kinds but ``diverge``) with ``left`` > 2 %;
- ``compute_saved``: mean of ``1 - (s+1)/L`` (L points in the curve; s = L-1 when never stopped),
  and ``compute_saved_plateau`` on the curves that plateau by mid-budget (``plateau``, ``flat``);
- ``delay_median``: median of ``(s - onset)/L`` over the stops on plateau-like and overfit curves;
- ``overfit_caught``: ``overfit`` curves stopped by ``onset + 0.1 L`` with ``left`` <= 2 %;
- ``overfit_named``: ``overfit`` curves whose stop says OVERFITTING (at any time: the name
  a user reads, apart from whether it came in time);
- ``false_overfitting``: curves of the other healthy kinds whose stop says OVERFITTING;
- ``false_diverged``: non-``diverge`` curves whose stop says DIVERGED;
- ``divergence_caught``: ``diverge`` curves stopped by ``onset + 5`` (a run already stopped
  before it diverged, for any reason, did no harm and counts as caught).

Without truth arrays (a user's own curves) the truth is estimated: see
:func:`sweeper.bench.truth.estimate_truth`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sweeper.bench import _orders
from sweeper.bench.curves import CurveSet, curve_base
from sweeper.bench.truth import FALSE_STOP_LEFT, Truth, truth_of
from sweeper.detect import ConvergenceDetector, Detector
from sweeper.detect.anchors import (
    GLDetector,
    MannKendallDetector,
    PatienceDetector,
    RayPlateauDetector,
    UPDetector,
)

VAL, TRAIN = "val/mel", "loss/g/mel"
OVERFIT_WINDOW = 0.1  # overfitting must be caught within 10 % of the budget after onset
DIVERGE_WINDOW = 5  # points after the divergence onset that still count as caught
PLATEAU_LIKE = ("plateau", "late_plateau", "two_phase", "flat")
MID_BUDGET = ("plateau", "flat")
CHUNK = 50  # curves per block: a progress line, and a job for a forked process


@dataclass(frozen=True)
class Method:
    """A named stopping rule: ``build(budget_step)`` returns a fresh detector."""

    name: str
    settings: str
    build: Callable[[int], Detector]


# Each anchor runs at its published defaults and at one tuned setting, chosen on a generated
# set with another seed (seed 1, n=400) over a grid per family: the most compute saved on
# mid-budget plateaus among settings with <= 5 % false stops. No GL setting that stops at all
# gets there (alpha >= 160 never stops); its tuned row is alpha=80, the fewest false stops of
# those that still stop (23 %). Ray's std is absolute, so its tuned row is the relative one.
# Prechelt's P_5 safeguard is off: on noisy GAN losses P_5 never falls below 0.1.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "sweeper",
            "ConvergenceDetector(budget=last step)",
            lambda b: ConvergenceDetector(budget=b),
        ),
        Method("keras", "patience=0, min_delta=0", lambda b: PatienceDetector.keras(VAL)),
        Method(
            "keras-tuned",
            "patience=100, min_delta=0.2",
            lambda b: PatienceDetector.keras(VAL, patience=100, min_delta=0.2),
        ),
        Method("lightning", "patience=3, min_delta=0", lambda b: PatienceDetector.lightning(VAL)),
        Method(
            "lightning-tuned",
            "patience=100, min_delta=0.2",
            lambda b: PatienceDetector.lightning(VAL, patience=100, min_delta=0.2),
        ),
        Method("ray", "std=0.01, num_results=4, grace=4", lambda b: RayPlateauDetector(VAL)),
        Method(
            "ray-tuned",
            "relative std=0.03, num_results=160, grace=160",
            lambda b: RayPlateauDetector(VAL, 0.03, 160, 160, relative=True),
        ),
        Method("gl", "alpha=2", lambda b: GLDetector(VAL, 2.0)),
        Method("gl-tuned", "alpha=80", lambda b: GLDetector(VAL, 80.0)),
        Method("up", "strip=5, s=3", lambda b: UPDetector(VAL)),
        Method("up-tuned", "strip=25, s=3", lambda b: UPDetector(VAL, strip=25, s=3)),
        Method("mk", "window=40, alpha=0.05", lambda b: MannKendallDetector(VAL)),
        Method("mk-tuned", "window=150, alpha=0.05", lambda b: MannKendallDetector(VAL, 150)),
    )
}


@dataclass(frozen=True)
class Score:
    """One method's scores (see the module docstring); None: no curve to measure it on."""

    false_stop_rate: float | None
    compute_saved: float | None
    compute_saved_plateau: float | None
    delay_median: float | None
    overfit_caught: float | None
    overfit_named: float | None
    false_overfitting: float | None
    false_diverged: float | None
    divergence_caught: float | None


@dataclass(frozen=True)
class Result:
    """One method's replay: first stop index per curve (None: never) and its reason."""

    method: Method
    stops: list[int | None]
    reasons: list[str | None]
    score: Score


def first_stops(
    curves: CurveSet,
    build: Callable[[int], Detector],
    tick: Callable[[int], None] | None = None,
    jobs: int = 1,
) -> tuple[list[int | None], list[str | None]]:
    """Replay every curve through a fresh detector: first stop index and reason per curve.

    Only the points within a curve's length are fed; a NaN ``val`` inside it is data (a
    divergence). A NaN training value is not fed: it is a training loss not logged at that
    evaluation (``bench record`` writes NaN at step 0, and where a sweep logs less often than
    it evaluates), as ``bench pruner`` (``report_training``) skips it. Until 2026-12-07 one
    after a finite one was fed, and every such curve was stopped as diverged.
    Curves are independent: blocks of ``CHUNK`` are replayed by up to ``jobs`` forked
    processes, with the same result as one. ``tick(curves_done)`` is called after each block.
    """
    lengths = curves.lengths()
    blocks = [range(a, min(a + CHUNK, curves.n_curves)) for a in range(0, curves.n_curves, CHUNK)]

    def one(k: int) -> list[tuple[int | None, str | None]]:
        return [_first_stop(curves, build, i, int(lengths[i])) for i in blocks[k]]

    stops: list[int | None] = []
    reasons: list[str | None] = []
    for block in _orders.each(one, len(blocks), jobs):
        for stop, reason in block:
            stops.append(stop)
            reasons.append(reason)
        if tick is not None:
            tick(len(stops))
    return stops, reasons


def _first_stop(
    curves: CurveSet, build: Callable[[int], Detector], i: int, length: int
) -> tuple[int | None, str | None]:
    # At least 1: a grid from step 0 with one point would give a budget of 0.
    det = build(max(1, int(curves.steps[length - 1])))
    for t in range(length):
        metrics = {VAL: float(curves.val[i, t])}
        if curves.train is not None and not np.isnan(curves.train[i, t]):
            metrics[TRAIN] = float(curves.train[i, t])
        verdict = det.update(int(curves.steps[t]), metrics)
        if verdict.stops:
            return t, verdict.reason.value
    return None, None


def run(
    curves: CurveSet,
    methods: Sequence[Method],
    progress: Callable[[Method, int, float], None] | None = None,
    jobs: int = 1,
) -> tuple[Truth, list[Result]]:
    """Score each method on ``curves``, its curves replayed by up to ``jobs`` processes.

    ``progress(method, curves_done, seconds)`` is called every ``CHUNK`` curves and at the end.
    """
    truth = truth_of(curves)
    results = []
    for method in methods:
        began = time.perf_counter()

        def tick(done: int, method: Method = method, began: float = began) -> None:
            if progress is not None:
                progress(method, done, time.perf_counter() - began)

        stops, reasons = first_stops(curves, method.build, tick, jobs)
        results.append(Result(method, stops, reasons, score_stops(truth, stops, reasons)))
    return truth, results


def score_stops(truth: Truth, stops: Sequence[int | None], reasons: Sequence[str | None]) -> Score:
    """The scores of one method's first stops against the truth (see the module docstring)."""
    n = len(stops)
    length = truth.length.astype(float)
    s = np.array([length[i] - 1 if stops[i] is None else stops[i] for i in range(n)], float)
    stopped = np.array([x is not None for x in stops])
    left = np.array([_left(truth.val_true[i, : int(length[i])], int(s[i])) for i in range(n)])
    kind, onset = truth.kind, truth.onset
    healthy = kind != "diverge"
    delay_set = stopped & np.isin(kind, (*PLATEAU_LIKE, "overfit"))
    overfit = kind == "overfit"
    diverge = kind == "diverge"
    named_overfitting = np.array([r == "overfitting" for r in reasons])
    return Score(
        false_stop_rate=_mean(left[stopped & healthy] > FALSE_STOP_LEFT),
        compute_saved=_mean(1 - (s + 1) / length),
        compute_saved_plateau=_mean((1 - (s + 1) / length)[np.isin(kind, MID_BUDGET)]),
        delay_median=_median(((s - onset) / length)[delay_set]),
        overfit_caught=_mean(
            (stopped & (s <= onset + OVERFIT_WINDOW * length) & (left <= FALSE_STOP_LEFT))[overfit]
        ),
        overfit_named=_mean(named_overfitting[overfit]),
        false_overfitting=_mean(named_overfitting[healthy & ~overfit]),
        false_diverged=_mean(np.array([r == "diverged" for r in reasons])[healthy]),
        divergence_caught=_mean((stopped & (s <= onset + DIVERGE_WINDOW))[diverge]),
    )


def by_kind(truth: Truth, stops: Sequence[int | None]) -> dict[str, dict[str, float | int]]:
    """Per curve kind: curves, stops, false stops and compute saved - where a rate comes from."""
    out: dict[str, dict[str, float | int]] = {}
    for kind in sorted(set(truth.kind.tolist())):
        idx = np.flatnonzero(truth.kind == kind)
        length = truth.length[idx].astype(float)
        s = np.array([length[j] - 1 if stops[i] is None else stops[i] for j, i in enumerate(idx)])
        stopped = np.array([stops[i] is not None for i in idx])
        left = np.array(
            [
                _left(truth.val_true[i, : int(truth.length[i])], int(s[j]))
                for j, i in enumerate(idx)
            ]
        )
        false = stopped & (left > FALSE_STOP_LEFT) if kind != "diverge" else np.zeros_like(stopped)
        out[kind] = {
            "curves": int(idx.size),
            "stopped": int(stopped.sum()),
            "false_stops": int(false.sum()),
            "compute_saved": float(np.mean(1 - (s + 1) / length)),
        }
    return out


def _left(v_true: np.ndarray, s: int) -> float:
    """True improvement given up by keeping the best checkpoint up to index ``s``."""
    finite = v_true[np.isfinite(v_true)]
    head = v_true[: s + 1]
    head = head[np.isfinite(head)]
    if finite.size == 0 or head.size == 0:
        return math.nan
    best = float(finite.min())
    return (float(head.min()) - best) / curve_base(v_true)


def _mean(x: np.ndarray) -> float | None:
    return float(np.mean(x)) if x.size else None


def _median(x: np.ndarray) -> float | None:
    return float(np.median(x)) if x.size else None


def to_json(path: str, truth: Truth, results: Sequence[Result]) -> dict[str, object]:
    """The ``--json`` document."""
    methods: dict[str, Mapping[str, object]] = {}
    for r in results:
        methods[r.method.name] = {
            "settings": r.method.settings,
            **vars(r.score),
            "by_kind": by_kind(truth, r.stops),
            "stops": list(r.stops),
            "reasons": list(r.reasons),
        }
    return {
        "file": path,
        "truth": "estimated" if truth.estimated else "given",
        "n_curves": int(truth.length.size),
        "methods": methods,
    }
