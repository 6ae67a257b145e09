"""Figures of the two benchmarks: every method as one point on the trade-offs its table
scores, with the issue's target region shaded, so the frontier is seen at a glance."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sweeper.errors import InputError

OURS = "sweeper"


@dataclass(frozen=True)
class Panel:
    """One scatter: its axes (score fields), labels and the target region (x_max, y_min,
    y_max)."""

    x: str
    y: str
    x_label: str
    y_label: str
    target: tuple[float, float, float]
    target_label: str


DETECTOR_PANELS = (
    Panel(
        "false_stop_rate", "compute_saved_plateau", "false stops (stopped with > 2 % left)",
        "saved on mid-budget plateaus", (0.05, 0.5, 1.0), "target: <= 5 % false, >= 50 % saved",
    ),
    Panel(
        "false_stop_rate", "overfit_caught", "false stops (stopped with > 2 % left)",
        "overfitting caught within 10 % of the budget", (0.05, 0.9, 1.0),
        "target: <= 5 % false, >= 90 % caught",
    ),
)  # fmt: skip
PRUNER_PANELS = (
    Panel("compute", "regret", "compute (points reported / all)", "regret of the best held",
          (1.0, 0.0, 0.0), "target: zero regret, least compute"),
    Panel("compute", "top10_cut", "compute (points reported / all)", "share of the true top "
          "10 % cut", (1.0, 0.0, 0.05), "target: <= 5 % cut, least compute"),
)  # fmt: skip


@dataclass(frozen=True)
class Point:
    """A method on a panel: medians, and the [min, max] over the pruner's orders."""

    name: str
    x: float
    y: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]


def check_writable(out: str | Path) -> None:
    """Refuse a --plot path before a replay of minutes, rather than after it."""
    folder = Path(out).resolve().parent
    if Path(out).is_dir():
        raise InputError(
            f"--plot {str(out)!r} is a folder; fix: name the PNG file in it, e.g. "
            f"{str(Path(out) / 'bench.png')!r}"
        )
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise InputError(
            f"cannot write the plot to {str(out)!r} (no writable folder {str(folder)!r}); fix: "
            "a --plot path in a folder you can write"
        )


def detector_points(results: Sequence, panel: Panel) -> list[Point]:
    """``bench detector`` results on ``panel``; a method with a score undefined is left out."""
    points = []
    for r in results:
        x, y = getattr(r.score, panel.x), getattr(r.score, panel.y)
        if x is not None and y is not None:
            points.append(Point(r.method.name, x, y, (x, x), (y, y)))
    return points


def pruner_points(results: Sequence, panel: Panel) -> list[Point]:
    """``bench pruner`` results on ``panel``: medians over the orders, with their ranges."""
    points = []
    for r in results:
        if r.skipped is not None:
            continue
        x, y = r.summary(panel.x), r.summary(panel.y)
        if x is not None and y is not None:
            points.append(Point(r.method.name, x[0], y[0], x[1:], y[1:]))
    return points


def detector_png(results: Sequence, title: str, out: str | Path) -> Path:
    panels = [(p, detector_points(results, p)) for p in DETECTOR_PANELS]
    return _write(panels, title, out)


def pruner_png(results: Sequence, title: str, out: str | Path) -> Path:
    panels = [(p, pruner_points(results, p)) for p in PRUNER_PANELS]
    return _write(panels, title, out)


def _write(panels: list[tuple[Panel, list[Point]]], title: str, out: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.8), squeeze=False)
    for ax, (panel, points) in zip(axes.flat, panels, strict=True):
        x_max, y_min, y_max = panel.target
        if y_min == y_max:  # a line: zero regret
            ax.axhline(y_min, color="tab:green", lw=2, alpha=0.5, label=panel.target_label)
        else:
            ax.fill_between([0, x_max], y_min, y_max, color="tab:green", alpha=0.15, lw=0,
                            label=panel.target_label)  # fmt: skip
        for p in points:
            ours = p.name == OURS
            ax.errorbar(
                p.x, p.y,
                xerr=[[p.x - p.x_range[0]], [p.x_range[1] - p.x]],
                yerr=[[p.y - p.y_range[0]], [p.y_range[1] - p.y]],
                fmt="*" if ours else "o", ms=14 if ours else 6,
                color="tab:red" if ours else "0.35", ecolor="0.7", lw=1, capsize=2, zorder=3,
            )  # fmt: skip
        ax.set_xlabel(panel.x_label)
        ax.set_ylabel(panel.y_label)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlim(left=-0.02 * ax.get_xlim()[1])  # 0 in view, with a margin to scale
        ax.set_ylim(bottom=-0.03 * ax.get_ylim()[1])
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    for ax, (_, points) in zip(axes.flat, panels, strict=True):
        _label(ax, points, fig.dpi)
    path = Path(out)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    try:
        path.write_bytes(buf.getvalue())
    except OSError as err:
        raise InputError(
            f"cannot write the plot to {str(path)!r} ({err.strerror}); fix: a --plot path in a "
            "folder you can write"
        ) from None
    return path


# Label offsets tried in turn, in pixels from the point (x: "R" right of it, "L" left of it).
_OFFSETS = (("R", 2), ("R", -12), ("R", 14), ("L", 2), ("L", -12), ("R", -26), ("R", 28),
            ("L", 14), ("L", -26), ("R", 40), ("R", -40))  # fmt: skip


def _label(ax, points: list[Point], dpi: float) -> None:
    """Name each point where the name overlaps no other; methods at one spot share a label."""
    groups: list[tuple[list[str], tuple[float, float], tuple[float, float]]] = []
    for p in sorted(points, key=lambda p: (p.name != OURS, -p.y, p.x)):
        at = tuple(ax.transData.transform((p.x, p.y)))
        same = [g for g in groups if OURS not in g[0] and p.name != OURS
                and abs(g[1][0] - at[0]) < 4 and abs(g[1][1] - at[1]) < 4]  # fmt: skip
        if same:
            same[0][0].append(p.name)
        else:
            groups.append(([p.name], at, (p.x, p.y)))
    marker = 9.0  # half a marker's width, in pixels: labels keep off every point
    placed = [(g[1][0] - marker, g[1][1] - marker, 2 * marker, 2 * marker) for g in groups]
    frame = ax.get_window_extent()
    for names, (px, py), xy in groups:
        ours = OURS in names
        text = ", ".join(names)
        size = 9 if ours else 7.5
        width, height = 0.62 * size * dpi / 72 * len(text), size * dpi / 72
        boxes = []
        for side, dy in _OFFSETS:
            dx = marker + 1 if side == "R" else -marker - 1 - width
            boxes.append((px + dx, py + dy, width, height))
        free = [b for b in boxes if _inside(b, frame) and not any(_overlap(b, o) for o in placed)]
        box = (free or [b for b in boxes if _inside(b, frame)] or boxes)[0]
        placed.append(box)
        ax.annotate(
            text, xy, xytext=(box[0] - px, box[1] - py), textcoords="offset pixels",
            fontsize=size, fontweight="bold" if ours else "normal",
        )  # fmt: skip


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _inside(box: tuple[float, ...], frame) -> bool:
    return frame.x0 <= box[0] and box[0] + box[2] <= frame.x1 and frame.y0 <= box[1] <= frame.y1
