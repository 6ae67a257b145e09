"""Work per ``ConvergencePruner.should_prune`` call in a plain Optuna study.

Twenty trials of 300 reports each (power-law mel-like curves, 3 % noise, each trial's level
one higher than the last, so later trials are behind and the catch-up bound is computed),
in an in-memory study; every ``trial.should_prune()`` is timed.

    python benchmarks/bench_should_prune.py [--trials 20] [--reports 300]

Prints the number of calls and their median, mean and 95th percentile in milliseconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import optuna

from sweeper.pruning import ConvergencePruner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--reports", type=int, default=300)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    budget = args.reports
    study = optuna.create_study(pruner=ConvergencePruner(budget=budget, catch_up=True))
    seconds = []
    for n in range(args.trials):
        trial = study.ask()
        rng = np.random.default_rng(n)
        level = 20.0 + n
        for step in range(1, budget + 1):
            clean = level * (1 + 2 * (1 + step / 15) ** -0.7)
            trial.report(float(clean * (1 + 0.03 * rng.normal())), step)
            start = time.perf_counter()
            stop = trial.should_prune()
            seconds.append(time.perf_counter() - start)
            if stop:
                break
        state = optuna.trial.TrialState.PRUNED if stop else optuna.trial.TrialState.COMPLETE
        study.tell(trial, state=state, values=None if stop else level)
    ms = np.array(seconds) * 1000.0
    print(
        f"{ms.size} calls: median {np.median(ms):.2f} ms, mean {ms.mean():.2f} ms, "
        f"p95 {np.percentile(ms, 95):.2f} ms"
    )


if __name__ == "__main__":
    main()
