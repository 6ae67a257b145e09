"""The report's figures (matplotlib, Agg), each returned as PNG bytes."""

from __future__ import annotations

import io
import math

from sweeper.summarize.collect import TrialRecord
from sweeper.summarize.ranking import oriented, pareto_fronts
from sweeper.summarize.summary import Summary

RULE_COLOURS = {
    "converged": "#2e8b57",
    "budget": "#1f77b4",
    "overfitting": "#ff7f0e",
    "cannot_catch_up": "#8c61c4",
    "diverged": "#d62728",
    "error": "#7f7f7f",
}
TRAIN_CURVES = ("loss/g/mel", "train/mel", "loss/g/total")  # first present is drawn
MAX_PANELS = 24  # curve panels; more trials than this show only the best ones
# Bars per chart, and curves labelled: at 300 trials a chart was 7,000 px tall and every
# curve's "#N" piled up (a probe, 2026-12-07); summary.csv holds every trial.
MAX_BARS = 40
MAX_LABELS = 12
DPI = 110


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def colour(t: TrialRecord) -> str:
    return RULE_COLOURS.get(t.rule or "", "#444444")


def _log_y(ax) -> None:
    """Log scale (losses fall by decades) with plain numbers, not 6x10^1. Minor ticks are
    labelled as matplotlib's own log formatter chooses (all of them when the axis spans
    under half a decade, some or none over more): every minor tick labelled overlapped."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def __call__(self, x, pos=None):
            return f"{x:g}" if super().__call__(x, pos) else ""

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(Plain(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(1, 0.5)))
    ax.tick_params(axis="y", which="both", labelsize=7)


def _finite(steps: list[int], values: list[float]) -> tuple[list[int], list[float]]:
    pairs = [(s, v) for s, v in zip(steps, values, strict=True) if math.isfinite(v)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def ordered(summary: Summary) -> list[TrialRecord]:
    """Ranked trials in order, then the others by number."""
    by = summary.by_number
    return [by[r.key] for r in summary.ranked] + [t for t, _ in summary.excluded]


def curves(summary: Summary) -> bytes:
    """One panel per trial: training loss and the validation metric, best and stop marked."""
    plt = _plt()
    trials = ordered(summary)[:MAX_PANELS]
    metric = summary.data.cfg.objective.metrics[0]
    places = {r.key: r.place for r in summary.ranked}
    cols = min(4, len(trials))
    rows = math.ceil(len(trials) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.7 * rows), squeeze=False)
    for ax in axes.flat[len(trials) :]:
        ax.set_visible(False)
    for ax, t in zip(axes.flat, trials, strict=False):
        train = next((c for c in TRAIN_CURVES if c in t.curves), None)
        if train is not None:
            ax.plot(*_finite(*t.curves[train]), color="#9a9a9a", lw=1, label=train)
        if metric in t.curves:
            ax.plot(*_finite(*t.curves[metric]), color="#1f4e9c", lw=1.6, label=metric)
        if t.best_step is not None and metric in t.values:
            ax.plot([t.best_step], [t.values[metric]], "*", color="#f2b400", ms=12, mec="k",
                    mew=0.5, label="best checkpoint", zorder=5)  # fmt: skip
        ax.axvline(t.steps, color=colour(t), ls="--", lw=1.4)
        ax.text(0.98, 0.95, f"{t.rule or t.state.lower()} @ {t.steps}", transform=ax.transAxes,
                ha="right", va="top", fontsize=8, color=colour(t),
                bbox={"fc": "white", "ec": colour(t), "lw": 0.8, "pad": 2})  # fmt: skip
        place = places.get(t.number)
        ax.set_title(f"#{t.number}" + (f"  (place {place})" if place else "  (not ranked)"),
                     fontsize=9, loc="left")  # fmt: skip
        _log_y(ax)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
    axes.flat[0].legend(fontsize=7, loc="lower left")
    fig.supxlabel("step", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def overlay(summary: Summary) -> bytes:
    """Every trial's validation curve on one axis; where each stopped, coloured by reason."""
    plt = _plt()
    metric = summary.data.cfg.objective.metrics[0]
    fig, ax = plt.subplots(figsize=(9, 4))
    seen = set()
    trials = ordered(summary)
    many = len(trials) > MAX_BARS  # thinner, fainter lines, so that the mass stays readable
    for i, t in enumerate(trials):
        if metric not in t.curves:
            continue
        steps, values = _finite(*t.curves[metric])
        if not steps:
            continue
        width, alpha = (0.7, 0.35) if many else (1.2, 0.8)
        ax.plot(steps, values, color=colour(t), lw=width, alpha=alpha)
        label = t.rule if t.rule not in seen else None
        seen.add(t.rule)
        ax.plot([steps[-1]], [values[-1]], "o", color=colour(t), ms=4 if many else 6, label=label,
                mec="k", mew=0.5)  # fmt: skip
        if i < MAX_LABELS or len(trials) <= MAX_PANELS:  # the best ones only, when many
            ax.annotate(f"#{t.number}", (steps[-1], values[-1]), fontsize=7,
                        xytext=(4, 2), textcoords="offset points")  # fmt: skip
    _log_y(ax)
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.25)
    if len(trials) > MAX_PANELS:
        ax.set_title(f"{len(trials)} trials; the best {MAX_LABELS} labelled", fontsize=9)
    # A fixed corner: "best" placement searches every point (slow past 2,000 trials).
    ax.legend(title="stopped by", fontsize=8, loc="upper right")
    return _png(fig)


