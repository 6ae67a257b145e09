"""How much compute ConvergencePruner's rules need when its forecast is perfect.

The catch-up rule lowers a trial's smoothed best by U, an upper bound on the improvement it
has left, and compares it with the other trials' bests. Here U is replaced by the truth (the
file's ``val_true``, else the bench's smoothed estimate): the relative gain the curve really
has left after this step. Whatever compute this still needs comes from the rest of the rules
- the wait for 20 reports, the noise margin, the top-share test - not from the forecast.

    python benchmarks/bench_pruner_oracle.py benchmarks/data/reference_curves.npz --orders 5

Rows: the shipped pruner; the oracle U; the oracle U without the noise term of the margin
(epsilon alone). Same replay, orders and scores as ``sweeper bench pruner``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping

import numpy as np

from sweeper.bench import _replay
from sweeper.bench import pruner as bench
from sweeper.bench.curves import load
from sweeper.pruning import ConvergencePruner, _pruner, stop_verdict


class OraclePruner(ConvergencePruner):
    """ConvergencePruner whose improvement bound is the curve's true gain left.

    The shipped bound is ``improvement_left_upper``, called by ``_standing``; while the
    latter runs, the name is pointed at :meth:`_oracle_upper`. (Until 2026-12-07 this
    overrode a method ``_improvement_upper`` that a refactor had removed, so the "oracle"
    rows were the shipped rules; the checks below fail loudly if that happens again.)
    """

    def __init__(self, truth: np.ndarray, steps: np.ndarray, noise_margin: bool, **kw) -> None:
        super().__init__(**kw)
        self.truth, self.steps, self.current = truth, steps, -1
        if not noise_margin:
            self._z = 0.0

    def _standing(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        shipped = _pruner.improvement_left_upper
        _pruner.improvement_left_upper = self._oracle_upper
        try:
            return super()._standing(*args, **kwargs)
        finally:
            _pruner.improvement_left_upper = shipped

    def _oracle_upper(
        self,
        values: Mapping[int, float],
        sign: float,
        step: int,
        budget: int | None,
        alpha: float,
        scale: float | None = None,
    ) -> float | None:
        ORACLE_CALLS[0] += 1
        if sum(1 for v in values.values() if math.isfinite(v)) < 20:
            return None  # the shipped rule's wait: a trend needs 20 reports
        row = self.truth[self.current]
        at = int(np.searchsorted(self.steps, step, side="right"))
        now, ahead = np.nanmin(row[:at]), np.nanmin(row[at - 1 :])
        return max(0.0, 1.0 - ahead / now) if math.isfinite(now) and now > 0 else None


ORACLE_CALLS = [0]  # across every OraclePruner of the run (jobs=1: one process)


class _Judge(_replay.OptunaJudge):
    def judge(self, trial: int, index: int, step: int, value: float) -> str:
        self.study.pruner.current = trial  # type: ignore[attr-defined]
        return super().judge(trial, index, step, value)


def _method(name: str, truth: np.ndarray, steps: np.ndarray, noise_margin: bool) -> bench.Method:
    def build(grid: bench.Grid, study: str) -> _replay.Judge:
        pruner = OraclePruner(truth, steps, noise_margin, budget=int(grid.steps[-1]))

        def keep(trial: object) -> bool:
            verdict = stop_verdict(trial)  # type: ignore[arg-type]
            return verdict is not None and verdict.get("rule") in bench.KEEP_RULES

        return _Judge(pruner, study, keep)

    return bench.Method(name, lambda g: name, build)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves")
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    curves = load(args.curves)
    truth = bench.truth_of(curves).val_true
    steps = np.asarray(curves.steps)
    methods = [
        bench.METHODS["sweeper"],
        _method("oracle-U", truth, steps, noise_margin=True),
        _method("oracle-U, margin epsilon only", truth, steps, noise_margin=False),
    ]
    for name, where in (("improvement_left_upper", _pruner), ("_standing", ConvergencePruner)):
        if not hasattr(where, name):
            raise SystemExit(f"{__file__}: sweeper.pruning has no {name} any more; update me")
    _, results = bench.run(curves, methods, n_orders=args.orders, seed=args.seed)
    if ORACLE_CALLS[0] == 0:
        raise SystemExit(f"{__file__}: the oracle bound was never asked; update me")
    print(f"{args.curves}: {curves.n_curves} curves, {args.orders} orders, concurrency 4")
    for result in results:
        cells = []
        for field in ("compute", "regret", "top10_cut"):
            mid, lo, hi = result.summary(field)  # type: ignore[misc]
            cells.append(f"{field} {mid:.3f} [{lo:.3f}-{hi:.3f}]")
        print(f"{result.method.name:32s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
