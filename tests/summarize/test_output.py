"""The summary as a terminal table, CSV and JSON: what each cell says."""

from __future__ import annotations

import csv
import io
import json

import yaml

from sweeper.config import load_sweep, load_yaml_with_lines
from sweeper.summarize.collect import SweepData, TrialRecord
from sweeper.summarize.output import table, to_csv, to_json, varying_params
from sweeper.summarize.summary import build
from sweeper.testing.sweeps import tiny_sweep


def test_an_inactive_parameter_and_a_drawn_null_read_differently(tmp_path):
    """A conditional parameter a trial never drew shows "-" (CSV: empty; JSON: no key); a
    categorical null it drew shows "null" (JSON: null). Both used to show alike."""
    sweep = tiny_sweep("t", (1e-3, 2e-3))
    sweep["parameters"]["train.use_gan"] = {"type": "categorical", "choices": [False, True]}
    sweep["parameters"]["train.c_kl"] = {
        "type": "categorical", "choices": [None, 1.0], "when": {"train.use_gan": True},
    }  # fmt: skip
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sweep), encoding="utf-8")
    params = [
        {"train.learning_rate": 1e-3, "train.use_gan": False},
        {"train.learning_rate": 2e-3, "train.use_gan": True, "train.c_kl": None},
        {"train.learning_rate": 3e-3, "train.use_gan": True, "train.c_kl": 1.0},
    ]
    trials = [
        TrialRecord(n, None, "COMPLETE", "converged", "", 30, 30, p, {"val/mel": 3.0 - n})
        for n, p in enumerate(params)
    ]
    data = SweepData(tmp_path, load_sweep(path), load_yaml_with_lines(path)[1], trials, [])
    summary = build(data)
    keys = varying_params(summary)
    body = [ln.split() for ln in table(summary).splitlines() if ln[:5].strip() in ("1", "2", "3")]
    assert [ln[1] for ln in body] == ["#2", "#1", "#0"]
    assert [ln[-len(keys):][keys.index("train.c_kl")] for ln in body] == ["1", "null", "-"]
    # as the sweep file writes them (Python's True/False showed)
    gan = [ln[-len(keys):][keys.index("train.use_gan")] for ln in body]
    assert gan == ["true", "true", "false"]
    csv_rows = list(csv.DictReader(io.StringIO(to_csv(summary))))
    assert [r["train.c_kl"] for r in csv_rows] == ["1.0", "null", ""]
    json_rows = json.loads(to_json(summary))["trials"]
    assert [r.get("train.c_kl", "absent") for r in json_rows] == [1.0, None, "absent"]


def test_a_pareto_winner_says_the_front_has_no_order(tmp_path):
    """Within a Pareto front the first trial is only the cheapest: the summary says so and
    names the others (a probe's export-best took front member #0 without a word)."""
    sweep = tiny_sweep("t", (1e-3, 2e-3))
    sweep["objective"] = {"metrics": ["val/mel_l1", "val/vuv_error"], "modes": ["min", "min"]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sweep), encoding="utf-8")
    values = [(0.9, 0.2), (0.8, 0.3), (0.95, 0.35)]  # #0 and #1 trade off; #2 is dominated
    trials = [
        TrialRecord(n, None, "COMPLETE", "converged", "", 30 - n, 30, {},
                    {"val/mel_l1": a, "val/vuv_error": b})
        for n, (a, b) in enumerate(values)
    ]  # fmt: skip
    data = SweepData(tmp_path, load_sweep(path), load_yaml_with_lines(path)[1], trials, [])
    text = table(build(data))
    assert "best: trial #1" in text  # front {#0, #1}: #1 ran fewer steps
    assert "the Pareto front also holds #0: none is better on every metric" in text
    assert "#2" not in text.split("best:")[1]


def _pareto_data(tmp_path, states=("COMPLETE", "COMPLETE", "COMPLETE")) -> SweepData:
    """Two objectives; #0 and #1 trade off, #2 is dominated; #1 ran fewer steps."""
    sweep = tiny_sweep("t", (1e-3, 2e-3))
    sweep["objective"] = {"metrics": ["val/mel_l1", "val/vuv_error"], "modes": ["min", "min"]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sweep), encoding="utf-8")
    values = [(0.9, 0.2), (0.8, 0.3), (0.95, 0.35)]
    rules = {"COMPLETE": "converged", "PRUNED": "overfitting"}
    trials = [
        TrialRecord(n, None, state, rules[state], "", 30 - n, 30, {},
                    {"val/mel_l1": a, "val/vuv_error": b})
        for n, ((a, b), state) in enumerate(zip(values, states, strict=True))
    ]  # fmt: skip
    return SweepData(tmp_path, load_sweep(path), load_yaml_with_lines(path)[1], trials, [])


def test_the_html_report_names_the_rest_of_the_front_and_the_tie_rule(tmp_path, monkeypatch):
    """The report highlighted "#1 best trial" and never said #0 was on the front too, nor why
    #1 was picked; its caption left out "then trial number" (a probe)."""
    import sweeper.summarize.report_plots as plots
    from sweeper.summarize.report_html import render

    for name in ("curves", "overlay", "metrics", "compute", "importance"):
        monkeypatch.setattr(plots, name, lambda *a: b"")
    monkeypatch.setattr(plots, "pareto", lambda s: (b"", "axes"))
    page = render(build(_pareto_data(tmp_path, ("PRUNED", "COMPLETE", "COMPLETE"))))
    assert "the Pareto front also holds #0: none is better on every metric" in page
    assert "the cheapest (fewest steps, then trial number) is shown first" in page
    assert "<code>sweeper export-best --trial N</code> takes another" in page
    assert "ties: fewer steps first, then trial number" in page
    assert "note: #0 on this front stopped early (overfitting, PRUNED)" in page


def test_a_pruned_trial_on_the_front_says_optunas_front_differs(tmp_path):
    """Optuna stores no values for a PRUNED trial of a multi-objective study, so
    study.best_trials and optuna-dashboard leave out a trial stopped for overfitting that this
    front ranks at its best checkpoint: said once, and only then."""
    text = table(build(_pareto_data(tmp_path, ("PRUNED", "COMPLETE", "PRUNED"))))
    notes = [ln for ln in text.splitlines() if "study.best_trials" in ln]
    assert len(notes) == 1 and notes[0].startswith("  note: #0 on this front stopped early ")
    assert "(overfitting, PRUNED) and is ranked at the best checkpoint" in notes[0]
    assert "#2" not in notes[0]  # pruned too, but not on the front
    assert "study.best_trials" not in table(build(_pareto_data(tmp_path)))
