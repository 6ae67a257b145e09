"""``sweeper bench``: benchmarks over curve sets with known truth.

- ``sweeper bench detector CURVES.npz [--json] [--methods NAME ...]``: replay every curve
  through our detector and the anchors; one row of scores per method.
- ``sweeper bench pruner CURVES.npz [--json] [--methods NAME ...] [--orders K]
  [--concurrency C] [--seed S]``: replay the curves as sweeps; compare pruners.
- ``sweeper bench curves OUT.npz [--n N] [--seed S]``: write a generated curve set.
- ``sweeper bench record SWEEP_DIR... OUT.npz [--metric M]``: write the curves of finished
  sweeps (their ``trial_*/result.json``), for the two replays.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sweeper.cli._args import seed_arg
from sweeper.cli._bench_progress import Heartbeat, cores, progress_lines
from sweeper.cli._bench_tables import LEGEND, PRUNER_LEGEND, kind_table, pruner_table, table
from sweeper.errors import InputError

if TYPE_CHECKING:  # numpy-heavy; imported for real inside the commands
    from sweeper.bench.detector import Method

HELP = "benchmark stopping rules on curve sets with known truth, or generate such a set"

_PLOT_HELP = "also draw each method on the trade-offs it is scored on, targets shaded (PNG)"
_MAXIMIZE_HELP = (
    "val is a metric where higher is better (accuracy, MOS): replayed negated, as a loss "
    "(train stays a loss)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", metavar="BENCH")
    det = sub.add_parser(
        "detector",
        help="score our detector and the anchors on a curves file",
        description="Replay each curve through our convergence detector and re-implemented "
        "anchors (Keras/Lightning patience, Ray plateau, Prechelt GL/UP, Mann-Kendall) and "
        "report false stops, compute saved, delay, overfitting and divergence caught.",
    )
    det.add_argument("curves", metavar="CURVES.npz", help="steps (T,), val (N, T), optional train")
    det.add_argument("--json", action="store_true", help="print the scores as JSON")
    det.add_argument("--plot", metavar="OUT.png", help=_PLOT_HELP)
    det.add_argument("--maximize", action="store_true", help=_MAXIMIZE_HELP)
    det.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        help="methods to run, space- or comma-separated (default: all; see the table)",
    )
    det.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="processes replaying curves at once; the results do not depend on it "
        "(default: one per CPU core)",
    )
    det.set_defaults(_bench=_run_detector)
    _configure_pruner(sub)
    gen = sub.add_parser(
        "curves",
        help="write a generated set of so-vits-like curves with their truth",
        description="Generate plateau, late plateau, slow, overfitting, two-phase, diverging "
        "and flat curves with so-vits mel noise (CV 2-9 %, AR(1), upward spikes).",
    )
    gen.add_argument("out", metavar="OUT.npz", help="where to write the .npz")
    gen.add_argument("--n", type=int, default=400, help="number of curves (default 400)")
    gen.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    gen.add_argument("--points", type=int, default=300, help="points per curve (default 300)")
    gen.add_argument(
        "--wander",
        type=float,
        nargs=2,
        default=(0.0, 0.0),
        metavar=("LO", "HI"),
        help="slow drift of the level, as a multiple of the noise cv (default: none)",
    )
    gen.set_defaults(_bench=_run_curves)
    rec = sub.add_parser(
        "record",
        help="write the curves of a finished sweep (trial_*/result.json) as a curves file",
        description="Read every trial_*/result.json of a sweep folder and write its val/mel "
        "and training mel curves on the common evaluation grid (NaN after a trial ends), "
        "the file `bench detector` and `bench pruner` replay. Record a sweep run with "
        "`pruner: null`, so that every curve runs to its budget.",
    )
    rec.add_argument(
        "sweep_dir", metavar="SWEEP_DIR", nargs="+", help="sweep folders (trial_* inside)"
    )
    rec.add_argument("out", metavar="OUT.npz", help="where to write the .npz")
    rec.add_argument("--metric", default="val/mel", help="the judged metric (default val/mel)")
    rec.set_defaults(_bench=_run_record)
    parser.set_defaults(_bench=None, _bench_usage=parser.format_usage)


def run(args: argparse.Namespace) -> int:
    if args._bench is None:
        print(args._bench_usage(), end="", file=sys.stderr)
        print(
            "sweeper bench: choose a benchmark: detector, pruner, curves or record",
            file=sys.stderr,
        )
        return 2
    return int(args._bench(args))


def _run_curves(args: argparse.Namespace) -> int:
    from collections import Counter

    from sweeper.bench.curves import check_output
    from sweeper.bench.generator import generate

    out = check_output(args.out)
    curves = generate(args.n, seed=args.seed, points=args.points, wander=tuple(args.wander))
    curves.save(out)
    counts = ", ".join(f"{k} {c}" for k, c in Counter(curves.kind.tolist()).most_common())
    print(f"wrote {out}: {args.n} curves x {args.points} points ({counts})")
    return 0


def _run_record(args: argparse.Namespace) -> int:
    from sweeper.bench import record
    from sweeper.bench.curves import check_output

    out = check_output(args.out)
    curves, names, skipped = record.read_sweep(args.sweep_dir, args.metric)
    record.write(curves, names, out)
    lengths = curves.lengths()
    print(
        f"wrote {out}: {curves.n_curves} curves of {args.metric} on {curves.steps.size} "
        f"steps ({int(curves.steps[0])}..{int(curves.steps[-1])}), {int(lengths.min())}-"
        f"{int(lengths.max())} points each, training mel "
        f"{'included' if curves.train is not None else 'absent'}"
    )
    if skipped:
        print(f"skipped {len(skipped)} trials with no finite {args.metric}: {', '.join(skipped)}")
    return 0


def _run_detector(args: argparse.Namespace) -> int:
    from sweeper.bench import curves, detector

    jobs = cores() if args.jobs is None else args.jobs
    if jobs < 1:
        raise InputError(f"--jobs must be >= 1, got --jobs {jobs}; pass a positive count")
    methods = _pick(args.methods, detector.METHODS)
    _check_plot(args.plot)
    data = _load(curves, args)

    progress = progress_lines(methods, data.n_curves, "curves")
    truth, results = detector.run(data, methods, progress, jobs)
    plot = None
    if args.plot is not None:
        from sweeper.bench.plots import detector_png

        title = f"sweeper bench detector {args.curves}: {data.n_curves} curves"
        plot = detector_png(results, title, args.plot)
    if args.json:
        print(_dumps(detector.to_json(args.curves, truth, results)))
    else:
        source = "estimated by a robust smoother" if truth.estimated else "given"
        print(f"{args.curves}: {data.n_curves} curves, truth {source}")
        print(table(results))
        print()
        print(kind_table(truth, results))
        print(textwrap.fill(LEGEND, width=99))
    _wrote(plot, args.json)
    return 0


def _check_plot(plot: str | None) -> None:
    if plot is not None:
        from sweeper.bench.plots import check_writable

        check_writable(plot)


def _wrote(plot: Any, quiet_stdout: bool) -> None:
    """Name the plot written, if any: on stderr when stdout carries JSON."""
    if plot is not None:
        print(f"wrote {plot}", file=sys.stderr if quiet_stdout else sys.stdout)


def _load(curves: Any, args: argparse.Namespace) -> Any:
    """The curves file, negated with --maximize; notes on holes and rising curves."""
    data = curves.load(args.curves)
    if args.maximize:
        data = data.negated()
    for note in (data.holes_note(), data.rising_note(maximize=args.maximize)):
        if note is not None:
            print(note, file=sys.stderr)
    return data


def _dumps(document: object) -> str:
    """Strict JSON: a non-finite number is null (json.dumps would write NaN or Infinity,
    which JSON parsers other than Python's refuse)."""
    return json.dumps(_finite(document), indent=2, allow_nan=False)


def _finite(x: object) -> object:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, Mapping):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def _pick(requested: Sequence[str] | None, known: Mapping[str, Method]) -> list[Method]:
    if requested is None:
        return list(known.values())
    names = list(dict.fromkeys(n for item in requested for n in item.split(",") if n))
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        what = f"unknown method(s) {unknown}" if unknown else "--methods names no method"
        raise InputError(f"{what}; choose from {', '.join(known)}")
    return [known[n] for n in names]


