"""A self-contained HTML report: inline CSS, figures as base64 PNGs, no script, no fetch.

One file that opens anywhere (a laptop that copied it, a browser with no network): the
ranking table, why each trial stopped, the curves with the stops marked, the metric
comparison, the Pareto front, compute saved and the parameters that mattered.
"""

from __future__ import annotations

import base64
import html
import math
import re
import time
from typing import Any

from sweeper.summarize import report_plots as plots
from sweeper.summarize.output import (
    _fmt,
    param_cell,
    rows,
    shown_metrics,
    varying_params,
    winner_notes,
)
from sweeper.summarize.summary import Summary

TABLE_ROWS = 40  # trials in the ranking table; the rest fold into <details>

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
margin:0;background:#f5f6f8}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:30px 0 8px}
.sub{color:#5a6170;margin:0 0 18px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0 6px}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:10px 16px;min-width:130px}
.card b{display:block;font-size:20px}.card span{color:#5a6170;font-size:12px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:6px 18px 16px;
margin-top:18px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #e6e9ee;text-align:right;white-space:nowrap}
th{background:#eef1f6;white-space:normal;vertical-align:bottom;min-width:52px}
.scroll{overflow-x:auto}
td.l,th.l{text-align:left}tr.trial td{border-bottom:none}
tr.why td{white-space:normal;text-align:left;color:#444;font-size:12px;padding:0 8px 6px 8px}
tr.why div{max-width:1080px}
tr.win td{background:#fff6d6;font-weight:600}tr.out td{color:#8a8f99}
.rule{display:inline-block;padding:1px 7px;border-radius:9px;color:#fff;font-size:12px}
img{max-width:100%;height:auto;display:block;margin:6px auto}
.note{color:#5a6170;font-size:12px}
.why-best{background:#fff6d6;border-left:3px solid #e0b400;padding:4px 10px;margin:6px 0}
code{background:#eef1f6;padding:1px 4px;border-radius:3px}
details summary{cursor:pointer;color:#1f4e9c;margin:8px 0}
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _rule(rule: str | None, state: str) -> str:
    name = rule or state.lower()
    bg = plots.RULE_COLOURS.get(rule or "", "#6b7280")
    return f'<span class="rule" style="background:{bg}">{html.escape(name)}</span>'


def _table(summary: Summary) -> str:
    metrics = shown_metrics(summary)
    params = varying_params(summary)
    extra = {"composite": ["score"], "pareto": ["front"]}.get(summary.criteria.mode, [])
    heads = ["place", "trial", "stopped by", "stop step", "best step", *extra, *metrics]
    heads += [p.rsplit(".", 1)[-1] for p in params]
    # headers wrap after "/" and "_" (eval/f0_gross_error), so many metrics still fit the page
    head = ["<div class='scroll'><table><thead><tr>"]
    head += [f'<th class="{"l" if h.startswith("stopped") else ""}">'
             + html.escape(h).replace("/", "/<wbr>").replace("_", "_<wbr>") + "</th>"
             for h in heads]  # fmt: skip
    head.append("</tr></thead><tbody>")
    found = rows(summary)
    first, rest = found[:TABLE_ROWS], found[TABLE_ROWS:]
    out = [*head, *_rows(first, heads, extra, metrics, params), "</tbody></table></div>"]
    if rest:  # folded (no script: <details>): 300 trials made a table 15,000 px long
        out.append(f"<details><summary>the other {len(rest)} trials</summary>")
        out += [*head, *_rows(rest, heads, extra, metrics, params), "</tbody></table></div>"]
        out.append("</details>")
    return "".join(out)


def _rows(found: list, heads: list, extra: list, metrics: list, params: list) -> list[str]:
    """Two table rows per trial: its values, then why it stopped (or is not ranked)."""
    out = []
    for row in found:
        cls = "win" if row["place"] == 1 else ("out" if row["place"] is None else "")
        cells = [
            _fmt(row["place"]),
            f"#{row['trial']}",
            None,
            _fmt(row["stop_step"]),
            _fmt(row["best_step"]),
            *[_fmt(row[k]) for k in extra],
            *[_fmt(row[m]) for m in metrics],
            *[param_cell(row, p) for p in params],
        ]
        why = row["not_ranked"] or row["stop_reason"] or ""
        tds = []
        for i, cell in enumerate(cells):
            if i == 2:
                tds.append(f'<td class="l">{_rule(row["stopped_by"], row["state"])}</td>')
            else:
                tds.append(f"<td>{html.escape(str(cell))}</td>")
        # The reason gets a full-width line under its trial: as a column it was squeezed
        # to a sliver once --evaluate adds a dozen metric columns.
        out.append(f'<tr class="trial {cls}">' + "".join(tds) + "</tr>")
        lead = "not ranked: " if row["place"] is None else "stopped: "
        cell = f"<div>{lead}{html.escape(why)}</div>"
        out.append(f'<tr class="why {cls}"><td colspan="{len(heads)}">{cell}</td></tr>')
    return out


def _code(text: str) -> str:
    """A terminal line as HTML: its `commands` set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _card(value: str, label: str) -> str:
    return f'<div class="card"><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>'


def _evaluation_note(summary: Summary) -> str:
    done = [t for t in summary.data.trials if t.evaluation]
    if not done:
        return (
            "<p class='note'>No audio evaluation yet: <code>sweeper summarize DIR --evaluate"
            "</code> synthesises each best checkpoint's validation clips and adds the "
            "<code>eval/*</code> metrics.</p>"
        )
    skipped: dict[str, str] = {}
    for t in done:
        for name, res in t.evaluation.items():
            if res.get("status") != "ok":
                skipped[name] = f"{res.get('status')}: {res.get('detail', '')}"
    lines = "".join(f"<li><code>{html.escape(k)}</code> {html.escape(v)}</li>"
                    for k, v in sorted(skipped.items()))  # fmt: skip
    tail = f"<p class='note'>Not measured:</p><ul class='note'>{lines}</ul>" if lines else ""
    return f"<p class='note'>{len(done)} best checkpoint(s) evaluated (cached).</p>{tail}"


def render(summary: Summary) -> str:
    """The report as one HTML string."""
    data = summary.data
    cfg = data.cfg
    win = summary.winner
    metric = cfg.objective.metrics[0]
    best = win.values.get(metric, math.nan)
    sections: list[tuple[str, str, str]] = []  # (title, body, caption)
    sections.append(("Ranking", _table(summary), summary.describe()))
    sections.append((
        "Training and validation curves",
        _img(plots.curves(summary), "curves"),
        f"Grey: training loss; blue: {metric} on the validation clips (log scale); star: the "
        "best checkpoint kept; dashed line: where the trial stopped, labelled with the reason.",
    ))  # fmt: skip
    sections.append((
        f"Every trial's {metric}",
        _img(plots.overlay(summary), "overlay"),
        "Each curve ends where its trial stopped; the colour is the stop reason.",
    ))  # fmt: skip
    names = [m for m in shown_metrics(summary) if any(m in t.values for t in data.trials)]
    sections.append((
        "Metric comparison",
        _img(plots.metrics(summary, names), "metrics") + _evaluation_note(summary),
        "Ranked trials in order; the winner in yellow.",
    ))  # fmt: skip
    png, what = plots.pareto(summary)
    sections.append((
        "Pareto front",
        _img(png, "pareto"),
        f"{what}: a trial on the front is not beaten on both axes by another.",
    ))  # fmt: skip
    sections.append((
        "Compute saved",
        _img(plots.compute(summary), "compute"),
        "Coloured: steps run (by stop reason); hatched: steps early stopping saved.",
    ))  # fmt: skip
    if summary.importance:
        body = _img(plots.importance(summary), "importance")
    else:
        body = f"<p>Not measured: {html.escape(summary.importance_note)}.</p>"
    sections.append(("Parameters that mattered", body, summary.importance_note))
    cards = "".join([
        _card(f"#{win.number}", "best trial"),
        _card(_fmt(best), f"its {metric}"),
        _card(f"{len(summary.ranked)} / {len(data.trials)}", "trials ranked"),
        _card(f"{summary.saved:.0%}", f"compute saved ({summary.steps_run:,} of "
              f"{summary.steps_budget:,} steps)"),
    ])  # fmt: skip
    parts: list[Any] = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>sweep {html.escape(data.folder.name)}: summary</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>Sweep <code>{html.escape(data.folder.name)}</code></h1>",
        f"<p class='sub'>{html.escape(str(data.folder))} · trainer {html.escape(cfg.trainer)}"
        f" · written {time.strftime('%Y-%m-%d %H:%M')}</p>",
        f"<div class='cards'>{cards}</div>",
        f"<p class='note'>Best checkpoint: <code>{html.escape(str(win.checkpoint))}</code></p>",
        # the terminal's lines on the winner's equals (the rest of a Pareto front, ties):
        # the highlighted "best trial" alone read as the one answer
        *[f"<p class='why-best'>{_code(line)}</p>" for line in winner_notes(summary)],
    ]
    for title, body, caption in sections:
        parts.append(f"<section><h2>{html.escape(title)}</h2>{body}")
        parts.append(f"<p class='note'>{html.escape(caption)}</p></section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
