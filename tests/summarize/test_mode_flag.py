"""``--mode`` against the sweep file's ``summary:``: in the file, weights under mode: pareto
are an error; the flag is a deliberate other view, so what it leaves unused is said (a probe,
2026-12-07: summarize --mode pareto dropped summary.weights without a word)."""

from __future__ import annotations

from sweeper.cli import main
from sweeper.summarize import summarize


def test_mode_flag_says_which_summary_keys_it_leaves_unused(sweep_dir, tmp_path, capsys):
    # The test sweep ranks by summary.weights {val/mel: 1, val/vuv_error: 0.5}.
    argv = ["summarize", str(sweep_dir), "--mode", "pareto", "--no-html", "--out", str(tmp_path)]
    assert main(argv) == 0
    (note,) = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("note:")]
    assert note == (
        "note: --mode pareto overrides the sweep file's summary: section; its summary.weights "
        "(val/mel, val/vuv_error) are not used; ranking by val/mel"
    )
    assert summarize(sweep_dir, mode="composite").notes == []  # what the file asks for
    assert summarize(sweep_dir).notes == []
