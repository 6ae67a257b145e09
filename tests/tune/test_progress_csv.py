"""progress.csv widened for keys reported after a trial's first report (sweeper/tune/
_progress_csv.py); the real sweep's file is checked in tests/summarize."""

from __future__ import annotations

import csv

from sweeper.tune._progress_csv import append_row, header_of


def _read(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_key_reported_later_widens_the_header_and_keeps_the_rows(tmp_path):
    path = tmp_path / "progress.csv"
    assert header_of(path) == []
    fields = append_row(path, [], {"step": 0, "val/mel": 40.0})
    fields = append_row(path, fields, {"step": 5, "loss/g/mel": 30.0, "val/mel": 39.0})
    assert fields == ["step", "val/mel", "loss/g/mel"] == header_of(path)
    rows = _read(path)
    assert rows == [
        {"step": "0", "val/mel": "40.0", "loss/g/mel": ""},
        {"step": "5", "val/mel": "39.0", "loss/g/mel": "30.0"},
    ]


def test_a_resumed_trial_writes_under_the_files_own_header_in_its_order(tmp_path):
    path = tmp_path / "progress.csv"
    append_row(path, [], {"step": 0, "val/mel": 40.0, "loss/g/mel": 31.0})
    # A new driver: the header is read back, a report in another key order lands aligned.
    fields = header_of(path)
    append_row(path, fields, {"loss/g/mel": 29.0, "step": 10, "val/mel": 38.0})
    assert [r["loss/g/mel"] for r in _read(path)] == ["31.0", "29.0"]
    assert [r["step"] for r in _read(path)] == ["0", "10"]
