"""``sweeper dashboard``: a read-only view of the live study; bad --port/--host are one line."""

from __future__ import annotations

import json
import re
import selectors
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import optuna
import pytest
from optuna.storages import BaseStorage
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState

from tests.summarize.conftest import cli, replace_file, run_cli

JOURNAL = "study.journal"


def _journal_study(path: Path) -> JournalStorage:
    """A journal with one finished and one running trial (what a live sweep has)."""
    storage = JournalStorage(JournalFileBackend(str(path)))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="s", storage=storage)
    done = study.ask()
    done.suggest_float("lr", 1e-4, 1e-2, log=True)
    done.report(0.5, 10)
    study.tell(done, 0.4)
    running = study.ask()
    running.suggest_float("lr", 1e-4, 1e-2, log=True)
    study.set_user_attr("sweeper:folder", "x")
    return storage


def test_the_read_only_storage_reads_through_and_refuses_every_write(tmp_path):
    from sweeper.summarize.readonly import ReadOnlyStorage, ReadOnlyStorageError, storage_methods

    path = tmp_path / JOURNAL
    real = _journal_study(path)
    before = path.read_bytes()
    view = ReadOnlyStorage(real)
    sid = view.get_study_id_from_name("s")
    done, running = view.get_all_trials(sid)
    assert view.get_study_name_from_id(sid) == "s"
    assert [t.state for t in (done, running)] == [TrialState.COMPLETE, TrialState.RUNNING]
    assert view.get_best_trial(sid).number == 0 and view.get_n_trials(sid) == 2
    assert view.get_trial(running._trial_id).params == running.params
    assert view.get_study_user_attrs(sid) == {"sweeper:folder": "x"}
    assert [s.study_name for s in view.get_all_studies()] == ["s"]
    view.check_trial_is_updatable(running._trial_id, TrialState.RUNNING)

    # every BaseStorage method is either read through or refused, the abstract ones included
    refused = [n for n in storage_methods() if not n.startswith(("get_", "check_"))]
    assert set(BaseStorage.__abstractmethods__) <= set(storage_methods())
    assert {"create_new_study", "delete_study", "create_new_trial", "set_trial_state_values",
            "set_study_system_attr", "set_trial_user_attr"} <= set(refused)  # fmt: skip
    for name in refused:
        if name == "remove_session":
            continue
        with pytest.raises(ReadOnlyStorageError, match="read-only"):
            getattr(view, name)(sid, running._trial_id, "x", "y")
    with pytest.raises(ReadOnlyStorageError):
        view.set_trial_state_values(running._trial_id, TrialState.FAIL, None)
    with pytest.raises(ReadOnlyStorageError):
        view.delete_study(sid)
    with pytest.raises(AttributeError):  # the journal's backend is not reachable through it
        view._backend  # noqa: B018
    assert path.read_bytes() == before
    fresh = JournalStorage(JournalFileBackend(str(path)))
    assert fresh.get_trial(running._trial_id).state == TrialState.RUNNING


def _start(*args: str) -> tuple[subprocess.Popen, str, str]:
    """A dashboard process, the first line it printed, and the base URL in it."""
    # Ctrl-C as a terminal delivers it: a background job (CI under nohup, `cmd &`) starts
    # with SIGINT ignored, which the dashboard rightly keeps, and the test's SIGINT was lost.
    interruptible = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(cli("dashboard", *args), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=interruptible)  # fmt: skip
    deadline = time.monotonic() + 60
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=30)
                pytest.fail(f"dashboard printed no URL in 60 s: {line.decode()}")
            if not sel.select(timeout=1):
                continue
            chunk = proc.stdout.read1(1)
            if not chunk:  # it exited
                proc.wait(timeout=30)
                pytest.fail(f"dashboard exited rc={proc.returncode}: {line.decode()}")
            line += chunk
    match = re.search(r"(http://\S+?)/dashboard/ ", line.decode())
    if match is None:
        proc.kill()
        proc.wait(timeout=30)
        pytest.fail(f"no URL in {line.decode()!r}")
    return proc, line.decode(), match.group(1)


def _call(method: str, url: str, body: dict | None = None) -> tuple[int, bytes]:
    # optuna-dashboard 0.21 answers 500 to a request without Accept-Encoding
    req = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Accept-Encoding": "identity", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_dashboard_shows_the_live_study_and_refuses_writes(sweep_copy):
    journal = sweep_copy / JOURNAL
    replace_file(journal, journal.read_bytes())  # its own file, not the shared sweep's link
    before = journal.read_bytes()
    proc, line, base = _start(str(sweep_copy), "--port", "0")
    try:
        assert "read-only" in line, line
        port = int(base.rsplit(":", 1)[1])  # the port it got, not 0
        assert base == f"http://127.0.0.1:{port}" and port > 0, line

        status, body = _call("GET", f"{base}/api/studies")
        assert status == 200 and [s["study_name"] for s in json.loads(body)["study_summaries"]] \
            == ["s"]  # fmt: skip
        sid = json.loads(body)["study_summaries"][0]["study_id"]
        status, body = _call("GET", f"{base}/api/studies/{sid}")
        assert status == 200, body
        detail = json.loads(body)
        trial_id = detail["trials"][0]["trial_id"]
        assert len(detail["trials"]) == 3
        assert _call("GET", f"{base}/api/studies/{sid}/param_importances")[0] == 200
        assert _call("GET", f"{base}/csv/{sid}")[0] == 200
        assert _call("GET", f"{base}/dashboard/")[0] == 200

        writes = [
            ("DELETE", f"/api/studies/{sid}", {}),  # the UI's "Delete study"
            ("POST", f"/api/trials/{trial_id}/tell", {"state": "Fail"}),  # a trial's state
            ("POST", f"/api/studies/{sid}/rename", {"study_name": "t"}),
            ("PUT", f"/api/studies/{sid}/note", {"version": 1, "body": "hi"}),
            ("POST", f"/api/trials/{trial_id}/user-attrs", {"user_attrs": {"k": 1}}),
            ("POST", "/api/studies", {"study_name": "new", "directions": ["minimize"]}),
        ]
        for method, path, body in writes:
            status, text = _call(method, base + path, body)
            assert status == 403 and b"read-only" in text, (method, path, status, text)
        assert journal.read_bytes() == before

        status, body = _call("GET", f"{base}/api/studies")  # still serving, study still there
        assert status == 200 and len(json.loads(body)["study_summaries"]) == 1
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a normal stop
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert journal.read_bytes() == before
    done = run_cli("status", str(sweep_copy), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "trials: 3" in done.stdout, done.stdout


@pytest.fixture(scope="module")
def busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "70000"], ["--port 70000", "1 to 65535"]),
        (["--port", "-1"], ["--port -1", "1 to 65535"]),
        (["--port", "BUSY"], ["--port BUSY is already in use", "another --port"]),
        (["--host", "no-such-host.invalid"], ["'no-such-host.invalid'", "--host 127.0.0.1"]),
        (["--host", "192.0.2.1"], ["'192.0.2.1'", "not an address of this machine"]),
    ],
)
def test_a_bad_port_or_host_is_one_line_before_any_url(sweep_dir, busy_port, args, words):
    args = [str(busy_port) if a == "BUSY" else a for a in args]
    words = [w.replace("BUSY", str(busy_port)) for w in words]
    done = run_cli("dashboard", str(sweep_dir), *args, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(lines) == 1 and lines[0].startswith("sweeper dashboard: error: "), done.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert done.stdout == "" and "Listening" not in done.stderr
