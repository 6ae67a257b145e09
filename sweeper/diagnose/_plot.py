"""PNG of a diagnosis: one panel per signal, raw and smoothed, the verdict marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sweeper.detect import Reason, Verdict
from sweeper.diagnose._core import Diagnosis, SignalReport
from sweeper.diagnose._smooth import judged
from sweeper.logs import RunLog, Series, condense

_COLOURS = {
    Reason.CONTINUE: "tab:blue",
    Reason.CONVERGED: "tab:green",
    Reason.OVERFITTING: "tab:orange",
    Reason.DIVERGED: "tab:red",
}


def plot(diagnosis: Diagnosis, run: RunLog, out: str | Path) -> Path:
    """Write the PNG to ``out``; signals logged every step are drawn as diagnose judged them."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    run = condense(run)
    names = [*diagnosis.signals, *diagnosis.health]
    cols = 2 if len(names) > 3 else 1
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names, strict=False):
        _panel(ax, name, run.series[name], diagnosis)
    overall = diagnosis.overall
    heading = drawable(str(diagnosis.source))
    if overall is not None:
        heading += f"\noverall: {overall.reason.value}"
    fig.suptitle(heading, fontsize=10)
    fig.tight_layout()
    path = Path(out)
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def drawable(text: str) -> str:
    """``text`` with each character the plot's font lacks as "?": a path in Chinese drew
    boxes, and each glyph was a "missing from font(s) DejaVu Sans" warning (a probe,
    2026-12-07). A font configured with those glyphs (matplotlibrc) keeps them."""
    if text.isascii():
        return text
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.ft2font import FT2Font

    font = FT2Font(findfont(FontProperties()))
    return "".join(c if c.isascii() or font.get_char_index(ord(c)) else "?" for c in text)


def _panel(ax, name: str, series: Series, diagnosis: Diagnosis) -> None:
    steps, values = series.steps, series.values
    finite = np.isfinite(values)
    ax.plot(steps[finite], values[finite], ".", ms=3, color="0.6", alpha=0.6, label="logged")
    smoothed = judged(values)
    ax.plot(steps, smoothed, "-", lw=1.6, color="tab:blue", label="smoothed")
    _robust_ylim(ax, values[finite], smoothed[np.isfinite(smoothed)])
    if not finite.all():
        # Mark NaN/inf along the bottom edge, where they cannot hide a curve.
        ax.plot(
            steps[~finite],
            np.zeros(int((~finite).sum())),
            "x",
            color="tab:red",
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label="NaN/inf",
        )
    report = diagnosis.signals.get(name)
    if report is None:
        ax.set_title(f"{name} — health guard", fontsize=9)
    else:
        for stop in _stops(report):
            ax.axvline(
                stop.step,
                color=_COLOURS[stop.reason],
                ls="--",
                lw=1.2,
                label=f"{stop.reason.value} @ {stop.step}",
            )
        if report.best_step is not None:
            # On the smoothed curve: the best step is judged through smoothing too.
            at = int(np.searchsorted(steps, report.best_step))
            if at < len(steps) and np.isfinite(smoothed[at]):
                ax.plot(
                    report.best_step,
                    smoothed[at],
                    "*",
                    ms=11,
                    color="tab:purple",
                    label=f"best @ {report.best_step}",
                )
        ax.set_title(panel_title(report), fontsize=9, color=_COLOURS[report.final.reason])
    ax.set_xlabel("step", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")


def _stops(report: SignalReport) -> list[Verdict]:
    """The stop behind the verdict, and an earlier stop of another kind (a convergence
    before a divergence) when there was one."""
    stop, first = report.stop, report.first_stop
    stops = [] if stop is None else [stop]
    if first is not None and (stop is None or first.step < stop.step):
        stops.insert(0, first)
    return stops


def panel_title(report: SignalReport) -> str:
    """``loss/g/kl — diverged @ 24000 (converged @ 8800 before)``: the steps the text names."""
    title = f"{report.name} — {report.final.reason.value}"
    stops = _stops(report)
    if stops and report.final.reason is Reason.CONTINUE:  # a stop the run went on past
        return title + f" (first stop {stops[0].step})"
    if stops:
        title += f" @ {stops[-1].step}"
    if len(stops) > 1:
        title += f" ({stops[0].reason.value} @ {stops[0].step} before)"
    return title


def _robust_ylim(ax, raw: np.ndarray, smoothed: np.ndarray) -> None:
    """Clip the first steps' huge values so the part that matters stays readable."""
    if raw.size < 5:
        return
    low, high = (float(q) for q in np.percentile(raw, [1, 97]))
    if smoothed.size > 0:
        low = min(low, float(smoothed.min()))
    if high > low:
        pad = 0.08 * (high - low)
        ax.set_ylim(low - pad, high + pad)
