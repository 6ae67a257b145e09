"""A sweep whose storage is an S3 bucket: a real S3 API server (moto's, from PyPI, on
loopback; no cloud is reachable here), real Ray Tune writing through pyarrow, real training."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sweep_tools import wait_for, write_sweep

from sweeper.cli import main

KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def bucket(monkeypatch):
    """``s3://sweeps/runs?...`` on a moto server, stopped at teardown."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no moto server"
                time.sleep(0.2)
        for key, value in KEYS.items():
            monkeypatch.setenv(key, value)
        query = f"endpoint_override=127.0.0.1:{port}&scheme=http&region=us-east-1"
        import pyarrow.fs

        fs, _ = pyarrow.fs.FileSystem.from_uri(f"s3://sweeps?{query}&allow_bucket_creation=true")
        fs.create_dir("sweeps")
        yield f"s3://sweeps/runs?{query}", fs
    finally:
        server.kill()
        server.wait(timeout=30)


def test_a_bucket_without_a_study_database_is_one_line(tmp_path, bucket, capsys):
    uri, _ = bucket
    space = write_sweep(tmp_path)  # storage: null would put the journal in the bucket
    assert main(["run", str(space), "--storage", uri]) == 2
    err = capsys.readouterr().err.strip()
    assert "the study journal cannot live" in err and len(err.splitlines()) == 1
    assert main(["status", uri.replace("/runs?", "/runs/none?")]) == 2  # no sweep there
    assert "is not a sweep folder" in capsys.readouterr().err


def test_a_driver_killed_mid_sweep_resumes_from_the_bucket_and_is_summarized_from_it(
    tmp_path, procs, bucket
):
    import optuna
    import pyarrow.fs
    import sqlalchemy.exc

    uri, fs = bucket
    db = f"sqlite:///{tmp_path / 'study.db'}"
    budget = {"max_steps": 20, "num_trials": 3, "concurrency": 1}
    params = {
        "train.learning_rate": {"type": "categorical", "choices": [2.0e-3, 3.0e-3, 4.0e-3]},
        "train.use_gan": {"type": "fixed", "value": False},
        "train.eval_interval": {"type": "fixed", "value": 5},
        "train.log_interval": {"type": "fixed", "value": 5},
    }
    space = write_sweep(tmp_path, storage=db, budget=budget, parameters=params)
    # --name other than the file's name: readers must find the study by the folder's name
    driver = procs.start(
        "run", str(space), "--storage", uri, "--name", "tb", cwd=tmp_path, log=tmp_path / "r.log"
    )

    def finished():
        try:
            trials = optuna.load_study(study_name="tb", storage=db).get_trials(deepcopy=False)
        except (KeyError, sqlalchemy.exc.OperationalError):  # not created yet, or locked
            return None
        done = [t for t in trials if t.state.is_finished()]
        running = [t for t in trials if t.state.name == "RUNNING" and t.intermediate_values]
        return done if len(done) == 1 and running else None

    first = wait_for(finished, 400, "one finished trial, the next running", driver)[0]
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(timeout=60)
    sweep = uri.replace("/runs?", "/runs/tb?")
    text = procs.run("resume", sweep, cwd=tmp_path, log=tmp_path / "resume.log")
    assert "trials: 3 (3 budget)" in text, text[-2000:]
    assert "next: `sweeper summarize" in text and "sweeper clean" not in text  # (it refuses)
    trials = optuna.load_study(study_name="tb", storage=db).get_trials()
    assert sorted(t.user_attrs["config"]["train.learning_rate"] for t in trials) == [
        2.0e-3,
        3.0e-3,
        4.0e-3,
    ]
    again = trials[first.number]  # finished before the kill: neither lost nor run again
    assert again.intermediate_values == first.intermediate_values and again.value == first.value

    # Everything lives in the bucket: the sweep file, each trial's checkpoints with best/.
    listing = fs.get_file_info(pyarrow.fs.FileSelector("sweeps/runs/tb", recursive=True))
    names = [i.path for i in listing]
    assert "sweeps/runs/tb/sweep.yaml" in names
    folders = {p.split("/")[3] for p in names if p.split("/")[3:4] and "trial_" in p}
    assert len(folders) == 3
    for folder in folders:  # each trial's last checkpoint holds its run folder with best/
        ckpts = [p for p in names if p.startswith(f"sweeps/runs/tb/{folder}/checkpoint_")]
        assert any("/best/G_" in p for p in ckpts), (folder, names)
    # Trials ran in node scratch (the bucket holds their checkpoints): none is left there.
    scratch = Path(tempfile.gettempdir()) / f"sweeper-runs-{os.getuid()}" / "tb"
    left = [f for f in folders if (scratch / f).exists()]
    assert not left, [str(p) for f in left for p in (scratch / f).rglob("*")]
    status = procs.run("status", sweep, cwd=tmp_path, log=tmp_path / "status.log")
    assert "budget" in status and all(f"#{n}" in status for n in range(3)), status
    summary = procs.run(
        "summarize", sweep, "--out", str(tmp_path / "summary"), cwd=tmp_path,
        log=tmp_path / "summary.log",
    )  # fmt: skip
    assert "3 ranked" in summary, summary[-2000:]
    assert (tmp_path / "summary" / "report.html").is_file()
