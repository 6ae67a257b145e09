"""A sovits-sweeper trial's ``result.json``: Ray's JSON logger, one object per report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_results(path: Path) -> list[dict[str, Any]]:
    """Result lines in order, each with an integer ``step``; a torn line (a trial still
    writing, a driver killed mid-write) and an unreadable file give nothing."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        step = row.get("step") if isinstance(row, dict) else None
        if isinstance(step, int) and not isinstance(step, bool):
            out.append(row)
    return out
