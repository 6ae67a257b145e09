"""Text tables of ``sweeper bench detector`` and ``bench pruner``: one row per method."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy-heavy; imported for real inside the functions
    from sweeper.bench.detector import Result, Truth
    from sweeper.bench.pruner import Result as PrunerResult

COLUMNS = (  # (header, score field, format)
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
LEGEND = (
    "false stop: stopped with > 2 % true improvement left (diverging curves excluded); "
    "saved: 1 - points used / points in the curve, on all curves and on those that plateau "
    "by mid-budget; delay: median (stop - onset) / budget on plateau and overfit curves; "
    "overfit caught: stopped by onset + 10 % of the budget with <= 2 % left; named: overfit "
    "curves whose stop says OVERFITTING; false OVERFIT.: other healthy curves whose stop says "
    "so; "
    "div. caught: stopped no later than 5 points after the divergence (an earlier stop did "
    "no harm); '-': nothing to measure; per kind: false stops / compute saved."
)


PRUNER_LEGEND = (
    "Each method: median over the orders [min-max]. Every trial keeps its best checkpoint up "
    "to its stop, pruned or not. compute: points reported / all points; regret: true value of "
    "the best trial held over the oracle's, - 1; top10 cut: share of the true top 10 % stopped "
    "> 1 % short of their true best; rho: Spearman between the true ranking and the sweep's "
    "(by reported best); picked: regret of the trial with the lowest reported value (noise "
    "adds to it whatever the pruner)."
)


def kind_table(truth: Truth, results: Sequence[Result]) -> str:
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


def table(results: Sequence[Result]) -> str:
    header = ["method", *(h for h, _, _ in COLUMNS), "settings"]
    rows = [header]
    for r in results:
        cells = [r.method.name]
        for _, field, fmt in COLUMNS:
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


def pruner_table(results: Sequence[PrunerResult]) -> str:
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
