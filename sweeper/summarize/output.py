"""A :class:`Summary` as rows, a terminal table, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from sweeper.summarize.ranking import tie_key
from sweeper.summarize.summary import Summary
from sweeper.tune._table import compute_text, show_value, shown_params

MAX_TERMINAL_METRICS = 6  # metric columns in the terminal table
# Trials listed per part of the terminal view (a 2,700-trial sweep printed 4,468 lines);
# summary.csv and the report have every one.
MAX_TERMINAL_TRIALS = 40


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def varying_params(summary: Summary) -> list[str]:
    """Parameters searched or differing between trials, most important first."""
    shown = shown_params(summary.data.trials, summary.data.cfg.parameters.searched)
    weight = summary.importance
    return sorted(shown, key=lambda k: -weight.get(k, -1.0))


def shown_metrics(summary: Summary) -> list[str]:
    """The ranking's metrics first, then the objective's, then what --evaluate measured."""
    out = list(summary.criteria.metrics)
    for m in [*summary.data.cfg.objective.metrics, *summary.present]:
        if m not in out and (m in summary.data.cfg.objective.metrics or m.startswith("eval/")):
            out.append(m)
    return out


def rows(summary: Summary) -> list[dict[str, Any]]:
    """One dict per trial: ranked ones in order, then the rest with the reason."""
    by = summary.by_number
    metrics = shown_metrics(summary)
    params = varying_params(summary)
    out = []
    reasons = {t.number: why for t, why in summary.excluded}
    placed = [(r, by[r.key]) for r in summary.ranked]
    for r, t in placed + [(None, t) for t, _ in summary.excluded]:
        row: dict[str, Any] = {
            "place": None if r is None else r.place,
            "trial": t.number,
            "ray_id": t.ray_id,
            "state": t.state,
            "stopped_by": t.rule,
            "stop_step": t.steps,
            "stop_reason": t.message,
            "best_step": t.best_step,
            "score": None if r is None else r.score,
            "front": None if r is None else r.front,
        }
        for m in metrics:
            value = t.values.get(m)
            row[m] = value if value is not None and math.isfinite(value) else None
        # An inactive conditional parameter has no key: a drawn None (YAML null) is a value.
        row.update({p: t.params[p] for p in params if p in t.params})
        row["checkpoint"] = None if t.checkpoint is None else str(t.checkpoint)
        row["not_ranked"] = None if r is not None else reasons[t.number]
        out.append(row)
    return out


def param_cell(row: dict[str, Any], name: str) -> str:
    """A parameter as the tables show it: "-" inactive (absent), "null" drawn as null."""
    if name not in row:
        return "-"
    value = row[name]
    return show_value(value) if value is None or isinstance(value, bool) else _fmt(value)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


def _more(count: int, what: str) -> list[str]:
    return [f"  ... {count} more {what} in summary.csv and the report"] if count > 0 else []


def table(summary: Summary) -> str:
    """The terminal view: header, ranked table, excluded trials, compute, importance."""
    data = summary.data
    metrics = shown_metrics(summary)
    hidden = 0
    if len(metrics) > MAX_TERMINAL_METRICS:  # the CSV and the report have every one
        # The ranking's and the objective's metrics first, then the others as listed.
        first = [*summary.criteria.metrics, *data.cfg.objective.metrics]
        order = sorted(metrics, key=lambda m: (m not in first, metrics.index(m)))
        keep = set(order[: max(MAX_TERMINAL_METRICS, len(set(first) & set(metrics)))])
        hidden = len(metrics) - len(keep)
        metrics = [m for m in metrics if m in keep]
    params = varying_params(summary)
    c = summary.criteria
    extra = {"composite": ["score"], "pareto": ["front"]}.get(c.mode, [])
    cols = ["place", "trial", "stopped_by", "stop_step", "best_step", *extra, *metrics]
    heads = ["place", "trial", "stopped by", "stop", "best@", *extra, *metrics]
    heads += [_short(p) for p in params]
    cols += params
    body = []
    for row in rows(summary):
        if row["place"] is None:
            continue
        cells = [param_cell(row, k) if k in params else _fmt(row[k]) for k in cols]
        cells[1] = f"#{row['trial']}"
        body.append(cells)
    more = len(body) - MAX_TERMINAL_TRIALS
    body = body[:MAX_TERMINAL_TRIALS]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(heads)]
    left = {2}  # the stop rule reads better left-aligned
    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in pairs).rstrip()

    n_done, n_all = len(summary.ranked), len(data.trials)
    out = [
        f"sweep {data.folder.name}: {n_all} trial{'' if n_all == 1 else 's'}, {n_done} ranked "
        f"({summary.describe()})",
        "",
        line(heads),
        line(["-" * w for w in widths]),
        *[line(b) for b in body],
    ]
    out += _more(more, "ranked trials")
    if hidden:
        out.append(f"({hidden} more metrics, eval/* among them, in summary.csv and the report)")
    if summary.excluded:
        out += ["", "not ranked:"]
        out += [f"  #{t.number:<3} {why}" for t, why in summary.excluded[:MAX_TERMINAL_TRIALS]]
        out += _more(len(summary.excluded) - MAX_TERMINAL_TRIALS, "trials not ranked")
    out += ["", "why each ranked trial stopped:"]
    by = summary.by_number
    shown = summary.ranked[:MAX_TERMINAL_TRIALS]
    out += [f"  #{r.key:<3} {by[r.key].message or by[r.key].rule}" for r in shown]
    out += _more(more, "ranked trials")
    out += [
        "",
        f"compute (steps; budget.max_steps={data.cfg.budget.max_steps:,}): "
        + compute_text(summary.steps_run, summary.steps_budget, summary.not_counted),
    ]
    if summary.importance:
        shares = ", ".join(f"{_short(k)} {v:.2f}" for k, v in summary.importance.items())
        out.append(f"parameters that mattered: {shares}  [{summary.importance_note}]")
    else:
        out.append(f"parameters that mattered: not measured ({summary.importance_note})")
    win = summary.winner
    out.append(f"best: trial #{win.number}, checkpoint {win.checkpoint}")
    out += [f"  {line}" for line in winner_notes(summary)]
    return "\n".join(out)


def _listed(keys: list[int]) -> str:
    return ", ".join(f"#{n}" for n in keys[:8]) + (" ..." if len(keys) > 8 else "")


def winner_notes(summary: Summary) -> list[str]:
    """Why the winner and not its equals: the rest of a Pareto front, exact ties, and the
    front's PRUNED members (the terminal and the HTML report say the same)."""
    out = []
    tied = _tied_with_winner(summary)
    front = [r.key for r in summary.ranked[1:] if r.front == 0 and r.key not in tied]
    if front:  # a Pareto front has no order: say that the winner is only its cheapest
        out.append(
            f"the Pareto front also holds {_listed(front)}: none is better on every metric, so "
            "the cheapest (fewest steps, then trial number) is shown first; `sweeper export-best "
            "--trial N` takes another, `--mode composite` ranks by a weighted score"
        )
    if tied:
        out.append(
            f"ties with {_listed(tied)} on {', '.join(summary.criteria.metrics)}: chosen by "
            "fewer steps, then trial number; `sweeper export-best --trial N` takes another"
        )
    if (line := pruned_on_front(summary)) is not None:
        out.append(line)
    return out


