"""Compute saved: only trials that ended by a rule count; unfinished and failed ones are named."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sweeper.tune._table import compute, compute_text


@dataclass
class _Trial:
    state: str
    steps: int


@pytest.mark.parametrize(
    ("trials", "expected"),
    [
        ([("COMPLETE", 100), ("PRUNED", 20)], (120, 200, 0)),
        # an interrupted trial's steps to come were not saved by early stopping
        ([("COMPLETE", 100), ("PRUNED", 20), ("RUNNING", 10)], (120, 200, 1)),
        ([("PRUNED", 20), ("FAIL", 5), ("WAITING", 0)], (20, 100, 1)),
        ([("RUNNING", 10), ("RUNNING", 30)], (0, 0, 2)),
        ([], (0, 0, 0)),
    ],
)
def test_compute_counts_the_trials_that_ended_by_a_rule(trials, expected):
    assert compute([_Trial(*t) for t in trials], max_steps=100) == expected


def test_compute_text_names_what_was_left_out():
    assert compute_text(120, 200, 0) == "120 of 200 (every trial to its budget): 40% saved"
    text = compute_text(120, 200, 2)
    assert "every trial that ended by a rule" in text and "2 unfinished or failed" in text
    assert compute_text(0, 0, 2).endswith("0% saved; 2 unfinished or failed not counted")


def test_a_searched_parameter_is_shown_even_where_every_trial_drew_the_same():
    from sweeper.tune._table import shown_params

    @dataclass
    class _T:
        params: dict

    one = [_T({"train.learning_rate": 0.0035, "train.c_kl": 1.0})]  # a one-trial sweep
    assert shown_params(one) == []  # was the table: the winner's learning rate nowhere
    assert shown_params(one, ("train.learning_rate",)) == ["train.learning_rate"]
    two = [_T({"a": 1, "b": 2}), _T({"a": 1, "b": 3})]
    assert shown_params(two) == ["b"] and shown_params(two, ("a",)) == ["a", "b"]


def _summary(best_values):
    from sweeper.tune import Summary
    from sweeper.tune._table import Row

    table = [
        Row(i, f"r{i}", "FAIL" if v is None else "COMPLETE", "error" if v is None else "budget",
            "", 10, v, None if v is None else 10, {"train.learning_rate": 1e-3})
        for i, v in enumerate(best_values)
    ]  # fmt: skip
    return Summary("sweeps/s", table, 0, 0, len(table), 12.0)


@pytest.mark.parametrize(
    ("best_values", "advice"),
    [([None, None], "no trial has a value to rank"), ([None, 3.0], "sweeper summarize sweeps/s")],
)
def test_the_next_step_fits_how_the_sweep_ended(capsys, best_values, advice):
    """A sweep whose every trial failed was pointed at summarize and export-best."""
    from sweeper.cli._run import print_summary
    from sweeper.config import load_sweep

    cfg = load_sweep(Path(__file__).resolve().parents[2] / "search_spaces" / "quick.yaml")
    print_summary(_summary(best_values), cfg)
    out = capsys.readouterr().out
    assert advice in out
    assert ("export-best" in out) == (advice != "no trial has a value to rank")


def test_values_near_1_keep_their_digits_and_absent_params_stay_in_their_column():
    from sweeper.tune._table import Row, format_table

    def row(number, params):
        return Row(number, None, "COMPLETE", "budget", "", 30, 1.0, 30, params)

    table = [
        row(0, {"train.lr_decay": 0.99966, "train.learning_rate": 0.0036121}),
        row(1, {"train.learning_rate": 0.002}),  # lr_decay absent (a conditional parameter)
        row(2, {"train.lr_decay": None, "train.learning_rate": 0.002}),  # drawn as null
    ]
    lines = format_table(table, "val/mel", ["train.lr_decay", "train.learning_rate"])
    first, second, third = lines.splitlines()[2:5]
    assert "0.99966" in first and "0.00361" in first  # was "1": no decay, it said
    assert len(first) == len(second) and second.split()[-2:] == ["-", "0.002"]
    assert third.split()[-2:] == ["null", "0.002"]  # not "None", nor absent's "-"
    from sweeper.tune._progress import describe_params

    drawn = describe_params({"train.use_gan": False, "train.c_kl": None})
    assert drawn == "use_gan=false c_kl=null"


def test_several_objectives_show_every_metric_at_the_best_step(tmp_path):
    """Only the first objective showed in the run's table and status: a Pareto sweep's
    second metric (val/vuv_error) was in summarize alone."""
    from types import SimpleNamespace

    from sweeper.tune._table import Row, format_table, row_of

    best = {"step": 5, "metrics": ["val/mel_l1", "val/vuv_error"],
            "values": {"val/mel_l1": 0.9, "val/vuv_error": 0.21}}  # fmt: skip
    frozen = SimpleNamespace(  # what row_of reads of an Optuna trial
        number=0, state=SimpleNamespace(name="COMPLETE"), intermediate_values={5: 0.9},
        user_attrs={"best": best},
    )  # fmt: skip
    row = row_of(frozen)
    assert row.others == {"val/vuv_error": 0.21}
    failed = Row(1, None, "FAIL", "error", "", 3, None, None, {}, {"val/vuv_error": None})
    lines = format_table([row, failed], "val/mel_l1").splitlines()
    assert lines[0].split()[5:9] == ["best", "val/mel_l1", "val/vuv_error", "at"], lines[0]
    assert lines[2].split()[4:7] == ["0.9000", "0.2100", "5"], lines[2]
    assert lines[3].split()[4:7] == ["-", "-", "-"], lines[3]
    assert lines[0].index("val/vuv_error") + 13 == lines[2].index("0.2100") + 6  # aligned


def test_a_value_wider_than_its_header_keeps_the_columns_aligned():
    from sweeper.tune._table import Row, format_table

    def row(number, betas):
        return Row(number, None, "COMPLETE", "budget", "", 30, 1.0, 30,
                   {"train.betas": betas, "train.learning_rate": 0.002})  # fmt: skip

    text = format_table([row(0, [0.5, 0.9]), row(1, [0.8, 0.99])], "val/mel",
                        ["train.betas", "train.learning_rate"])  # fmt: skip
    head, _, first, second = text.splitlines()
    assert len(head) == len(first) == len(second)
    assert head.index("learning_rate") + len("learning_rate") == len(head)
    end = head.index("betas") + len("betas")  # right-aligned under their header
    assert first[:end].endswith("[0.5, 0.9]") and second[:end].endswith("[0.8, 0.99]")


def test_a_sweep_whose_every_trial_diverged_is_told_so_not_sent_to_errors(capsys):
    """A probe (2026-12-07): "fix what the trials' errors above say ... `sweeper run
    SPACE.yaml ...`" when no trial had errored and the space file was known."""
    from sweeper.cli._run import print_summary
    from sweeper.config import load_sweep

    cfg = load_sweep(Path(__file__).resolve().parents[2] / "search_spaces" / "quick.yaml")
    import dataclasses

    summary = _summary([None, None])
    diverged = [dataclasses.replace(r, state="PRUNED", rule="diverged") for r in summary.table]
    summary.table[:] = diverged
    print_summary(summary, cfg, "hot.yaml")
    out = capsys.readouterr().out
    assert "every trial diverged: narrow the space" in out and "errors above" not in out
    assert "then `sweeper run hot.yaml --name s-2`" in out
    print_summary(_summary([None, None]), cfg)  # resume: the sweep's own copy of the space
    out = capsys.readouterr().out
    assert "errors above" in out and "then `sweeper run sweeps/s/sweep.yaml --name s-2`" in out


def test_queued_trials_that_never_started_are_counted_as_not_started(capsys):
    """An interrupted grid sweep said "6 unfinished" where 4 queued (WAITING) trials had
    never started (a probe, 2026-12-07)."""
    import dataclasses

    from sweeper.cli._run import exit_code, print_summary
    from sweeper.config import load_sweep

    cfg = load_sweep(Path(__file__).resolve().parents[2] / "search_spaces" / "quick.yaml")
    summary = _summary([3.0, None, None, None])
    states = ["COMPLETE", "RUNNING", "WAITING", "WAITING"]
    summary.table[:] = [
        dataclasses.replace(r, state=s, rule=r.rule if s == "COMPLETE" else None)
        for r, s in zip(summary.table, states, strict=True)
    ]
    print_summary(summary, cfg)
    assert "trials: 4 (1 budget, 2 not started, 1 unfinished)" in capsys.readouterr().out
    assert exit_code(summary, "run", num_trials=6) == 130
    assert "interrupted with 1 trial(s) unfinished and 4 not started" in capsys.readouterr().err


def test_a_long_error_keeps_its_fix_and_loses_its_middle():
    """A so-vits dataset error quoting three long paths lost its `; fix:` at 300 characters,
    in the progress line and in `sweeper status` (a probe, 2026-12-08)."""
    from sweeper.tune._error_line import shorten

    clip = "'/tmp/My Voice/so-vits-svc/dataset/44k/alice smith/clip {:02d}.wav'"
    paths = ", ".join(clip.format(i) for i in range(3))
    fix = "; fix: set data.dir to the folder their relative paths start from"
    message = f"InputError: dataset file missing: 3 of 3 wavs do not exist (e.g. {paths}){fix}"
    assert len(message) > 300
    short = shorten(message)
    assert len(short) == 300 and short.endswith(fix) and short.startswith("InputError: dataset")
    assert "…" in short
    assert shorten("short; fix: x") == "short; fix: x"
    no_fix = "x" * 500
    assert shorten(no_fix) == "x" * 299 + "…"
