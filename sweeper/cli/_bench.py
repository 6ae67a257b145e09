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
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sweeper.cli._args import seed_arg
from sweeper.errors import InputError

if TYPE_CHECKING:  # numpy-heavy; imported for real inside the commands
    from sweeper.bench.detector import Method, Result, Truth
    from sweeper.bench.pruner import Result as PrunerResult

HELP = "benchmark stopping rules on curve sets with known truth, or generate such a set"

_COLUMNS = (  # (header, score field, format)
    ("false stop", "false_stop_rate", "{:.1%}"),
    ("saved", "compute_saved", "{:.1%}"),
    ("saved@plateau", "compute_saved_plateau", "{:.1%}"),
    ("delay", "delay_median", "{:+.3f}"),
    ("overfit caught", "overfit_caught", "{:.1%}"),
    ("named", "overfit_named", "{:.1%}"),
    ("false OVERFIT.", "false_overfitting", "{:.1%}"),
    ("false DIVERGED", "false_diverged", "{:.1%}"),
    ("div. caught", "divergence_caught", "{:.1%}"),
)
_LEGEND = (
    "false stop: stopped with > 2 % true improvement left (diverging curves excluded); "
    "saved: 1 - points used / points in the curve, on all curves and on those that plateau "
    "by mid-budget; delay: median (stop - onset) / budget on plateau and overfit curves; "
    "overfit caught: stopped by onset + 10 % of the budget with <= 2 % left; named: overfit "
    "curves whose stop says OVERFITTING; false OVERFIT.: other healthy curves whose stop says "
    "so; "
    "div. caught: stopped no later than 5 points after the divergence (an earlier stop did "
    "no harm); '-': nothing to measure; per kind: false stops / compute saved."
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
    det.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        help="methods to run, space- or comma-separated (default: all; see the table)",
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

    from sweeper.bench.curves import generate

    curves = generate(args.n, seed=args.seed, points=args.points, wander=tuple(args.wander))
    curves.save(args.out)
    counts = ", ".join(f"{k} {c}" for k, c in Counter(curves.kind.tolist()).most_common())
    print(f"wrote {args.out}: {args.n} curves x {args.points} points ({counts})")
    return 0


def _run_record(args: argparse.Namespace) -> int:
    from sweeper.bench import record

    curves, names, skipped = record.read_sweep(args.sweep_dir, args.metric)
    record.write(curves, names, args.out)
    lengths = curves.lengths()
    print(
        f"wrote {args.out}: {curves.n_curves} curves of {args.metric} on {curves.steps.size} "
        f"steps ({int(curves.steps[0])}..{int(curves.steps[-1])}), {int(lengths.min())}-"
        f"{int(lengths.max())} points each, training mel "
        f"{'included' if curves.train is not None else 'absent'}"
    )
    if skipped:
        print(f"skipped {len(skipped)} trials with no finite {args.metric}: {', '.join(skipped)}")
    return 0


def _run_detector(args: argparse.Namespace) -> int:
    from sweeper.bench import curves, detector

    methods = _pick(args.methods, detector.METHODS)
    data = curves.load(args.curves)
    _note_holes(data)

    progress = _progress(methods, data.n_curves, "curves")
    truth, results = detector.run(data, methods, progress)
    if args.json:
        print(json.dumps(detector.to_json(args.curves, truth, results), indent=2))
        return 0
    source = "estimated by a robust smoother" if truth.estimated else "given"
    print(f"{args.curves}: {data.n_curves} curves, truth {source}")
    print(_table(results))
    print()
    print(_kind_table(truth, results))
    print(textwrap.fill(_LEGEND, width=99))
    return 0


def _note_holes(data: Any) -> None:
    note = data.holes_note()
    if note is not None:
        print(note, file=sys.stderr)


def _kind_table(truth: Truth, results: Sequence[Result]) -> str:
    """False stops / compute saved per curve kind: where each method's rates come from."""
    from sweeper.bench import detector

    per = [detector.by_kind(truth, r.stops) for r in results]
    kinds = sorted(per[0]) if per else []
    head = ["false stops/saved"] + [f"{k} ({per[0][k]['curves']})" for k in kinds]
    rows = [head]
    for r, counts in zip(results, per, strict=True):
        rows.append(
            [r.method.name]
            + [
                f"{counts[k]['false_stops']}/{100 * counts[k]['compute_saved']:.0f}%"
                for k in kinds
            ]
        )
    widths = [max(len(row[j]) for row in rows) for j in range(len(head))]
    return "\n".join(
        "  ".join(
            [
                row[0].ljust(widths[0]),
                *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
            ]
        )
        for row in rows
    )


def _progress(methods: Sequence[Any], total: int, unit: str) -> Callable[[Any, int, float], None]:
    """A stderr line per finished method; long replays also report along the way."""

    def progress(method: Any, done: int, seconds: float) -> None:
        if done == total or seconds > 10:
            rank = f"[{methods.index(method) + 1}/{len(methods)}]"
            print(f"{rank} {method.name}: {done}/{total} {unit}, {seconds:.1f} s", file=sys.stderr)

    return progress


def _pick(requested: Sequence[str] | None, known: Mapping[str, Method]) -> list[Method]:
    if requested is None:
        return list(known.values())
    names = [n for item in requested for n in item.split(",") if n]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown method(s) {unknown}; choose from {', '.join(known)}")
    return [known[n] for n in names]


def _table(results: Sequence[Result]) -> str:
    header = ["method", *(h for h, _, _ in _COLUMNS), "settings"]
    rows = [header]
    for r in results:
        cells = [r.method.name]
        for _, field, fmt in _COLUMNS:
            value = getattr(r.score, field)
            cells.append("-" if value is None else fmt.format(value))
        rows.append([*cells, r.method.settings])
    widths = [max(len(row[j]) for row in rows) for j in range(len(header) - 1)]
    lines = []
    for row in rows:
        first = row[0].ljust(widths[0])
        middle = [c.rjust(w) for c, w in zip(row[1:-1], widths[1:], strict=True)]
        lines.append("  ".join([first, *middle, row[-1]]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# sweeper bench pruner

_PRUNER_LEGEND = (
    "Each method: median over the orders [min-max]. Every trial keeps its best checkpoint up "
    "to its stop, pruned or not. compute: points reported / all points; regret: true value of "
    "the best trial held over the oracle's, - 1; top10 cut: share of the true top 10 % stopped "
    "> 1 % short of their true best; rho: Spearman between the true ranking and the sweep's "
    "(by reported best); picked: regret of the trial with the lowest reported value (noise "
    "adds to it whatever the pruner)."
)


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
        "curves", metavar="CURVES.npz", help="steps (T,), val (N, T), optional val_true"
    )
    pr.add_argument("--json", action="store_true", help="print the scores and stops as JSON")
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
    pr.set_defaults(_bench=_run_pruner)


def _run_pruner(args: argparse.Namespace) -> int:
    from sweeper.bench import curves, pruner

    if args.orders < 1 or args.concurrency < 1:
        raise InputError(
            f"--orders and --concurrency must be >= 1, got --orders {args.orders} "
            f"--concurrency {args.concurrency}; pass positive counts"
        )
    methods: list[pruner.Method] = _pick(args.methods, pruner.METHODS)  # type: ignore[arg-type]
    data = curves.load(args.curves)
    _note_holes(data)

    progress = _progress(methods, args.orders, "orders")
    truth, results = pruner.run(
        data,
        methods,
        n_orders=args.orders,
        concurrency=args.concurrency,
        seed=args.seed,
        progress=progress,
    )
    setup = {"orders": args.orders, "concurrency": args.concurrency, "seed": args.seed}
    if args.json:
        print(json.dumps(pruner.to_json(args.curves, truth, results, **setup), indent=2))
        return 0
    source = "estimated by a robust smoother" if truth.estimated else "given (val_true)"
    print(
        f"{args.curves}: {data.n_curves} curves, {args.orders} orders, concurrency "
        f"{args.concurrency}, seed {args.seed}; truth {source}"
    )
    print(_pruner_table(results))
    print(textwrap.fill(_PRUNER_LEGEND, width=99))
    return 0


def _pruner_table(results: Sequence[PrunerResult]) -> str:
    formats = {
        "compute": "{:.3f}",
        "regret": "{:.2%}",
        "top10_cut": "{:.0%}",
        "spearman": "{:.2f}",
        "regret_picked": "{:.2%}",
    }
    rows = [["method", "compute", "regret", "top10 cut", "rho", "picked", "settings"]]
    for r in results:
        cells = [r.method.name]
        for field, fmt in formats.items():
            s = None if r.skipped is not None else r.summary(field)
            cells.append("-" if s is None else "{} [{}-{}]".format(*(fmt.format(x) for x in s)))
        rows.append([*cells, r.settings if r.skipped is None else f"SKIPPED: {r.skipped}"])
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        middle = [c.rjust(w) for c, w in zip(row[1:-1], widths[1:], strict=True)]
        lines.append("  ".join([row[0].ljust(widths[0]), *middle, row[-1]]))
    return "\n".join(lines)
