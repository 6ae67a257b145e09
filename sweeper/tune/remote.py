"""A sweep folder in an object store (``s3://``, ``gs://``), read and written through pyarrow,
the library Ray Tune itself writes through.

A URI may carry pyarrow's options after ``?`` (``s3://bucket/sweeps?endpoint_override=
host:9000&scheme=http`` for a MinIO or other private endpoint); a folder inside it keeps them:

    >>> join("s3://bucket/sweeps?scheme=http", "quick")
    's3://bucket/sweeps/quick?scheme=http'
    >>> is_uri("/shared/sweeps"), is_uri("file:///shared/sweeps"), is_uri("gs://b/s")
    (False, False, True)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sweeper.errors import InputError
from sweeper.tune.storage import TUNE_SCHEMES


def is_uri(where: str | os.PathLike[str]) -> bool:
    """True for an object-store URI (``file://`` is a local folder)."""
    text = str(where)
    return "://" in text and text.split("://", 1)[0].lower() in TUNE_SCHEMES


def join(uri: str, name: str) -> str:
    """``uri``/``name``, with the URI's query kept at the end."""
    base, sep, query = uri.partition("?")
    return f"{base.rstrip('/')}/{name}{sep}{query}"


def open_uri(uri: str) -> tuple[Any, str]:
    """``(pyarrow filesystem, path inside it)``; a one-line error when pyarrow cannot."""
    import pyarrow.fs

    try:
        return pyarrow.fs.FileSystem.from_uri(uri)
    except (OSError, ValueError, NotImplementedError) as err:
        raise InputError(
            f"cannot open {uri!r} ({str(err).strip().splitlines()[0]}); fix: check the bucket, "
            "credentials and, for a private endpoint, ?endpoint_override=...&scheme=http"
        ) from err


def read_text(uri: str, name: str) -> str | None:
    """The text of ``uri``/``name``, or None when there is no such file."""
    import pyarrow.fs

    fs, path = open_uri(uri)
    target = f"{path.rstrip('/')}/{name}"
    if fs.get_file_info(target).type != pyarrow.fs.FileType.File:
        return None
    with fs.open_input_stream(target) as f:
        return f.read().decode("utf-8")


def write_text(uri: str, name: str, text: str) -> None:
    fs, path = open_uri(uri)
    fs.create_dir(path, recursive=True)
    with fs.open_output_stream(f"{path.rstrip('/')}/{name}") as f:
        f.write(text.encode("utf-8"))


def _cache_dir(uri: str, cache: str | os.PathLike[str] | None) -> Path:
    root = Path(cache) if cache is not None else Path.home() / ".cache" / "sweeper" / "mirror"
    return root / hashlib.sha1(uri.encode()).hexdigest()[:12]


def fetch(uri: str, name: str, cache: str | os.PathLike[str] | None = None) -> Path | None:
    """``uri``/``name`` copied into the local cache (its path), or None when it is missing."""
    text = read_text(uri, name)
    if text is None:
        return None
    local = _cache_dir(uri, cache) / name
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text(text, encoding="utf-8")
    return local


def mirror(uri: str, cache: str | os.PathLike[str] | None = None) -> Path:
    """A local copy of the sweep folder ``uri`` (refreshed on each call), for the readers
    that work on files: ``summarize``, ``export-best``. Ray's own state files are skipped."""
    import pyarrow.fs

    fs, path = open_uri(uri)
    local = _cache_dir(uri, cache) / Path(path).name
    info = fs.get_file_info(pyarrow.fs.FileSelector(path, recursive=True, allow_not_found=True))
    if not info:
        raise InputError(f"{uri!r} is empty or missing; fix: give the sweep folder in the store")
    for item in info:
        if item.type != pyarrow.fs.FileType.File:
            continue
        rel = item.path[len(path.rstrip("/")) + 1 :]
        if rel.startswith(("experiment_state-", "search_gen_state-", "searcher-state-")) or (
            rel == "search_experiment.pickle"
        ):
            continue
        dest = local / rel
        if dest.is_file() and dest.stat().st_size == item.size:
            continue  # checkpoints never change once written; result files only grow
        dest.parent.mkdir(parents=True, exist_ok=True)
        with fs.open_input_stream(item.path) as src, open(dest, "wb") as out:
            out.write(src.read())
    return local
