"""``sweeper diagnose`` end to end: real logs, plot placement, and one-line errors."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sweeper import cli

REAL_LOGS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sovits-logs"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LINE = "2023-02-18 17:28:03,219\t44k\tINFO\t[2.5, 2.2, 9.0, {mel!r}, 1.5, {step}, 0.0001]\n"


@pytest.fixture
def sweeper(monkeypatch, capsys):
    """Run ``sweeper diagnose ...`` in process; return (exit code, stdout, stderr)."""
    # Only this command: the test must not depend on the other commands' modules.
    monkeypatch.setattr(cli, "COMMANDS", {"diagnose": "sweeper.cli._diagnose"})

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["diagnose", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def real_log(name: str) -> Path:
    path = (REAL_LOGS / name).resolve()
    if not path.is_file():
        pytest.skip(f"real so-vits-svc log {name} not found under {REAL_LOGS} (outside the repo)")
    return path


def write_log(folder: Path, n: int = 40) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(LINE.format(mel=20.0 + 400.0 / (s + 20), step=s) for s in range(0, n * 20, 20))
    (folder / "train.log").write_text(text)
    return folder / "train.log"


@pytest.mark.parametrize(
    ("name", "last_step"),
    [("SKwths+so-vits-svc-dodo.train.log", 20000), ("AustingDong+CatGPT.train.log", 4640)],
)
def test_real_logs_give_json_and_a_png(sweeper, tmp_path, name, last_step):
    out_png = tmp_path / "plot.png"
    code, out, err = sweeper(str(real_log(name)), "--json", "--plot", str(out_png))
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"source", "overall", "signals", "health", "notes", "plot"}
    assert set(data["signals"]) == {"loss/g/mel", "loss/g/total", "loss/g/kl"}
    assert set(data["health"]) == {"loss/d/total", "loss/g/gen", "loss/g/fm"}
    for signal in data["signals"].values():
        assert signal["verdict"] in {"converged", "continue", "overfitting", "diverged"}
        assert signal["stop_step"] is None or isinstance(signal["stop_step"], int)
        assert isinstance(signal["best_step"], int)
        assert signal["last_step"] == last_step
    assert out_png.read_bytes().startswith(PNG_MAGIC)
    assert data["plot"] == str(out_png)


def test_real_log_text_report_names_restarts_and_checkpoints(sweeper, tmp_path):
    code, out, _ = sweeper(str(real_log("SKwths+so-vits-svc-dodo.train.log")), "--plot",
                           str(tmp_path / "p.png"))  # fmt: skip
    assert code == 0
    assert out.startswith("Run: ")
    assert "loss/g/mel (training mel, x c_mel): " in out
    assert "6 restart(s)" in out
    assert "(saved per train.log)" in out
    assert "overfitting: cannot be judged" in out
    assert f"Plot: {tmp_path / 'p.png'}" in out


def test_default_plot_goes_beside_the_log(sweeper, tmp_path):
    log = write_log(tmp_path / "44k")
    code, out, _ = sweeper(str(log))
    assert code == 0
    assert (tmp_path / "44k" / "sweeper-diagnose.png").read_bytes().startswith(PNG_MAGIC)
    assert "not writable" not in out


@pytest.mark.skipif(not hasattr(os, "chmod") or sys.platform == "win32", reason="POSIX modes")
def test_read_only_run_folder_sends_the_plot_to_the_current_directory(
    sweeper, tmp_path, monkeypatch
):
    log = write_log(tmp_path / "ro")
    other = tmp_path / "ro" / "b.train.log"
    other.write_bytes(log.read_bytes())
    (tmp_path / "ro").chmod(0o555)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    try:
        code, out, _ = sweeper(str(log))
        code_b, out_b, _ = sweeper(str(other))
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert code == code_b == 0
    # named after the run's folder and log: two logs in one read-only folder keep two plots
    # (both were sweeper-diagnose-ro.png, the second replacing the first)
    assert f"Plot: {work / 'sweeper-diagnose-ro-train.png'} (" in out
    assert f"Plot: {work / 'sweeper-diagnose-ro-b.train.png'} (" in out_b
    assert sorted(p.name for p in work.iterdir()) == [
        "sweeper-diagnose-ro-b.train.png", "sweeper-diagnose-ro-train.png"
    ]
    assert not (tmp_path / "ro" / "sweeper-diagnose.png").exists()
    assert "is not writable, so the plot went to the current directory" in out


def test_help_names_the_default_plots(tmp_path):
    from sweeper.cli._diagnose import configure, fallback_name

    parser = argparse.ArgumentParser()
    configure(parser)
    text = next(action.help for action in parser._actions if action.dest == "plot")
    assert "sweeper-diagnose.png in the run's folder" in text
    assert "sweeper-diagnose-FOLDER-LOG.png in the current directory" in text
    assert "sweeper-diagnose-FOLDER.png for a folder" in text
    (tmp_path / "44k").mkdir()
    assert fallback_name(tmp_path / "44k") == "44k"
    events = tmp_path / "44k" / "events.out.tfevents.1.h"
    assert fallback_name(events) == "44k-events.out.tfevents.1.h"


def test_signal_option_restricts_and_no_plot_writes_nothing(sweeper, tmp_path):
    log = write_log(tmp_path)
    code, out, _ = sweeper(str(log), "--json", "--no-plot", "--signal", "loss/g/kl")
    assert code == 0
    data = json.loads(out)
    assert list(data["signals"]) == ["loss/g/kl"] and data["plot"] is None
    assert not (tmp_path / "sweeper-diagnose.png").exists()


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    empty = tmp_path / "empty.log"
    empty.write_text("")
    garbage = tmp_path / "garbage.log"
    garbage.write_text("not a log\n\x00\x01\n")
    truncated = tmp_path / "events.out.tfevents.1.host"
    truncated.write_bytes(b"\x10\x00\x00")
    log = write_log(tmp_path / "ok")
    (tmp_path / "nothing").mkdir()
    import torch

    torch.save({"model": {}, "iteration": 10000}, tmp_path / "G_10000.pth")
    return {
        # Until 2026-12-07: "is a zip archive ... decompress it first (unzip ...)".
        "checkpoint": ([str(tmp_path / "G_10000.pth")], "is a PyTorch checkpoint (model weights)"),
        "missing": ([str(tmp_path / "nope")], "no such file or folder"),
        "empty": ([str(empty)], "is empty"),
        "garbage": ([str(garbage)], "no loss lines found in"),
        "truncated": ([str(truncated)], "is not a TensorBoard events file"),
        "folder": ([str(tmp_path / "nothing")], "holds neither a train.log"),
        "signal": ([str(log), "--signal", "val/mel"], "holds learning_rate, loss/d/total"),
        "budget": ([str(log), "--budget", "-5"], "positive number of steps, got -5"),
        "plot": ([str(log), "--plot", str(tmp_path / "no" / "dir" / "p.png")], "does not exist"),
        "plot-format": ([str(log), "--plot", str(tmp_path / "p.svg")], "ending in .png"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "garbage",
        "truncated",
        "folder",
        "signal",
        "budget",
        "plot",
        "plot-format",
        "checkpoint",
    ],
)
def test_bad_input_exits_2_with_one_line(sweeper, tmp_path, case):
    argv, expected = _bad_inputs(tmp_path)[case]
    code, out, err = sweeper(*argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("sweeper diagnose: error: ")
    assert expected in err


def test_installed_entry_point_prints_no_traceback(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-m", "sweeper.cli", "diagnose", str(tmp_path / "nope.log")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("sweeper diagnose: error: no such file or folder")


def test_a_folder_that_cannot_be_entered_exits_2_with_one_line(sweeper, tmp_path, monkeypatch):
    # Run as root, the tests cannot chmod a folder shut: emulate Python 3.11's is_dir raising
    # PermissionError for a path under a folder we may not enter.
    write_log(tmp_path / "44k")
    original = Path.is_dir

    def is_dir(self):
        if self == tmp_path / "44k":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "is_dir", is_dir)
    code, out, err = sweeper(str(tmp_path / "44k"), "--no-plot")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(f"sweeper diagnose: error: cannot read {tmp_path / '44k'}: Permission")


def _failing_plot(*args, **kwargs):
    raise PermissionError(13, "Permission denied", "sweeper-diagnose.png")


@pytest.mark.parametrize("as_json", [False, True])
def test_a_default_plot_that_cannot_be_written_is_a_warning_after_the_report(
    sweeper, tmp_path, monkeypatch, as_json
):
    log = write_log(tmp_path / "44k")
    # Root may write anywhere, so the failing write is emulated, as savefig would raise it.
    monkeypatch.setattr("sweeper.diagnose.plot", _failing_plot)
    code, out, err = sweeper(str(log), *(["--json"] if as_json else []))
    assert code == 0
    if as_json:
        assert json.loads(out)["plot"] is None
    else:
        assert out.startswith("Run: ") and "Overall: " in out and "Plot:" not in out
    assert err.count("\n") == 1
    assert err.startswith("sweeper diagnose: warning: cannot write the plot to ")
    assert "Permission denied" in err


def test_an_asked_for_plot_that_cannot_be_written_still_fails_after_the_report(
    sweeper, tmp_path, monkeypatch
):
    log = write_log(tmp_path / "44k")
    monkeypatch.setattr("sweeper.diagnose.plot", _failing_plot)
    code, out, err = sweeper(str(log), "--plot", str(tmp_path / "p.png"))
    assert code == 2
    assert out.startswith("Run: ")  # the report was printed before the plot was drawn
    assert err.startswith("sweeper diagnose: error: cannot write the plot to ")


def test_no_writable_place_for_the_default_plot_warns_and_reports(sweeper, tmp_path, monkeypatch):
    from sweeper.cli import _diagnose

    log = write_log(tmp_path / "44k")
    monkeypatch.setattr(_diagnose, "writable", lambda folder: False)  # root writes anywhere
    monkeypatch.chdir(tmp_path)
    code, out, err = sweeper(str(log), "--json")
    assert code == 0
    assert json.loads(out)["plot"] is None
    assert "neither the run's folder nor the current directory is writable" in err
    assert err.count("\n") == 1
    assert not list(tmp_path.rglob("*.png"))


@pytest.mark.parametrize("encoding", ["cp1252", "gbk"])
def test_a_report_to_a_legacy_code_page_is_printed(tmp_path, encoding):
    """Windows writes `sweeper diagnose ... > report.txt` in its code page. A log line that
    is not UTF-8 (a GBK console's traceback path) is quoted with U+FFFD, which neither code
    page holds: until 2026-12-07 an "internal error: UnicodeEncodeError" (a probe)."""
    log = write_log(tmp_path / "run")
    with log.open("ab") as f:
        f.write('  File "D:\\张三\\so-vits-svc\\train.py", line 1\n'.encode("gbk"))
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    done = subprocess.run(
        [sys.executable, "-m", "sweeper", "diagnose", str(log), "--no-plot"],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(encoding, "replace")
    out = done.stdout.decode(encoding)
    assert "loss/g/mel (training mel" in out and "?" in out  # the U+FFFD, written as ?
