"""``sweeper summarize`` on one real sweep: ranking, outputs, bad input, --evaluate, cache."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from sweeper.errors import InputError
from sweeper.summarize import summarize
from sweeper.summarize.output import table
from tests.summarize.conftest import replace_file, run_cli


def test_summary_of_a_real_sweep(sweep_dir, tmp_path):
    done = run_cli("summarize", str(sweep_dir), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    ranking = "composite of minmax-normalised 1×val/mel↓ + 0.5×val/vuv_error↓"
    assert f"3 trials, 3 ranked ({ranking}" in out
    assert "budget.max_steps=30): 90 of 90 (every trial to its budget): 0% saved" in out
    assert "parameters that mattered: learning_rate" in out
    doc = json.loads((tmp_path / "summary.json").read_text())
    trials = doc["trials"]
    assert [t["place"] for t in trials] == [1, 2, 3]
    assert doc["ranking"]["weights"] == {"val/mel": 1.0, "val/vuv_error": 0.5}
    # the composite score is what the table claims: minmax badness, weighted mean
    mel = [t["val/mel"] for t in trials]
    vuv = [t["val/vuv_error"] for t in trials]

    def bad(v, xs):
        return 0.0 if max(xs) == min(xs) else (v - min(xs)) / (max(xs) - min(xs))

    for t in trials:
        want = (bad(t["val/mel"], mel) + 0.5 * bad(t["val/vuv_error"], vuv)) / 1.5
        assert t["score"] == pytest.approx(want)
    assert [t["score"] for t in trials] == sorted(t["score"] for t in trials)
    assert all(t["stopped_by"] == "budget" and t["stop_step"] == 30 for t in trials)
    assert all(t["checkpoint"].endswith(f"G_{t['best_step']}.pth") for t in trials)
    assert set(doc["importance"]) == {"train.learning_rate"}
    with open(tmp_path / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["trial"]) for r in rows] == [t["trial"] for t in trials]
    assert (tmp_path / "report.html").stat().st_size > 20_000


def test_mode_override_ranks_lexicographically_by_the_objective(sweep_dir):
    s = summarize(sweep_dir, mode="lexicographic")
    mels = [s.by_number[r.key].values["val/mel"] for r in s.ranked]
    assert mels == sorted(mels)
    assert s.criteria.metrics == ("val/mel",)


def test_pareto_over_one_metric_says_it_is_the_lexicographic_order(sweep_dir):
    pareto = summarize(sweep_dir, mode="pareto")
    lexicographic = summarize(sweep_dir, mode="lexicographic")
    assert [r.key for r in pareto.ranked] == [r.key for r in lexicographic.ranked]
    assert "one metric: the lexicographic order" in pareto.describe()
    assert "one metric" not in lexicographic.describe()


def _set_summary(folder, summary) -> None:
    path = folder / "sweep.yaml"
    data = yaml.safe_load(path.read_text())
    data["summary"] = summary
    path.unlink()  # hard-linked to the session's sweep: write a new file
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_unknown_metric_in_the_weights_names_the_metrics_present(sweep_copy):
    _set_summary(sweep_copy, {"mode": "composite", "weights": {"val/mell": 1}})
    done = run_cli("summarize", str(sweep_copy))
    assert done.returncode == 2
    err = done.stderr.strip()
    assert "\n" not in err and "sweep.yaml:" in err
    # Checked when the file is read, as `sweeper run` does before any trial (a typo there
    # surfaced only after the whole sweep).
    assert "summary.weights.val/mell is not a metric the reference trainer reports" in err
    assert "did you mean 'val/mel'?" in err


def test_summary_modes_may_not_turn_an_objective_around(sweep_copy):
    # val/mel max would rank the worst trial first, while each trial's best step was its
    # lowest val/mel: this summarized silently before.
    _set_summary(sweep_copy, {"modes": {"val/mel": "max", "val/vuv_error": "min"}})
    with pytest.raises(InputError, match=r"sweep\.yaml:\d+: summary\.modes\.val/mel contradicts"):
        summarize(sweep_copy)


def test_export_best_to_a_path_it_cannot_write_is_one_line(sweep_dir, tmp_path):
    from sweeper.summarize.export import export_best

    with pytest.raises(InputError, match="is a folder") as err:
        export_best(summarize(sweep_dir), tmp_path)  # a folder, not a file (was internal error)
    assert "\n" not in str(err.value)


def test_export_best_names_the_others_on_the_pareto_front(sweep_copy, tmp_path, capsys):
    from sweeper.cli import main

    _set_summary(sweep_copy, {"mode": "pareto", "metrics": ["val/mel", "val/vuv_error"]})
    ranked = summarize(sweep_copy).ranked
    assert main(["export-best", str(sweep_copy), "--out", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    others = [f"#{r.key}" for r in ranked[1:] if r.front == 0]
    if others:  # so far always: two trials trade val/mel against val/vuv_error
        # The winner took a tie (by fewer steps, not by being better): the others are named.
        assert f"also on the Pareto front: {', '.join(others)}" in out
    else:
        assert "also on the Pareto front" not in out
    assert "study.best_trials" not in out  # no PRUNED trial on this front
    behind = next((r for r in ranked if r.front is not None and r.front > 0), None)
    if behind is not None:  # so far always: a trial worse on both
        # --trial of a dominated trial: it was said to share the front with its betters.
        argv = ["export-best", str(sweep_copy), "--out", str(tmp_path / "d.json")]
        assert main([*argv, "--trial", str(behind.key)]) == 0
        out = capsys.readouterr().out
        assert "also on the Pareto front" not in out
        front = ", ".join(f"#{r.key}" for r in ranked if r.front == 0)
        assert f"trial #{behind.key} is not on the Pareto front (front {behind.front}" in out
        assert f"the front: {front}" in out


def test_export_best_says_optunas_front_leaves_a_pruned_member_out(
    sweep_copy, tmp_path, capsys, monkeypatch
):
    """As summarize says it: a multi-objective study stores no values for a PRUNED trial,
    so study.best_trials and optuna-dashboard leave it out (export-best said nothing)."""
    import dataclasses

    import sweeper.summarize as pkg
    from sweeper.cli import main

    real = pkg.summarize

    def one_front_with_a_pruned_member(*args, **kwargs):
        s = real(*args, **kwargs)
        s.ranked = [dataclasses.replace(r, front=0) for r in s.ranked]
        s.by_number[s.ranked[1].key].state = "PRUNED"
        objective = dataclasses.replace(  # a multi-objective study: PRUNED has no values
            s.data.cfg.objective, metrics=("val/mel", "val/vuv_error"), modes=("min", "min")
        )
        s.data.cfg = dataclasses.replace(s.data.cfg, objective=objective)
        return s

    _set_summary(sweep_copy, {"mode": "pareto", "metrics": ["val/mel", "val/vuv_error"]})
    monkeypatch.setattr(pkg, "summarize", one_front_with_a_pruned_member)
    assert main(["export-best", str(sweep_copy), "--out", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    assert "also on the Pareto front: " in out
    assert "on this front stopped early" in out and "Optuna's study.best_trials" in out


def test_eval_metric_before_evaluate_says_how_to_measure_it(sweep_copy):
    _set_summary(sweep_copy, {"mode": "pareto", "metrics": ["val/mel", "eval/mcd_db"]})
    with pytest.raises(InputError, match=r"summary.metrics\[1\] is not a metric.*--evaluate"):
        summarize(sweep_copy)


def test_missing_and_corrupt_checkpoints_are_skipped_with_the_reason(sweep_copy, capsys):
    s = summarize(sweep_copy)
    first, second = (s.by_number[r.key] for r in s.ranked[:2])
    for path in sweep_copy.glob(f"trial_{first.ray_id}/checkpoint_*/**/G_{first.best_step}.pth"):
        path.unlink()
    broken = second.checkpoint
    replace_file(broken, broken.read_bytes()[: broken.stat().st_size // 2])  # truncated
    s2 = summarize(sweep_copy)
    assert [r.key for r in s2.ranked] == [s.ranked[2].key]
    why = {t.number: reason for t, reason in s2.excluded}
    assert why[first.number].startswith(f"best checkpoint G_{first.best_step}.pth is missing")
    assert why[second.number].startswith(f"{broken.name} is corrupt")
    text = table(s2)
    assert "not ranked:" in text and "is missing" in text and "is corrupt" in text
    # export-best takes the best candidate left and says which better ones it could not use
    from sweeper.cli import main

    out = sweep_copy / "summary" / "best.json"  # elsewhere in the sweep folder is refused
    assert main(["export-best", str(sweep_copy), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"(trial #{s.ranked[2].key};" in printed
    assert f"not a candidate: #{first.number}, best checkpoint" in printed
    assert f"not a candidate: #{second.number}, {broken.name} is corrupt" in printed


def test_a_sweep_with_no_finished_trial_is_a_one_line_error(sweep_dir, tmp_path):
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "sweep.yaml").write_text((sweep_dir / "sweep.yaml").read_text())
    storage = JournalStorage(JournalFileBackend(str(folder / "study.journal")))
    study = optuna.create_study(study_name="s", storage=storage)
    study.ask()  # one trial, still running
    done = run_cli("summarize", str(folder))
    assert done.returncode == 2
    assert "has no finished trial to rank (1 running)" in done.stderr
    assert done.stderr.count("\n") == 1


def test_an_unwritable_summary_folder_is_a_one_line_error(sweep_copy, capsys):
    from sweeper.cli import main

    # The default DIR/summary cannot be made (as in a read-only sweep folder, which root
    # can still write): the error names it and says --out.
    (sweep_copy / "summary").write_text("a file where the folder would go")
    assert main(["summarize", str(sweep_copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the summary to" in err
    assert str(sweep_copy / "summary") in err and "--out DIR" in err
    assert main(["summarize", str(sweep_copy), "--out", "/proc/x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'/proc/x'" in err and "writable folder" in err


def test_not_a_sweep_folder(tmp_path):
    with pytest.raises(InputError, match="is not a sweep folder"):
        summarize(tmp_path)


def test_evaluate_measures_best_checkpoints_once_and_caches(sweep_copy, monkeypatch):
    args = ("summarize", str(sweep_copy), "--evaluate", "--metrics", "mel_l1,mcd_db", "--json")
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "evaluating 3 checkpoint(s) as Ray tasks (1 CPU, 0 GPU each)" in first.stderr
    doc = json.loads(first.stdout)
    caches = sorted((sweep_copy / "summary" / "eval").glob("trial_*.json"))
    assert len(caches) == 3
    assert all(t["eval/mcd_db"] > 0 for t in doc["trials"])
    for t in summarize(sweep_copy).data.trials:  # the cache read back without --evaluate
        # the trainer's own validation measure of that step, on the same clips
        assert t.values["eval/mel_l1"] == pytest.approx(t.values["val/mel_l1"], rel=0.05)
    stamps = [p.stat().st_mtime_ns for p in caches]
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "evaluating" not in again.stderr  # nothing recomputed
    assert [p.stat().st_mtime_ns for p in caches] == stamps
    assert json.loads(again.stdout)["trials"] == doc["trials"]
    # The terminal table holds up to MAX_TERMINAL_METRICS metric columns, the ranking's
    # first (it showed only the ranking's and the objective's once there were more).
    import sweeper.summarize.output as output

    plain = summarize(sweep_copy)
    shown = output.shown_metrics(plain)  # the ranking's 2, then eval/mcd_db, eval/mel_l1
    assert shown[-2:] == ["eval/mcd_db", "eval/mel_l1"]
    monkeypatch.setattr(output, "MAX_TERMINAL_METRICS", len(shown) - 1)
    text = output.table(plain)
    header = text.splitlines()[2].split()
    assert [m for m in shown if m in header] == shown[:-1]
    assert "(1 more metrics" in text
    # the cached metrics rank without --evaluate too
    _set_summary(sweep_copy, {"mode": "composite", "weights": {"eval/mcd_db": 1}})
    s = summarize(sweep_copy)
    mcd = [s.by_number[r.key].values["eval/mcd_db"] for r in s.ranked]
    assert mcd == sorted(mcd)
    # A plain --evaluate asks for every metric: the subset in the cache does not answer it
    # (it was reused silently, showing 2 metrics). Stopped where it would start measuring.
    import sweeper.tune._run as tune_run
    from sweeper.summarize.collect import collect
    from sweeper.summarize.evaluation import evaluate_trials

    class WouldMeasure(Exception):
        pass

    def refuse(address):
        raise WouldMeasure

    monkeypatch.setattr(tune_run, "connect_ray", refuse)
    with pytest.raises(WouldMeasure):
        evaluate_trials(collect(sweep_copy), metrics=None)
    evaluate_trials(collect(sweep_copy), metrics=["mcd_db"])  # a covered subset: no work
    done = run_cli("summarize", str(sweep_copy), "--metrics", "mcd_db")
    assert done.returncode == 2 and "--metrics applies to --evaluate" in done.stderr


def test_a_winner_tied_with_others_says_how_it_was_chosen(sweep_copy):
    s = summarize(sweep_copy)
    assert "ties with" not in table(s)  # three learning rates, three values
    win = s.winner
    for record in s.data.trials:
        record.values.update({m: win.values[m] for m in s.criteria.metrics if m in win.values})
    text = table(s)
    others = [f"#{r.key}" for r in s.ranked[1:]]
    assert f"ties with {', '.join(others)}" in text and "fewer steps, then trial number" in text


def test_finished_trials_whose_best_checkpoints_are_gone_are_not_blamed_on_the_space(
    sweep_copy,
):
    for kept in sweep_copy.glob("trial_*/checkpoint_*/**/G_*.pth"):
        kept.unlink()  # a hard link: the session's sweep keeps its file
    with pytest.raises(InputError) as err:
        summarize(sweep_copy)
    text = str(err.value)
    assert "best checkpoints are not where they were kept" in text
    assert "narrow the search space" not in text


def test_each_trials_progress_csv_has_every_metric_it_reported(sweep_dir):
    # A probe (2026-12-07): Ray's CSV logger took its columns from a trial's first report,
    # the step-0 evaluation (val/* only), so progress.csv had none of the training losses.
    trials = sorted(sweep_dir.glob("trial_*"))
    assert trials
    for trial in trials:
        reports = [json.loads(line) for line in (trial / "result.json").read_text().splitlines()]
        keys = {k for r in reports for k, v in r.items() if not isinstance(v, dict)}
        with (trial / "progress.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert {"loss/g/mel", "val/mel", "step"} <= keys
        assert keys <= set(rows[0]), sorted(keys - set(rows[0]))
        assert len(rows) == len(reports)
        assert [float(r["step"]) for r in rows] == [float(r["step"]) for r in reports]
        last = rows[-1]["loss/g/mel"]
        assert float(last) == reports[-1]["loss/g/mel"]
