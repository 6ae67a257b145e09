"""Sweep knobs that change the data, not the config (``dataset.*`` in a search space)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sweeper.errors import InputError

KNOB_PREFIX = "dataset."


def split_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config keys, dataset knobs)`` of a trial's sampled parameters."""
    config = {k: v for k, v in params.items() if not k.startswith(KNOB_PREFIX)}
    knobs = {k[len(KNOB_PREFIX) :]: v for k, v in params.items() if k.startswith(KNOB_PREFIX)}
    return config, knobs


def filelist_entries(path: Path) -> list[str]:
    """The non-empty lines of a so-vits-svc filelist, as written on any system: Notepad adds
    a BOM, and so-vits-svc on Windows joins paths with backslashes. The one reader of
    filelists: a sweep's ``dataset.train_clips`` subset and ``sweeper train`` must agree."""
    data = Path(path).read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Notepad's "Unicode": UTF-16 with BOM
        text = data.decode("utf-16")
    elif b"\x00" in data:
        raise InputError(
            f"filelist {str(path)!r} holds NUL bytes (UTF-16 without a BOM, or not text); "
            "fix: save it as UTF-8"
        )
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            # Read with a replacement character, a GBK name became a "missing audio file".
            line = data[: err.start].count(b"\n") + 1
            raise InputError(
                f"filelist {str(path)!r} is not UTF-8 (line {line}: byte "
                f"{data[err.start : err.start + 1]!r}; a local code page such as GBK or "
                "cp1252?); fix: save it as UTF-8"
            ) from None
    return [ln.strip().replace("\\", "/") for ln in text.splitlines() if ln.strip()]


def interleaved(wavs: list[str], n: int) -> list[str]:
    """The first ``n`` clips taking speakers in turn (by speaker folder, filelist order), so a
    small subset still holds every speaker it can."""
    by_speaker: dict[str, list[str]] = {}
    for wav in wavs:
        by_speaker.setdefault(Path(wav).parent.name, []).append(wav)
    queues = list(by_speaker.values())
    out: list[str] = []
    depth = 0
    while len(out) < n and any(depth < len(q) for q in queues):
        out.extend(q[depth] for q in queues if depth < len(q) and len(out) < n)
        depth += 1
    return out


def subset_filelist(data_dir: str | Path, filelist: str, n: int, out: str | Path) -> Path:
    """Write the first ``n`` clips of ``data_dir/filelist`` (interleaved) as absolute paths."""
    root = Path(data_dir)
    source = root / filelist
    if not source.is_file():
        raise InputError(f"missing filelist {str(source)!r}; fix: check data.dir of the sweep")
    lines = filelist_entries(source)
    if n > len(lines):
        raise InputError(
            f"dataset.train_clips={n} but {str(source)!r} lists {len(lines)} clips; "
            f"fix: keep it <= {len(lines)}"
        )
    # Without following links, as read_filelist: a linked speaker folder keeps its name.
    absolute = [os.path.abspath(root / ln) for ln in lines]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(interleaved(absolute, n)) + "\n", encoding="utf-8")
    return out
