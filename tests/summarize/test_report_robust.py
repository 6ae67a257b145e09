"""The report with metrics missing, and its plots' labels (a probe, 2026-12-07): a composite's
weight-0 metric NaN at every step of one trial crashed the Pareto plot (KeyError) and took
summary.csv/json with it; log-axis labels overlapped; the legend named a line not drawn."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

import sweeper.summarize.report_plots as plots
from sweeper.cli import main
from sweeper.summarize import summarize


@pytest.fixture
def figures(monkeypatch):
    """The plots return their matplotlib figure instead of PNG bytes."""
    monkeypatch.setattr(plots, "_png", lambda fig: fig)


def _composite(summary, weights):
    summary.criteria = replace(summary.criteria, mode="composite", metrics=tuple(weights),
                               weights=weights)  # fmt: skip
    return summary


def test_a_weight_0_metric_missing_from_a_ranked_trial_does_not_break_the_pareto(sweep_dir):
    s = _composite(summarize(sweep_dir), {"val/mel": 1.0, "val/vuv_error": 0.0})
    s.winner.values.pop("val/vuv_error")  # what a NaN at every step leaves
    png, what = plots.pareto(s)
    assert png.startswith(b"\x89PNG") and what == "val/mel against compute"


def test_the_pareto_legend_names_a_front_line_only_when_one_is_drawn(sweep_dir, figures):
    s = _composite(summarize(sweep_dir), {"val/mel": 1.0, "val/vuv_error": 1.0})
    by = s.by_number
    for place, r in enumerate(s.ranked):  # the winner best on both axes: a front of one
        by[r.key].values.update({"val/mel": 10.0 + place, "val/vuv_error": 0.1 + place})
    fig, _ = plots.pareto(s)
    ax = fig.axes[0]
    assert ax.get_legend() is None and not ax.get_lines()
    for place, r in enumerate(s.ranked):  # a trade-off: every trial on the front
        by[r.key].values.update({"val/mel": 10.0 + place, "val/vuv_error": 0.5 - 0.1 * place})
    fig, _ = plots.pareto(s)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Pareto front"]
    assert len(ax.get_lines()[0].get_xdata()) == len(s.ranked)


def test_log_axis_labels_do_not_overlap(sweep_dir, figures):
    s = summarize(sweep_dir)
    t = s.winner  # a curve over two decades, as a real loss falls
    steps = t.curves["val/mel"][0]
    falling = [70.0 * 0.01 ** (i / (len(steps) - 1)) for i in range(len(steps))]
    t.curves["val/mel"] = (steps, falling)
    fig = plots.curves(s)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        lo, hi = ax.get_ylim()
        ticks = ax.yaxis.get_major_ticks() + ax.yaxis.get_minor_ticks()
        shown = [t.label1 for t in ticks if t.label1.get_text() and lo <= t.get_loc() <= hi]
        boxes = sorted((label.get_window_extent(renderer) for label in shown), key=lambda b: b.y0)
        assert boxes, ax.get_title()
        for below, above in itertools.pairwise(boxes):
            assert above.y0 >= below.y1 - 0.5, (ax.get_title(), below, above)


def test_summary_csv_and_json_are_written_when_the_report_fails(
    sweep_dir, tmp_path, monkeypatch, capsys
):
    import sweeper.summarize.report_html as report_html

    def broken(summary):
        raise KeyError("val/f0_rmse_cents")

    monkeypatch.setattr(report_html, "render", broken)
    out = tmp_path / "out"
    assert main(["summarize", str(sweep_dir), "--out", str(out)]) == 1
    assert (out / "summary.csv").is_file() and (out / "summary.json").is_file()
    assert not (out / "report.html").exists()
    err = capsys.readouterr().err
    assert "report.html was not written" in err and "internal error: KeyError" in err


def test_a_ctrl_c_while_the_report_renders_leaves_the_earlier_files_as_they_were(
    sweep_dir, tmp_path, monkeypatch, capsys
):
    """Until 2026-12-07 the tables were written before the report rendered: a Ctrl-C there
    left new summary.csv/json beside the report.html of an earlier summarize."""
    import sweeper.summarize.report_html as report_html

    out = tmp_path / "out"
    out.mkdir()
    names = ("summary.csv", "summary.json", "report.html")
    earlier = {name: f"earlier {name}\n" for name in names}
    for name, text in earlier.items():
        (out / name).write_text(text)

    def interrupted(summary):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_html, "render", interrupted)
    assert main(["summarize", str(sweep_dir), "--out", str(out)]) == 130
    assert {p.name: p.read_text() for p in out.iterdir()} == earlier  # and no temporary file

    def broken(summary):
        raise KeyError("val/f0_rmse_cents")

    monkeypatch.setattr(report_html, "render", broken)
    capsys.readouterr()
    assert main(["summarize", str(sweep_dir), "--out", str(out)]) == 1
    assert (out / "summary.csv").read_text() != earlier["summary.csv"]
    assert "report.html was not written (the report.html there is an earlier one)" in (
        capsys.readouterr().err
    )


def test_a_write_that_fails_leaves_no_temporary_file(sweep_dir, tmp_path, monkeypatch, capsys):
    import errno
    import os

    out = tmp_path / "out"

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    assert main(["summarize", str(sweep_dir), "--out", str(out), "--no-html"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert list(out.iterdir()) == []  # the part written first went with the error
