"""``sweeper clean``: the older checkpoints' and run/'s .pth files of ended trials go; the
newest checkpoint, every log and what summarize, export-best and resume read stay."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from sweeper.cli import main
from sweeper.summarize import summarize
from sweeper.summarize.clean import freed_bytes, human, plan_clean
from sweeper.tune._lock import DriverLock
from tests.summarize.conftest import replace_file, run_cli


def _files(folder: Path) -> dict[str, int]:
    """Every file's size, but the driver lock's (clean holds it: it writes its pid and time)."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")
            if p.is_file() and p.name != ".sweeper.lock"}  # fmt: skip


def _named(folder: Path) -> dict[int, tuple[int, str]]:
    """Per ranked trial: its place and the best checkpoint summarize names."""
    s = summarize(folder)
    return {r.key: (place, str(s.by_number[r.key].checkpoint))
            for place, r in enumerate(s.ranked)}  # fmt: skip


def _best_line(folder: Path, out: Path, capsys) -> str:
    assert main(["export-best", str(folder), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    return next(line for line in lines if line.startswith("best checkpoint:"))


def _advice(trial: Path, capsys, key: str = "checkpoint_step") -> dict[str, object]:
    """What ``sweeper diagnose TRIAL --json`` advises per signal."""
    assert main(["diagnose", str(trial), "--json", "--no-plot"]) == 0
    signals = json.loads(capsys.readouterr().out)["signals"]
    advised = {name: s[key] for name, s in signals.items() if s[key] is not None}
    assert advised
    return advised


def _ids(folder: Path) -> dict[int, Path]:
    """Trial number -> its folder."""
    return {t.number: t.folder for t in plan_clean(folder).trials if t.number is not None}


@pytest.fixture
def full_copy(sweep_dir, tmp_path) -> Path:
    # A real copy (not hard links): deleting a linked file frees nothing.
    skip = shutil.ignore_patterns("summary")
    return Path(shutil.copytree(sweep_dir, tmp_path / "s", ignore=skip))


def test_clean_keeps_the_newest_checkpoint_and_all_that_commands_read(full_copy, capsys):
    folder = full_copy
    before = _files(folder)
    named, best = _named(folder), _best_line(folder, folder.parent / "a.json", capsys)
    assert main(["status", str(folder), "--json"]) == 0
    status = capsys.readouterr().out

    trial = sorted(folder.glob("trial_*"))[0]
    advice = _advice(trial, capsys)

    assert main(["clean", str(folder), "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert _files(folder) == before  # --dry-run deletes nothing

    assert main(["clean", str(folder)]) == 0
    out = capsys.readouterr().out
    after = _files(folder)
    gone = {k: v for k, v in before.items() if k not in after}
    freed = sum(gone.values())
    assert freed > 10_000_000  # 3 trials x 4 older .pth pairs of about 2.9 MB
    assert f"freed {human(freed)} in 3 trial(s); kept each trial's newest checkpoint" in out
    assert f"would free {human(freed)} in 3 trial(s)" in dry
    assert all(k.endswith(".pth") for k in gone)  # logs, events, results, configs stay
    for trial in folder.glob("trial_*"):
        newest = sorted(trial.glob("checkpoint_*"))[-1]
        left = {p.relative_to(trial) for p in trial.rglob("*.pth")}
        assert left and all(p.parts[0] == newest.name for p in left), left
        assert {p.name for p in left} == {"G_30.pth", "D_30.pth"}  # latest and best/
        assert (trial / "run").is_dir() and list((trial / "run").glob("events.out.tfevents.*"))
        assert len(list(trial.glob("checkpoint_*"))) == 2  # folders stay (Ray's state names them)

    assert _named(folder) == named  # same ranking, same checkpoint named
    assert _best_line(folder, folder.parent / "b.json", capsys) == best
    # diagnose advised run/'s G_30.pth "(saved per train.log)", deleted, then an older best/
    # over the latest pair kept: now the same steps as before, in the newest checkpoint
    assert _advice(trial, capsys) == advice
    files = _advice(trial, capsys, "checkpoint_file").values()
    assert all((trial / "run" / str(f)).is_file() for f in files), files
    assert main(["status", str(folder), "--json"]) == 0
    assert capsys.readouterr().out == status

    assert main(["clean", str(folder)]) == 0
    assert "freed 0 B: nothing left to clean (3 ended trial(s)" in capsys.readouterr().out
    assert _files(folder) == after

    done = run_cli("resume", str(folder))  # a finished sweep: nothing to train, nothing lost
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert {k for k in _files(folder) if k.endswith(".pth")} == {
        k for k in after if k.endswith(".pth")
    }
    assert _named(folder) == named


def _unfinish(folder: Path, number: int) -> None:
    """The study loses trial ``number``'s end, as when its driver was killed."""
    journal = folder / "study.journal"
    kept = [
        line for line in journal.read_text().splitlines(keepends=True)
        if not ((op := json.loads(line))["op_code"] == 6 and op.get("trial_id") == number
                and op.get("state") != 0)
    ]  # fmt: skip
    journal.write_text("".join(kept))


def _ray_status(folder: Path, ray_id: str, status: str) -> None:
    state = sorted(folder.glob("experiment_state-*.json"))[-1]
    data = json.loads(state.read_text())
    for entry in data["trial_data"]:
        trial = json.loads(entry[0])
        if trial["trial_id"] == ray_id:
            trial["status"] = status
            entry[0] = json.dumps(trial)
    state.write_text(json.dumps(data))


def test_unfinished_trials_are_untouched(full_copy, capsys):
    folder = full_copy
    trials = _ids(folder)
    _unfinish(folder, 0)
    _ray_status(folder, trials[1].name.removeprefix("trial_"), "ERROR")
    stray = folder / "trial_f00dcafe" / "checkpoint_000000"  # a folder the study lost
    stray.mkdir(parents=True)
    shutil.copy(next(trials[2].glob("checkpoint_*/G_*.pth")), stray / "G_5.pth")
    kept = {n: _files(trials[n]) for n in (0, 1)}
    assert main(["clean", str(folder)]) == 0
    out = capsys.readouterr().out
    assert {n: _files(trials[n]) for n in (0, 1)} == kept
    assert f"#0 {trials[0].name}: untouched, not ended (RUNNING)" in out
    assert f"#1 {trials[1].name}: untouched, Ray lists it as ERROR: a resume would" in out
    assert f"#2 {trials[2].name} COMPLETE: freed " in out
    assert "#? trial_f00dcafe: untouched, not in the study" in out
    assert (stray / "G_5.pth").is_file()
    assert not list((trials[2] / "run").rglob("*.pth"))
    assert "in 1 trial(s)" in out and "3 trial(s) untouched" in out


def test_a_trial_whose_best_g_is_not_intact_in_the_newest_checkpoint_is_untouched(
    full_copy, capsys
):
    folder = full_copy
    trials = _ids(folder)
    newest = {n: sorted(t.glob("checkpoint_*"))[-1] for n, t in trials.items()}
    corrupt = newest[0] / "best" / "G_30.pth"
    corrupt.write_bytes(corrupt.read_bytes()[:100_000])  # a copy cut short
    for path in (newest[1] / "best" / "G_30.pth", newest[1] / "G_30.pth"):
        path.unlink()  # the best G is left only in run/
    kept = {n: _files(trials[n]) for n in (0, 1)}
    assert main(["clean", str(folder), "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert main(["clean", str(folder)]) == 0
    out = capsys.readouterr().out
    assert {n: _files(trials[n]) for n in (0, 1)} == kept
    assert (trials[1] / "run" / "best" / "G_30.pth").is_file()
    assert f"#0 {trials[0].name}: untouched, G_30.pth is corrupt" in out
    only_run = "untouched, its best checkpoint G_30.pth is only in run/best/"
    assert f"#1 {trials[1].name}: {only_run}" in out
    assert "in 1 trial(s)" in out and "in 1 trial(s)" in dry
    assert not list((trials[2] / "run").rglob("*.pth"))


def test_every_kept_file_is_read_whole_before_its_copies_go(full_copy, capsys):
    # A probe: a kept best G zeroed inside (its zip directory and pickle intact) and a kept
    # best D cut short both passed, and clean deleted their intact copies in run/ and the
    # older checkpoint. A damaged Ray run state refused a sweep whose every trial had ended.
    folder = full_copy
    trials = _ids(folder)
    newest = {n: sorted(t.glob("checkpoint_*"))[-1] for n, t in trials.items()}
    zeroed = newest[0] / "best" / "G_30.pth"
    data = bytearray(zeroed.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 65536] = bytes(65536)
    zeroed.write_bytes(bytes(data))
    cut = newest[1] / "best" / "D_30.pth"
    cut.write_bytes(cut.read_bytes()[:1000])
    newer = [trials[2] / "run" / f"{k}_35.pth" for k in "GD"]  # saved after Ray's last one
    for path in newer:
        shutil.copy(trials[2] / "run" / "G_30.pth", path)
    newer.append(trials[2] / "run" / "spk_mix.pth")  # not a checkpoint of ours: it stays
    newer[-1].write_bytes(b"a speaker mix")
    state = sorted(folder.glob("experiment_state-*.json"))[-1]
    state.write_text(state.read_text()[:100])
    kept = {n: _files(trials[n]) for n in (0, 1)}
    assert main(["clean", str(folder)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert {n: _files(trials[n]) for n in (0, 1)} == kept
    assert f"#0 {trials[0].name}: untouched, G_30.pth is corrupt (" in out
    assert f"#1 {trials[1].name}: untouched, D_30.pth is corrupt (" in out
    assert "fix: copy an intact one over it" in out
    assert all(p.is_file() for p in newer) and not (trials[2] / "run" / "G_30.pth").exists()
    assert "freed" in out and "in 1 trial(s)" in out
    _unfinish(folder, 0)  # a trial that has not ended: the lost state matters now
    assert main(["clean", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "cannot be read, and the sweep has trials that have not ended" in err


def test_a_trial_with_no_best_step_keeps_its_newest_checkpoint(full_copy, capsys):
    # A trial that diverged at its first check has no finite value, so no best G; its
    # older checkpoints and run/ are freed all the same (they were kept whole until the review).
    folder = full_copy
    trial = _ids(folder)[2]
    journal = folder / "study.journal"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(
        line for line in lines
        if not ((op := json.loads(line))["op_code"] == 8 and op.get("trial_id") == 2
                and "best" in op.get("user_attr", {}))
    ))  # fmt: skip
    newest = sorted(trial.glob("checkpoint_*"))[-1]
    kept = {p: p.stat().st_size for p in newest.rglob("*.pth")}
    assert main(["clean", str(folder), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"#2 {trial.name} COMPLETE: would free " in out
    assert f"kept {newest.name}/ (no best step)" in out
    saved = {p: p.read_bytes() for p in kept}
    for p in kept:  # a newest checkpoint with no weights: it keeps them where they are
        p.unlink()
    before = _files(trial)
    assert main(["clean", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"#2 {trial.name}: untouched, its newest checkpoint {newest.name}/ holds no" in out
    assert _files(trial) == before
    for p, data in saved.items():
        p.write_bytes(data)
    assert main(["clean", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"#2 {trial.name} COMPLETE: freed " in out
    assert {p: p.stat().st_size for p in trial.rglob("*.pth")} == kept


def test_a_running_driver_or_a_folder_that_is_no_sweep_is_refused(sweep_copy, tmp_path, capsys):
    lock_file = sweep_copy / ".sweeper.lock"
    replace_file(lock_file, lock_file.read_bytes())  # hard-linked: the driver writes in it
    before = _files(sweep_copy)
    lock = DriverLock(sweep_copy, "sweeper run").acquire()
    try:
        for extra in ([], ["--dry-run"]):
            assert main(["clean", str(sweep_copy), *extra]) == 2
            err = capsys.readouterr().err.strip()
            assert "\n" not in err and "is being run by `sweeper run`" in err, err
            assert "fix: run clean after the driver ends" in err
    finally:
        lock.release()
    assert _files(sweep_copy) == before
    assert main(["clean", str(tmp_path)]) == 2
    assert "is not a sweep folder (no sweep.yaml)" in capsys.readouterr().err


def test_a_second_clean_and_files_that_resist_are_named(sweep_copy, tmp_path, capsys):
    lock_file = sweep_copy / ".sweeper.lock"
    replace_file(lock_file, lock_file.read_bytes())  # hard-linked: the lock writes in it
    lock = DriverLock(sweep_copy, "sweeper clean").acquire()
    try:
        assert main(["clean", str(sweep_copy)]) == 2
        err = capsys.readouterr().err
        assert "is being cleaned by another `sweeper clean`" in err and "fix: let it end" in err
    finally:
        lock.release()
    from sweeper.summarize.clean import CleanPlan, TrialClean, report_lines

    files = [tmp_path / "G_5.pth", tmp_path / "G_10.pth"]
    trial = TrialClean(tmp_path, 3, "COMPLETE", kept=tmp_path, files=files, deleted=1)
    trial.failed = [f"{tmp_path / 'G_10.pth'}: Operation not permitted"]
    lines = report_lines(CleanPlan(tmp_path, [trial], dry_run=False))
    assert "(1 .pth file in older checkpoints and run/)" in lines[0]
    assert lines[1] == f"  could not delete {tmp_path / 'G_10.pth'}: Operation not permitted"
    assert lines[-1].startswith("1 file could not be deleted (above: why); fix: make them")
    # A read-only folder: every file resists. It said "nothing left to clean" (a review).
    trial.deleted, trial.failed = 0, [f"{f}: Permission denied" for f in files]
    lines = report_lines(CleanPlan(tmp_path, [trial], dry_run=False))
    assert sum("could not delete" in line for line in lines) == 2
    assert "freed 0 B: no file could be deleted" in lines and "nothing left" not in str(lines)
    assert lines[-1].startswith("2 files could not be deleted (above: why)")


def test_freed_bytes_count_a_file_once_its_last_link_goes(tmp_path):
    one, two, solo = tmp_path / "G_5.pth", tmp_path / "best_G_5.pth", tmp_path / "D_5.pth"
    one.write_bytes(b"x" * 1000)
    os.link(one, two)
    solo.write_bytes(b"y" * 10)
    assert freed_bytes([one.stat(), solo.stat()]) == 10  # best_G_5 still holds it
    assert freed_bytes([one.stat(), two.stat(), solo.stat()]) == 1010
    assert [human(n) for n in (0, 999, 26_000_000, 1_300_000_000)] == [
        "0 B", "999 B", "26.0 MB", "1.3 GB"
    ]
    # Deleting: each file is stat'ed before any goes. Stat'ed one by one as they went, two
    # deleted links of a file a third keeps read as freed (the last stat's count had dropped).
    from sweeper.summarize.clean import TrialClean, _delete

    keep = tmp_path / "kept_G_5.pth"
    os.link(one, keep)
    trial = TrialClean(tmp_path, 0, "COMPLETE", files=[one, two, solo])
    _delete(trial)
    assert (trial.freed, trial.deleted, trial.failed) == (10, 3, [])
    assert keep.read_bytes() == b"x" * 1000


def test_a_garbled_zip_is_named_corrupt_not_an_internal_error(tmp_path):
    # A review: a compression method garbled in the zip's directory raised
    # NotImplementedError through summarize's and clean's checks ("internal error").
    import torch

    from sweeper.summarize.clean import _damage
    from sweeper.summarize.collect import checkpoint_problem

    path = tmp_path / "G_5.pth"
    torch.save({"w": torch.zeros(1000)}, path)
    assert checkpoint_problem(path) is None and _damage(path) is None
    data = bytearray(path.read_bytes())
    for at in range(len(data) - 4):
        if data[at : at + 4] == b"PK\x01\x02":  # each central directory entry
            data[at + 10 : at + 12] = (99).to_bytes(2, "little")  # compression method
    path.write_bytes(bytes(data))
    for problem in (checkpoint_problem(path), _damage(path)):
        assert problem is not None and problem.startswith("G_5.pth is corrupt (")
