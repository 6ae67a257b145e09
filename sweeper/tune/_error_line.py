"""The one line of a Ray trial's error that a sweep's records and progress lines show."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_MODULE = re.compile(r"^(?:[A-Za-z_]\w*\.)+(?=\w+: )")  # "sweeper.errors." of a class name


def error_line(trial: Any, default: str = "the trial errored") -> str:
    """The last line of a trial's latest error. Ray 2.60's Trial has no ``error_msg``: the
    driver appends each failure to ``trial.error_file`` (``get_error()`` reads the synced
    copy in storage)."""
    text = None
    path = getattr(trial, "error_file", None)
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = None
    if text is None and callable(getattr(trial, "get_error", None)):
        try:
            text = trial.get_error()
        except OSError:  # storage unreachable: the stop reason is then the default
            text = None
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
    return _MODULE.sub("", lines[-1]) if lines else default


def shorten(message: str, limit: int = 300) -> str:
    """``message`` in at most ``limit`` characters, its ``; fix: ...`` kept whole where it
    fits: the middle goes (the quoted paths of a so-vits layout pushed the fix out)."""
    if len(message) <= limit:
        return message
    cut = message.rfind("; fix:")
    fix = message[cut:] if cut > 0 else ""
    if not fix or len(fix) > limit // 2:
        return message[: limit - 1] + "…"
    return message[: limit - len(fix) - 1] + "…" + fix