# ---------------------------------------------------------------------------------------------
# sweeper bench pruner

def _configure_pruner(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser(
        "pruner",
        help="replay a curves file as sweeps and compare pruners",
        description="Replay each curve as one trial of a sweep, in several random trial "
        "orders with a few trials running at once, and compare ConvergencePruner with "
        "Optuna's Median, Successive Halving, Hyperband and Patient pruners, Ray's ASHA and "
        "TrialPlateauStopper, and no pruning: compute, regret of the chosen best, share of "
        "the true top 10 % cut, rank correlation.",
    )
    pr.add_argument(
        "curves",
        metavar="CURVES.npz",
        help="steps (T,), val (N, T), optional train (N, T) and val_true",
    )
    pr.add_argument("--json", action="store_true", help="print the scores and stops as JSON")
    pr.add_argument("--plot", metavar="OUT.png", help=_PLOT_HELP)
    pr.add_argument("--maximize", action="store_true", help=_MAXIMIZE_HELP)
    pr.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        help="methods to run, space- or comma-separated (default: all; see the table)",
    )
    pr.add_argument("--orders", type=int, default=5, help="trial orders (sweeps), default 5")
    pr.add_argument(
        "--concurrency", type=int, default=4, help="trials running at once (default 4)"
    )
    pr.add_argument(
        "--seed", type=seed_arg, default=0, help="seed of the trial orders (default 0)"
    )
    pr.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="orders replayed at once, each in a process of its own; the results do not "
        "depend on it (default: one per CPU core, at most --orders)",
    )
    pr.set_defaults(_bench=_run_pruner)