def metrics(summary: Summary, names: list[str]) -> bytes:
    """One bar chart per metric, trials in ranking order, the winner highlighted."""
    plt = _plt()
    by = summary.by_number
    trials = [by[r.key] for r in summary.ranked][:MAX_BARS]
    shown = _shown(len(trials), len(summary.ranked))
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 0.5 + 0.32 * len(trials) * rows
                             + 1.2 * rows), squeeze=False)  # fmt: skip
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names, strict=False):
        labels = [f"#{t.number}" for t in trials]
        values = [t.values.get(name, math.nan) for t in trials]
        bars = ax.barh(labels, values, color=["#f2b400"] + ["#7d9cc9"] * (len(trials) - 1))
        for bar, v in zip(bars, values, strict=True):
            if math.isfinite(v):
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v:.4g}",
                        va="center", fontsize=7)  # fmt: skip
        arrow = "lower" if summary.criteria.directions.get(name, "min") == "min" else "higher"
        ax.set_title(f"{name} ({arrow} is better){shown}", fontsize=9)
        ax.invert_yaxis()
        ax.tick_params(labelsize=7)
        ax.margins(x=0.2)
    fig.tight_layout()
    return _png(fig)


def _axes(summary: Summary) -> list[str]:
    """The metrics that rank: a composite's weight-0 metrics are only shown (a trial may
    lack them and still be ranked)."""
    c = summary.criteria
    if c.mode != "composite":
        return list(c.metrics)
    return [m for m in c.metrics if c.weights.get(m, 0.0) > 0]


def _has(t: TrialRecord, names: list[str]) -> bool:
    return all(math.isfinite(t.values.get(m, math.nan)) for m in names)


