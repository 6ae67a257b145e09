"""Each trial's ``progress.csv`` with a column for every metric it ever reported.

Ray's CSVLoggerCallback fixes the columns from a trial's first report and drops every key
that comes later: a so-vits-svc trial's first report is the held-out evaluation of its base
model (val/* only), so its CSV had none of the training losses (a probe, 2026-12-07). And
on a resumed trial it wrote the new rows under the old header in the new report's key order.
Here a key not yet in the header rewrites the file under the widened header (rare: once per
new key), and rows are always written in the header's order.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from ray.tune.logger import CSVLoggerCallback
from ray.tune.result import EXPR_PROGRESS_FILE
from ray.tune.utils.util import flatten_dict


def header_of(path: Path) -> list[str]:
    """The columns of an existing CSV file (none for a missing or empty one)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return next(csv.reader(handle), [])
    except FileNotFoundError:
        return []


def append_row(path: Path, fields: list[str], row: dict[str, Any]) -> list[str]:
    """Append ``row`` to the CSV at ``path`` whose header is ``fields``; a key the header
    lacks widens it (the file is rewritten, earlier rows blank there). The header after."""
    new = [key for key in row if key not in fields]
    if new or not path.is_file():
        old = _rows(path)
        fields = [*fields, *new]
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fields)
            writer.writeheader()
            writer.writerows(old)
        os.replace(tmp, path)
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fields).writerow(row)
    return fields


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        return []


class ProgressCsv(CSVLoggerCallback):
    """Ray's CSV logger (file name, syncing, restore from remote storage) with the columns
    widened as :func:`append_row` does."""

    def __init__(self) -> None:
        super().__init__()
        self._fields: dict[Any, list[str]] = {}

    def log_trial_result(self, iteration: int, trial: Any, result: dict) -> None:
        if trial not in self._fields:
            trial.init_local_path()
            self._restore_from_remote(EXPR_PROGRESS_FILE, trial)  # a resumed trial's file
            self._fields[trial] = header_of(Path(trial.local_path, EXPR_PROGRESS_FILE))
        row = flatten_dict({k: v for k, v in result.items() if k != "config"}, delimiter="/")
        path = Path(trial.local_path, EXPR_PROGRESS_FILE)
        self._fields[trial] = append_row(path, self._fields[trial], row)

    def log_trial_end(self, trial: Any, failed: bool = False) -> None:
        self._fields.pop(trial, None)
