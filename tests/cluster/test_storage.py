"""sweeper.tune.storage: where the study and Ray Tune's results live, and its one-line errors."""

from __future__ import annotations

import importlib.util
import socket

import optuna
import pytest

from sweeper.errors import InputError
from sweeper.tune.storage import check_storage_path, open_study_storage


def _one_line_error(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as err:
        fn(*args, **kwargs)
    text = str(err.value)
    assert "\n" not in text and "fix:" in text, text
    return text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_journal_path_creates_its_folder_and_is_shared_by_two_openers(tmp_path):
    path = tmp_path / "deep" / "er" / "study.journal"
    first = open_study_storage(str(path))
    study = optuna.create_study(study_name="s", storage=first)
    study.ask().report(1.0, 0)
    # A second opener (another process or node on the same file) sees the report.
    again = optuna.load_study(study_name="s", storage=open_study_storage(str(path)))
    assert again.trials[0].intermediate_values == {0: 1.0}
    assert path.is_file()


def test_journal_errors_name_the_path_and_the_fix(tmp_path):
    text = _one_line_error(open_study_storage, str(tmp_path))
    assert repr(str(tmp_path)) in text and "study.journal" in text
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    text = _one_line_error(open_study_storage, str(blocker / "study.journal"))
    assert "not a writable folder" in text and str(blocker) in text
    text = _one_line_error(open_study_storage, str(tmp_path / "j"), heartbeat_s=60)
    assert "has no heartbeat" in text


def test_sqlite_url_works_and_checks_its_folder(tmp_path):
    storage = open_study_storage(f"sqlite:///{tmp_path}/sub/study.db")
    optuna.create_study(study_name="s", storage=storage).ask()
    assert (tmp_path / "sub" / "study.db").is_file()
    blocker = tmp_path / "f"
    blocker.write_text("x")
    text = _one_line_error(open_study_storage, f"sqlite:///{blocker}/study.db")
    assert "not a writable folder" in text and str(blocker) in text


@pytest.mark.parametrize(
    ("url", "module", "pip_name"),
    [
        ("postgresql://u:pw@db:5432/optuna", "psycopg", "psycopg[binary]"),
        ("postgresql+psycopg2://u:pw@db/optuna", "psycopg2", "psycopg2-binary"),
        ("mysql+pymysql://u:pw@db/optuna", "pymysql", "pymysql"),
    ],
)
def test_missing_driver_names_the_package(monkeypatch, url, module, pip_name):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a)
    )
    text = _one_line_error(open_study_storage, url)
    assert f"pip install '{pip_name}'" in text
    assert ("sovits-sweeper[cluster]" in text) == (module == "psycopg")  # what the extra has
    assert "pw" not in text.replace("pip", "")  # the password is masked


def test_unreachable_server_names_host_port_and_check():
    port = _free_port()
    text = _one_line_error(open_study_storage, f"postgresql://u:secret@127.0.0.1:{port}/db")
    assert f"127.0.0.1:{port}" in text and f"pg_isready -h 127.0.0.1 -p {port}" in text
    assert "secret" not in text


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("redis://localhost", "unknown study storage scheme 'redis'"),
        ("postgresql+nodriver://db/x", "not one SQLAlchemy knows"),
        ("", "journal path or a database URL"),
    ],
)
def test_other_bad_specs(spec, expected):
    assert expected in _one_line_error(open_study_storage, spec)


def test_heartbeat_must_be_positive_seconds():
    text = _one_line_error(open_study_storage, "sqlite:///:memory:", heartbeat_s=0)
    assert "heartbeat_s" in text


def test_storage_path_local_folder_is_created_and_normalised(tmp_path):
    target = tmp_path / "a" / "b"
    assert check_storage_path(str(target)) == str(target)
    assert target.is_dir()
    assert check_storage_path(f"file://{target}") == str(target)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("relative/sweeps", "is relative"),
        ("hdfs://namenode/sweeps", "scheme 'hdfs'"),
        ("s3://bucket/sweeps?no_such_option=1", "pyarrow cannot open"),
    ],
)
def test_storage_path_errors(path, expected):
    text = _one_line_error(check_storage_path, path)
    assert expected in text and path in text


def test_storage_path_file_and_unwritable(tmp_path):
    (tmp_path / "f").write_text("x")
    assert "is a file" in _one_line_error(check_storage_path, str(tmp_path / "f"))
    text = _one_line_error(check_storage_path, str(tmp_path / "f" / "sub"))
    assert "not a writable folder" in text


def test_object_store_uris_that_pyarrow_resolves_pass_unchanged():
    # With a region given, pyarrow resolves s3:// without a network call (gs:// never needs one).
    for uri in ("s3://bucket/sweeps?region=us-east-1", "gs://bucket/sweeps"):
        assert check_storage_path(uri) == uri
