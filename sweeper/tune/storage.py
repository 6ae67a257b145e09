"""Where a sweep's shared state lives: the Optuna study, and Ray Tune's ``storage_path``.

Both must be reachable from every node of a cluster, and both fail late and obscurely when
they are not (a SQLAlchemy traceback from inside the driver loop, or Ray's "not accessible by
worker nodes" after the cluster is up). These checks run first and fail in one line that
names the value and the fix.

    >>> storage = open_study_storage("/shared/sweeps/study.journal")   # one host, or NFS
    >>> storage = open_study_storage("postgresql://sweeper@db:5432/optuna")   # many nodes
    >>> check_storage_path("/shared/sweeps")                           # -> "/shared/sweeps"
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage

from sweeper.errors import InputError

# Database drivers SQLAlchemy picks for a URL (postgresql:// means psycopg 3 since
# SQLAlchemy 2.1): the module it imports, and the pip name that provides it.
_DRIVERS = {
    "psycopg": ("psycopg", "psycopg[binary]"),
    "psycopg2": ("psycopg2", "psycopg2-binary"),
    "mysqldb": ("MySQLdb", "mysqlclient"),
    "pymysql": ("pymysql", "pymysql"),
}
_SERVERS = ("postgresql", "mysql")  # dialects, each with any +driver SQLAlchemy knows
STUDY_SCHEMES = ("sqlite", *_SERVERS)

# Seconds a worker waits for the database before it gives up: long enough for a busy server,
# short enough that a wrong host fails the sweep at start instead of hanging it.
CONNECT_TIMEOUT_S = 10
# Heartbeats (RDB storages only) fail a RUNNING trial whose process stopped beating for
# GRACE_FACTOR x heartbeat_s: the way to free trials of workers that died *inside*
# Study.optimize. They are off by default: the sweep drives trials by ask/tell from the Ray
# driver, where Ray reports a dead worker itself, Optuna warns "Heartbeat ... supposed to be
# used with Study.optimize" on every ask, and each ask pays an extra stale-trial query.
GRACE_FACTOR = 3
# Ray Tune's storage_path: local folders (shared file systems mounted at the same path on
# every node) or the object stores pyarrow resolves.
TUNE_SCHEMES = ("s3", "gs")


def open_study_storage(spec: str, *, heartbeat_s: int | None = None) -> BaseStorage:
    """The Optuna storage named by ``spec``: a journal file path or a database URL.

    * ``/path/study.journal``: a journal file (folders created). Every process on one host,
      or every node that mounts the same NFS/EFS/Filestore path, may share it.
    * ``sqlite:///path/study.db``: one host only; slow under concurrent writers.
    * ``postgresql://user:pw@host:5432/db`` (or ``postgresql+psycopg2://``,
      ``postgresql+psycopg://``, ``mysql://``, ``mysql+pymysql://``): many nodes.

    ``heartbeat_s`` (RDB URLs only) turns on Optuna's heartbeat for workers that call
    ``Study.optimize``: a trial whose process died is failed after ``3 * heartbeat_s``.

    Raises:
        InputError: the driver package is missing, the server cannot be reached, the
            journal's folder is not writable, or the scheme is unknown.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(
            f"study storage must be a journal path or a database URL, got {spec!r}; "
            "fix: e.g. /shared/sweeps/study.journal or postgresql://user@host/db"
        )
    if "://" not in spec:
        if heartbeat_s is not None:
            raise InputError(
                f"study journal {spec!r} has no heartbeat; fix: drop heartbeat_s, or use a "
                "database URL (postgresql://...) for workers that run Study.optimize"
            )
        return _journal(spec)
    scheme = spec.split("://", 1)[0].lower()
    if heartbeat_s is not None and (type(heartbeat_s) is not int or heartbeat_s <= 0):
        raise InputError(
            f"heartbeat_s must be whole seconds > 0, got {heartbeat_s!r}; fix: e.g. 60"
        )
    if scheme == "sqlite":
        return _sqlite(spec, heartbeat_s)
    if scheme.split("+", 1)[0] in _SERVERS:
        return _rdb(spec, _server_engine_kwargs(spec), heartbeat_s)
    raise InputError(
        f"unknown study storage scheme {scheme!r} in {_redacted(spec)!r}; fix: use a journal "
        f"file path or one of {', '.join(s + '://' for s in STUDY_SCHEMES)}"
    )


def _journal(spec: str) -> BaseStorage:
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    path = Path(spec).expanduser()
    if path.is_dir():
        raise InputError(
            f"study journal {spec!r} is a folder; fix: name a file in it, "
            f"e.g. {str(path / 'study.journal')!r}"
        )
    _writable_folder(path.parent, f"the folder of study journal {spec!r}")
    return JournalStorage(JournalFileBackend(str(path)))


