"""The report's charts at many trials: a probe's 300-trial sweep drew bar charts 7,000 px
tall (68,000 at 2,700, past what viewers show) and piled every trial's "#N" on one axis."""

from __future__ import annotations

import pytest
from matplotlib.text import Annotation

import sweeper.summarize.report_plots as plots
from sweeper.summarize import summarize


@pytest.fixture
def few_allowed(monkeypatch):
    """Caps below the session sweep's trial count, and figures instead of PNG bytes."""
    monkeypatch.setattr(plots, "_png", lambda fig: fig)
    monkeypatch.setattr(plots, "MAX_BARS", 2)
    monkeypatch.setattr(plots, "MAX_LABELS", 1)
    monkeypatch.setattr(plots, "MAX_PANELS", 2)


def test_bar_charts_draw_the_first_trials_only_and_say_so(sweep_dir, few_allowed):
    s = summarize(sweep_dir)
    every = plots.ordered(s)
    assert len(s.ranked) > 2 and len(every) > 2, "the session sweep is too small for this test"
    fig = plots.metrics(s, ["val/mel"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"#{t.number}" for t in every[:2]]
    assert f"(the first 2 of {len(s.ranked)} trials; all in summary.csv)" in ax.get_title()
    ax = plots.compute(s).axes[0]
    assert len(ax.get_yticklabels()) == 2
    assert f"the first 2 of {len(every)} trials" in ax.get_title()
    assert f"{s.steps_run:,} of {s.steps_budget:,} steps run" in ax.get_title()  # all trials


def test_the_overlay_labels_the_best_curves_only(sweep_dir, few_allowed):
    s = summarize(sweep_dir)
    ax = plots.overlay(s).axes[0]
    labels = [c.get_text() for c in ax.get_children() if isinstance(c, Annotation)]
    assert labels == [f"#{plots.ordered(s)[0].number}"]
    assert "the best 1 labelled" in ax.get_title()
    assert len(ax.get_lines()) >= 2 * len(s.ranked)  # every curve is still drawn


def test_the_pareto_chart_labels_the_front_and_the_best_only(sweep_dir, few_allowed):
    s = summarize(sweep_dir)
    ax = plots.pareto(s)[0].axes[0]
    labels = [c.get_text() for c in ax.get_children() if isinstance(c, Annotation)]
    front = len(ax.get_lines()[0].get_xdata()) if ax.get_lines() else 1
    assert front < len(s.ranked) - 1, "every trial on the front: nothing left unlabelled"
    assert 1 <= len(labels) <= 1 + front
    assert f"#{s.winner.number}" in labels


def test_the_report_table_folds_and_the_terminal_lists_the_first_trials(sweep_dir, monkeypatch):
    """300 trials: a 15,000 px ranking table in the report and 508 terminal lines."""
    import sweeper.summarize.output as output
    import sweeper.summarize.report_html as report_html

    monkeypatch.setattr(report_html, "TABLE_ROWS", 2)
    monkeypatch.setattr(output, "MAX_TERMINAL_TRIALS", 2)
    monkeypatch.setattr(plots, "_png", lambda fig: b"\x89PNG")  # the table is what is read
    s = summarize(sweep_dir)
    n_all = len(s.data.trials)
    page = report_html.render(s)
    open_part, _, folded = page.partition(f"<details><summary>the other {n_all - 2} trials")
    assert folded and "</details>" in folded
    assert open_part.count('<tr class="trial') == 2
    assert folded.count('<tr class="trial') == n_all - 2
    text = output.table(s)
    more = len(s.ranked) - 2
    assert text.count(f"  ... {more} more ranked trials in summary.csv and the report") == 2
    why = text.split("why each ranked trial stopped:\n")[1].split("\n\n")[0].splitlines()
    assert len(why) == 3  # two trials, then the count