def pareto(summary: Summary) -> tuple[bytes, str]:
    """The Pareto front of the first two ranking metrics, or of quality against compute
    when the ranking has one metric; returns the PNG and what its axes are."""
    plt = _plt()
    by = summary.by_number
    c = summary.criteria
    axes = _axes(summary)
    ranked = [by[r.key] for r in summary.ranked]
    if len(axes) >= 2:
        xm, ym = axes[0], axes[1]
        trials = [t for t in ranked if _has(t, [xm, ym])]
        xs = [t.values[xm] for t in trials]
        ys = [t.values[ym] for t in trials]
        pts = [(oriented(x, c.directions[xm]), oriented(y, c.directions[ym]))
               for x, y in zip(xs, ys, strict=True)]  # fmt: skip
        xlabel, ylabel, what = xm, ym, f"{xm} against {ym}"
    else:
        ym = axes[0]
        trials = [t for t in ranked if _has(t, [ym])]
        xs = [float(t.steps) for t in trials]
        ys = [t.values[ym] for t in trials]
        pts = [(x, oriented(y, c.directions[ym])) for x, y in zip(xs, ys, strict=True)]
        xlabel, ylabel, what = "steps run (compute)", ym, f"{ym} against compute"
    lacking = [f"#{t.number}" for t in ranked if t not in trials]
    if lacking:  # a defensive note: every ranked trial has its ranking metrics
        what += f" ({', '.join(lacking)} not drawn: no finite value)"
    front = pareto_fronts(pts)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    on = sorted((p, x, y) for p, x, y, f in zip(pts, xs, ys, front, strict=True) if f == 0)
    if len(on) >= 2:  # one point draws no line: no legend entry for a line not drawn
        ax.plot([o[1] for o in on], [o[2] for o in on], "-", color="#f2b400", lw=2, zorder=1,
                label="Pareto front")  # fmt: skip
    few = len(trials) <= MAX_PANELS
    for i, (t, x, y, f) in enumerate(zip(trials, xs, ys, front, strict=True)):
        ax.scatter([x], [y], s=70 if f == 0 else 35, color=colour(t), edgecolor="k",
                   lw=0.6, zorder=3)  # fmt: skip
        if few or f == 0 or i < MAX_LABELS:  # many trials: the front and the best ones
            ax.annotate(f"#{t.number}", (x, y), fontsize=8, xytext=(5, 3),
                        textcoords="offset points")  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.25)
    if len(on) >= 2:
        ax.legend(fontsize=8)
    return _png(fig), what


def compute(summary: Summary) -> bytes:
    """Steps each trial ran against its budget: what early stopping saved."""
    plt = _plt()
    every = ordered(summary)
    trials = every[:MAX_BARS]
    budget = summary.data.cfg.budget.max_steps
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.3 * len(trials)))
    labels = [f"#{t.number}" for t in trials]
    ran = [min(t.steps, budget) for t in trials]
    # Only a stop by a rule saves steps: a failed or unfinished trial's rest is not counted.
    by_rule = [t.state in ("COMPLETE", "PRUNED") for t in trials]
    saved = [budget - r if b else 0 for b, r in zip(by_rule, ran, strict=True)]
    ax.barh(labels, ran, color=[colour(t) for t in trials], label="steps run")
    ax.barh(labels, saved, left=ran, color="#e8e8e8", hatch="//",
            edgecolor="#bbbbbb", label="saved (not run)")  # fmt: skip
    for i, (t, r) in enumerate(zip(trials, ran, strict=True)):
        ax.text(r, i, f" {t.rule or t.state.lower()}", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"steps (budget {budget:,} per trial)")
    ax.set_title(
        f"{summary.steps_run:,} of {summary.steps_budget:,} steps run: {summary.saved:.0%} saved"
        f"{_shown(len(trials), len(every))}",
        fontsize=10,
    )
    ax.set_xlim(0, budget * 1.18)  # room for the labels after the bars
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.tick_params(labelsize=7)
    return _png(fig)


def _shown(drawn: int, total: int) -> str:
    """A title's note when a chart draws the best ``drawn`` of ``total`` trials only."""
    return "" if drawn >= total else f"\n(the first {drawn} of {total} trials; all in summary.csv)"


def importance(summary: Summary) -> bytes:
    plt = _plt()
    items = list(summary.importance.items())[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.35 * len(items)))
    ax.barh([k for k, _ in items], [v for _, v in items], color="#1f4e9c")
    for i, (_, v) in enumerate(items):
        ax.text(v, i, f" {v:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("importance (fANOVA, sums to 1)")
    ax.tick_params(labelsize=8)
    return _png(fig)