def _sqlite(spec: str, heartbeat_s: int | None) -> BaseStorage:
    # sqlite:///relative.db and sqlite:////absolute.db; ":memory:" has no folder to check.
    file = spec.split(":///", 1)[1] if ":///" in spec else ""
    if file and file != ":memory:":
        _writable_folder(Path(file).expanduser().parent, f"the folder of {spec!r}")
    # SQLite locks the whole file per write: wait for it rather than fail "database is locked".
    return _rdb(spec, {"connect_args": {"timeout": 30}}, heartbeat_s)


def _server_engine_kwargs(spec: str) -> dict[str, Any]:
    """SQLAlchemy's engine arguments for a database URL, once its form and driver are known
    good (InputError otherwise); nothing is connected."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        driver = make_url(spec).get_dialect().driver
    except (ArgumentError, ValueError) as err:  # NoSuchModuleError is an ArgumentError
        raise InputError(
            f"study storage URL {_redacted(spec)!r} is not one SQLAlchemy knows "
            f"({_first_line(err)}); fix: write it as postgresql://user:password@host:port/db"
        ) from err
    module, pip_name = _DRIVERS.get(driver, (driver, driver))
    if importlib.util.find_spec(module) is None:
        extra = " (or pip install 'sovits-sweeper[cluster]')" if driver == "psycopg" else ""
        raise InputError(
            f"study storage {_redacted(spec)!r} needs the {module} driver; fix: "
            f"pip install '{pip_name}'{extra}"
        )
    connect: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
    # pool_pre_ping: a sweep outlives idle connections the server or a NAT drops.
    return {"pool_pre_ping": True, "connect_args": connect}


def reach_server(spec: str) -> None:
    """Connect once to the server of a database URL and disconnect, writing nothing (Optuna's
    RDBStorage creates its tables on open): what `sweeper check` tells of a study storage
    that `sweeper run` would open. Raises InputError as :func:`open_study_storage` does."""
    import sqlalchemy

    kwargs = _server_engine_kwargs(spec)
    with _reaching(spec):
        engine = sqlalchemy.create_engine(spec, **kwargs)
        try:
            engine.connect().close()
        finally:
            engine.dispose()


@contextlib.contextmanager
def _reaching(url: str) -> Iterator[None]:
    """SQLAlchemy's errors on connecting to ``url`` as one-line InputErrors."""
    import sqlalchemy.exc

    try:
        yield
    except sqlalchemy.exc.OperationalError as err:
        where, ping = _server_address(url)
        raise InputError(
            f"cannot reach the study database at {where} for {_redacted(url)!r} "
            f"({_first_line(err.orig or err)}); fix: start the server, or correct host, port, "
            f"user and database (check with: {ping})"
        ) from err
    except sqlalchemy.exc.ArgumentError as err:
        raise InputError(
            f"study storage URL {_redacted(url)!r} is malformed ({_first_line(err)}); fix: "
            "write it as dialect://user:password@host:port/database"
        ) from err


def _rdb(url: str, engine_kwargs: dict[str, Any], heartbeat_s: int | None) -> BaseStorage:
    with _reaching(url), warnings.catch_warnings():
        # heartbeat_interval is "experimental" in Optuna 5 and warns on every open.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=heartbeat_s,
            grace_period=None if heartbeat_s is None else GRACE_FACTOR * heartbeat_s,
        )


def check_storage_path(path_or_uri: str) -> str:
    """Validate Ray Tune's ``storage_path`` before Ray does, and return it normalised.

    A local path must be absolute (each node resolves a relative one against its own working
    directory) and a writable folder; it is created if missing. On a cluster it must be a
    shared file system mounted at that same path on every node. ``s3://`` and ``gs://`` are
    accepted when pyarrow can resolve them (the library Ray Tune writes through).

    Raises:
        InputError: naming the value and the fix.
    """
    if not isinstance(path_or_uri, str) or not path_or_uri.strip():
        raise InputError(
            f"storage path must be a folder or an s3:// / gs:// URI, got {path_or_uri!r}; "
            "fix: e.g. --storage /shared/sweeps"
        )
    if "://" in path_or_uri:
        scheme = path_or_uri.split("://", 1)[0].lower()
        if scheme == "file":
            return check_storage_path(path_or_uri[len("file://") :])
        if scheme not in TUNE_SCHEMES:
            raise InputError(
                f"storage {path_or_uri!r} uses scheme {scheme!r}; fix: use an absolute folder "
                f"on a shared file system, or one of {', '.join(s + '://' for s in TUNE_SCHEMES)}"
            )
        return _object_store(path_or_uri, scheme)
    path = Path(path_or_uri).expanduser()
    if not path.is_absolute():
        raise InputError(
            f"storage path {path_or_uri!r} is relative, so every node would resolve it "
            f"differently; fix: use an absolute path such as {str(Path.cwd() / path)!r}"
        )
    if path.exists() and not path.is_dir():
        raise InputError(f"storage path {path_or_uri!r} is a file; fix: name a folder")
    _writable_folder(path, f"storage path {path_or_uri!r}")
    return str(path)