def pruned_on_front(summary: Summary) -> str | None:
    """Optuna's own front (study.best_trials, optuna-dashboard) leaves out PRUNED trials: a
    multi-objective study stores no values for them. This one ranks a trial stopped for
    overfitting at its best checkpoint, so the two fronts can differ: said once, when so."""
    by = summary.by_number
    pruned = [r.key for r in summary.ranked if r.front == 0 and by[r.key].state == "PRUNED"]
    if not pruned or not summary.data.cfg.objective.multi:  # one objective: values stored
        return None
    rules = sorted({by[k].rule or "pruned" for k in pruned})
    verb = "is" if len(pruned) == 1 else "are"
    return (
        f"note: {_listed(pruned)} on this front stopped early ({', '.join(rules)}, PRUNED) and "
        f"{verb} ranked at the best checkpoint; Optuna's study.best_trials and optuna-dashboard "
        "leave PRUNED trials out (no values stored), so their Pareto front can differ"
    )


def _tied_with_winner(summary: Summary) -> list[int]:
    """Ranked trials whose every ranking metric equals the winner's, float noise aside (an
    all-tie sweep got an arbitrary winner without a word)."""
    by = summary.by_number
    win = by[summary.ranked[0].key].values

    def same(values: dict, m: str) -> bool:
        a, b = values.get(m), win.get(m)
        return a == b or (a is not None and b is not None and tie_key(a) == tie_key(b))

    return [r.key for r in summary.ranked[1:]
            if all(same(by[r.key].values, m) for m in summary.criteria.metrics)]  # fmt: skip


def to_csv(summary: Summary) -> str:
    found = rows(summary)
    params = varying_params(summary)
    tail = ["checkpoint", "not_ranked"]
    fields = [k for k in found[0] if k not in (*params, *tail)] + params + tail
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in found:  # an empty cell: no value (inactive parameter, metric not reported)
        cells = {k: "" if v is None else v for k, v in row.items()}
        cells.update({p: "null" for p in params if p in row and row[p] is None})
        writer.writerow(cells)
    return buf.getvalue()


def to_json(summary: Summary) -> str:
    data = summary.data
    c = summary.criteria
    doc = {
        "sweep": data.folder.name,  # --name, else the file's name:
        "sweep_dir": str(data.folder),
        "ranking": {
            "mode": c.mode,
            "metrics": list(c.metrics),
            "directions": {m: c.directions[m] for m in c.metrics},
            "weights": dict(c.weights),
            "normalize": c.normalize,
            "tie_break": "fewer steps, then trial number",
            "described": summary.describe(),
        },
        "compute": {
            "steps_run": summary.steps_run,
            "steps_budget": summary.steps_budget,
            "saved": round(summary.saved, 4),
            "not_counted": summary.not_counted,
        },
        "importance": summary.importance,
        "importance_note": summary.importance_note,
        "metrics_present": summary.present,
        "trials": rows(summary),
        "evaluation": {
            str(t.number): t.evaluation for t in data.trials if t.evaluation
        },
    }
    return json.dumps(doc, indent=1, allow_nan=False, default=str)
