"""Per-report cost of the Optuna study storages, with several worker processes at once.

    python benchmarks/bench_storage.py                        # every storage, 4 processes
    python benchmarks/bench_storage.py --processes 8 --storages journal postgresql
    python benchmarks/bench_storage.py --postgres postgresql://user@db:5432/optuna

Each process asks for trials of one shared study and, per step, calls ``trial.report`` then
``trial.should_prune`` (the work the sweep's scheduler does for every Ray Tune result); the
time of that pair is one "call". ``memory`` cannot be shared between processes, so there each
process has a study of its own: the floor the shared storages are measured against.
Without ``--postgres`` a throwaway server is started from Debian's ``postgresql`` package
(tests/cluster/local_postgres.py says what that needs).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

STORAGES = ("memory", "journal", "sqlite", "postgresql")
PRUNERS = ("convergence", "median")


def curve(trial: int, step: int) -> float:
    """A decaying loss: even trials good, odd ones worse by a margin (so Median prunes them)."""
    floor = 0.3 + (0.5 if trial % 2 else 0.0) + 0.01 * (trial % 5)
    return floor + math.exp(-0.3 * step) + 0.002 * math.sin(7 * step + trial)


def make_pruner(kind: str, steps: int):
    import optuna

    from sweeper.pruning import ConvergencePruner

    if kind == "convergence":
        return ConvergencePruner(budget=steps - 1)
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)
    raise ValueError(f"pruner must be one of {PRUNERS}, got {kind!r}")


@dataclass
class WorkerResult:
    worker: int
    trials: list[tuple[int, list[int], str]] = field(default_factory=list)  # number, steps, state
    costs: list[float] = field(default_factory=list)  # seconds per report + should_prune


def worker(spec: str, study_name: str, pruner: str, index: int, trials: int, steps: int):
    """One process: ``trials`` trials of the shared study, reporting up to ``steps`` values."""
    import optuna
    from optuna.trial import TrialState

    from sweeper.tune.storage import open_study_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if spec == "memory":
        storage = optuna.storages.InMemoryStorage()
        optuna.create_study(study_name=study_name, storage=storage)
    else:
        storage = open_study_storage(spec)
    study = optuna.load_study(
        study_name=study_name, storage=storage, pruner=make_pruner(pruner, steps)
    )
    out = WorkerResult(index)
    for _ in range(trials):
        trial = study.ask()
        trial.set_user_attr("worker", index)
        reported: list[int] = []
        state = TrialState.COMPLETE
        for step in range(steps):
            value = curve(trial.number, step)
            t0 = time.perf_counter()
            trial.report(value, step)
            stop = trial.should_prune()
            out.costs.append(time.perf_counter() - t0)
            reported.append(step)
            if stop:
                state = TrialState.PRUNED
                break
        if state is TrialState.PRUNED:
            study.tell(trial, state=state)
        else:
            study.tell(trial, curve(trial.number, steps - 1))
        out.trials.append((trial.number, reported, state.name))
    return out


@dataclass
class Run:
    spec: str
    study_name: str
    results: list[WorkerResult]
    wall_s: float

    @property
    def costs_ms(self) -> list[float]:
        return [c * 1000 for r in self.results for c in r.costs]

    def row(self, label: str, pruner: str) -> str:
        ms = sorted(self.costs_ms)
        p99 = ms[min(len(ms) - 1, math.ceil(0.99 * len(ms)) - 1)]
        rate = len(ms) / self.wall_s
        return (
            f"{label:<11} {pruner:<12} {statistics.fmean(ms):>8.2f} {statistics.median(ms):>8.2f}"
            f" {p99:>8.2f} {rate:>9.0f} {len(ms):>6}"
        )


HEADER = f"{'storage':<11} {'pruner':<12} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'calls/s':>9} {'calls':>6}"  # noqa: E501


def run_workload(
    spec: str, *, processes: int = 4, trials: int = 6, steps: int = 15, pruner: str = "median"
) -> Run:
    """Create a fresh study in ``spec`` and run ``processes`` workers on it at once."""
    import optuna

    from sweeper.tune.storage import open_study_storage

    name = f"bench-{uuid.uuid4().hex[:8]}"
    if spec != "memory":
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # Created once here: concurrent first opens would race to create it (and the tables).
        optuna.create_study(study_name=name, storage=open_study_storage(spec))
    # spawn: a fresh interpreter per worker, as on separate nodes (no forked DB connections).
    ctx = multiprocessing.get_context("spawn")
    args = [(spec, name, pruner, i, trials, steps) for i in range(processes)]
    with ctx.Pool(processes) as pool:
        # Start every process (imports included) before the clock runs.
        pool.map(_warm, range(processes))
        t0 = time.perf_counter()
        results = pool.starmap(worker, args)
        wall = time.perf_counter() - t0
    return Run(spec, name, results, wall)


def _warm(_: int) -> None:
    import optuna  # noqa: F401

    import sweeper.pruning
    import sweeper.tune.storage  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--storages", nargs="+", choices=STORAGES, default=list(STORAGES))
    parser.add_argument("--pruners", nargs="+", choices=PRUNERS, default=list(PRUNERS))
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--trials", type=int, default=6, help="trials per process")
    parser.add_argument("--steps", type=int, default=20, help="reports per trial (at most)")
    parser.add_argument("--postgres", default=None, help="an existing server's URL")
    args = parser.parse_args(argv)

    server = None
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        try:
            specs = {
                "memory": "memory",
                "journal": str(Path(tmp) / "study.journal"),
                "sqlite": f"sqlite:///{tmp}/study.db",
                "postgresql": args.postgres,
            }
            if "postgresql" in args.storages and args.postgres is None:
                sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cluster"))
                from local_postgres import PostgresServer

                server = PostgresServer().start()
                specs["postgresql"] = server.url
            print(
                f"{args.processes} processes x {args.trials} trials x up to {args.steps} "
                "reports; one call = trial.report + trial.should_prune"
            )
            print(HEADER)
            for label in args.storages:
                for pruner in args.pruners:
                    run = run_workload(
                        specs[label], processes=args.processes, trials=args.trials,
                        steps=args.steps, pruner=pruner,
                    )  # fmt: skip
                    print(run.row(label, pruner), flush=True)
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