def _object_store(uri: str, scheme: str) -> str:
    try:
        import pyarrow.fs
    except ImportError as err:
        raise InputError(
            f"storage {uri!r} needs pyarrow to reach {scheme}://; fix: pip install pyarrow"
        ) from err
    try:
        pyarrow.fs.FileSystem.from_uri(uri)
    except (OSError, ValueError, NotImplementedError) as err:  # ArrowInvalid is a ValueError
        if "without" in str(err):  # "Arrow compiled without S3 support"
            hint = "pip install --force-reinstall pyarrow (the PyPI wheel has S3 and GCS)"
        else:
            hint = "check the bucket name, credentials and network"
            if scheme == "s3":
                hint += " (offline or a private endpoint: add ?region=...&endpoint_override=...)"
        raise InputError(
            f"pyarrow cannot open storage {uri!r} ({_first_line(err)}); fix: {hint}"
        ) from err
    return uri


def _writable_folder(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # os.access says yes to root on a read-only mount; creating a file does not lie.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".sweeper-write-check-"):
            pass
    except OSError as err:
        where = "" if repr(str(folder)) in what else f" ({str(folder)!r})"
        raise InputError(
            f"{what}{where} is not a writable folder ({err.strerror or err}); fix: "
            "create it with write permission for this user, or choose another path"
        ) from err


def _redacted(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # unparsable: show the scheme only, never a secret
        return url.split("://", 1)[0] + "://…"


def _server_address(url: str) -> tuple[str, str]:
    """``("host:port", "the client command that tells whether it accepts connections")``."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    # A unix socket folder comes as ?host=/run/postgresql; no host at all means libpq's default.
    host = parsed.host or parsed.query.get("host") or os.environ.get("PGHOST", "localhost")
    if parsed.get_backend_name() == "mysql":
        port = parsed.port or 3306
        return f"{host}:{port}", f"mysqladmin ping -h {host} -P {port}"
    port = parsed.port or 5432
    return f"{host}:{port}", f"pg_isready -h {host} -p {port}"


def _first_line(err: BaseException | object) -> str:
    lines = str(err).strip().splitlines()
    return lines[0].strip() if lines else type(err).__name__


def check_study_storage(storage: str) -> None:
    """A ``storage:`` value, checked without opening it: a journal's folder may be made, but
    only inside a folder that is already there (a mistyped shared path, /shraed/sweeps/...,
    was made as local folders unasked); a database URL must parse and have its driver here
    (both were found only after Ray had started); a scheme must be one of ours."""
    if "://" not in storage:
        path = Path(storage).expanduser().absolute()
        if path.is_dir():  # as run's _journal refuses it (check said ok)
            raise InputError(
                f"study journal {storage!r} is a folder; fix: name a file in it, "
                f"e.g. {str(path / 'study.journal')!r}"
            )
        _not_under_a_file(path, f"storage: {storage!r}")
        folder = path.parent
        if not folder.is_dir() and not folder.parent.is_dir():
            raise InputError(
                f"storage: {storage!r} is in a folder whose parent does not exist "
                f"({str(folder.parent)!r}); fix: correct the path, or create the folder (on a "
                "file system every node mounts)"
            )
        return
    scheme = storage.split("://", 1)[0].lower()
    file = storage.split(":///", 1)[1] if scheme == "sqlite" and ":///" in storage else ""
    if file and file != ":memory:":
        _not_under_a_file(Path(file).expanduser().absolute(), f"storage: {storage!r}")
    if scheme.split("+", 1)[0] in _SERVERS:
        _server_engine_kwargs(storage)
    elif scheme != "sqlite":
        raise InputError(
            f"unknown study storage scheme {scheme!r} in {_redacted(storage)!r}; fix: use a "
            f"journal file path or one of {', '.join(s + '://' for s in STUDY_SCHEMES)}"
        )


def _not_under_a_file(path: Path, what: str) -> None:
    """Refuse a path inside a regular file (``afile/j.journal``): check said ok, run failed."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(
                    f"{what} lies under {str(parent)!r}, which is a file, not a folder; fix: "
                    "correct the path, or move that file away"
                )
            return


def check_storage_root(where: str) -> None:
    """What run checks of ``--storage`` (the folder of sweep folders) before it starts,
    without creating it: `sweeper check --storage afile` said ok where run refused it."""
    if "://" in where and not where.startswith("file://"):
        scheme = where.split("://", 1)[0].lower()
        if scheme not in TUNE_SCHEMES:
            check_storage_path(where)  # refuses the scheme, creating nothing
        return  # a bucket is opened by run
    path = Path(where.removeprefix("file://")).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise InputError(f"storage path {where!r} is a file; fix: name a folder")
    _not_under_a_file(path, f"storage path {where!r}")
