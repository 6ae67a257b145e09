"""False stops of the plateau rule on still-improving shapes that ``bench curves`` does not make.

The generated set's slow curves are power laws, which decelerate in log-steps, the trend's
own coordinates. Curves from other generators, or from a run whose learning rate holds the
fall steady, need not: a fall linear in steps, an exponential approach slower than the budget
and a late sigmoid drop all steepen in log-steps. Each family is sampled so that more than
2.5 % is still to gain at 90 % of the budget, with the bench's noise (CV 2-9 %, AR(1) lag-1
in [-0.5, 0.35], 2 % upward spikes), and replayed through ``PlateauDetector`` with the
budget as horizon, steps counted from 0 and from one interval.

    python benchmarks/bench_detector_shapes.py --curves 100

A false stop is a stop while the true curve still had more than 2 % to gain by the end of
the budget, as in ``sweeper bench detector``. The late sigmoid drop is a flat stretch and
then a fall: like the generated two-phase curves, no rule that looks only at the past can
see it coming; it is there to show that, not as a target.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from sweeper.detect import PlateauDetector, first_stop
from sweeper.testing import noisy, stream

FAMILIES = ("linear", "slow_exponential", "late_sigmoid")


def sample(family: str, seed: int, points: int) -> tuple[np.ndarray, np.ndarray]:
    """(true curve, noisy curve) of one family, still > 2.5 % to gain at 90 % of the budget."""
    rng = np.random.default_rng(seed)
    x = np.arange(1, points + 1) / points
    while True:
        level = rng.uniform(12, 30)
        if family == "linear":
            true = level * (1 + rng.uniform(0.05, 0.5) * (1 - x))
        elif family == "slow_exponential":
            true = level + level * rng.uniform(0.1, 1.0) * np.exp(-x / rng.uniform(0.3, 3.0))
        else:
            centre, width = rng.uniform(0.4, 0.9), rng.uniform(0.05, 0.3)
            true = level * (1 + rng.uniform(0.05, 0.4) / (1 + np.exp((x - centre) / width)))
        if (true[int(0.9 * points) - 1] - true[-1]) / true[-1] > 0.025:
            break
    cv, phi = rng.uniform(0.02, 0.09), rng.uniform(-0.5, 0.35)
    return true, noisy(true, cv, seed=seed, phi=phi, spike_prob=0.02)


def replay(args: tuple[str, int, int, int]) -> tuple[bool, float]:
    """(false stop, fraction of the budget saved) for one curve."""
    family, seed, points, first_step = args
    true, values = sample(family, seed, points)
    steps = np.arange(points) * 100 + first_step
    det = PlateauDetector("val/mel", budget=int(steps[-1]))
    first, _ = first_stop(det, stream(steps, val__mel=values))
    if first is None:
        return False, 0.0
    i = int(np.searchsorted(steps, first.step))
    left = (true[: i + 1].min() - true[i:].min()) / true[: i + 1].min()
    return bool(left > 0.02), 1.0 - (i + 1) / points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=int, default=100, help="curves per family")
    parser.add_argument("--points", type=int, default=300, help="evaluations per curve")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"{'family':18s} {'first step':>10s} {'false stop':>11s} {'saved':>7s}")
    with ProcessPoolExecutor(args.workers) as pool:
        for family in FAMILIES:
            for first_step in (0, 100):
                jobs = [(family, s, args.points, first_step) for s in range(args.curves)]
                results = list(pool.map(replay, jobs, chunksize=5))
                false = sum(r[0] for r in results) / len(results)
                saved = float(np.mean([r[1] for r in results]))
                print(f"{family:18s} {first_step:>10d} {100 * false:>10.1f}% {100 * saved:>6.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