def _run_pruner(args: argparse.Namespace) -> int:
    from sweeper.bench import curves, pruner

    given = {"--orders": args.orders, "--concurrency": args.concurrency, "--jobs": args.jobs}
    bad = {name: n for name, n in given.items() if n is not None and n < 1}
    if bad:  # only what was given (--orders 0 named a "--jobs 0" nobody passed)
        got = " ".join(f"{name} {n}" for name, n in bad.items())
        raise InputError(
            f"--orders, --concurrency and --jobs must be >= 1, got {got}; pass positive counts"
        )
    jobs = min(args.orders, cores()) if args.jobs is None else args.jobs
    methods: list[pruner.Method] = _pick(args.methods, pruner.METHODS)  # type: ignore[arg-type]
    _check_plot(args.plot)
    data = _load(curves, args)

    with Heartbeat(progress_lines(methods, args.orders, "orders")) as progress:
        truth, results = pruner.run(
            data,
            methods,
            n_orders=args.orders,
            concurrency=args.concurrency,
            seed=args.seed,
            progress=progress,
            jobs=jobs,
        )
    setup = {"orders": args.orders, "concurrency": args.concurrency, "seed": args.seed}
    plot = None
    if args.plot is not None:
        from sweeper.bench.plots import pruner_png

        title = (
            f"sweeper bench pruner {args.curves}: {data.n_curves} curves, median of "
            f"{args.orders} orders [min-max]"
        )
        plot = pruner_png(results, title, args.plot)
    if args.json:
        print(_dumps(pruner.to_json(args.curves, truth, results, **setup)))
    else:
        source = "estimated by a robust smoother" if truth.estimated else "given (val_true)"
        print(
            f"{args.curves}: {data.n_curves} curves, {args.orders} orders, concurrency "
            f"{args.concurrency}, seed {args.seed}; truth {source}"
        )
        print(pruner_table(results))
        print(textwrap.fill(PRUNER_LEGEND, width=99))
    _wrote(plot, args.json)
    return 0


