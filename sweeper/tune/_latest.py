"""The latest report of each objective metric, for a trial's values at its best step.

A trainer may log objectives at different intervals (``val/*`` every ``eval_interval``
steps, ``loss/*`` every ``log_interval``): the row of the best step then lacks some, and
the trial ended FAIL, "no value of every objective to rank" (a probe, 2026-12-07). The
values at the best step are each metric's last report at or before it, the rule
``sweeper summarize`` fills such gaps by (``values_at`` in sweeper/summarize/collect.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

LATEST_ATTR = "sweeper:latest"  # system attribute: {metric: [step, value]}, latest reports

Latest = dict[str, tuple[int, float]]  # metric -> (step, value) of its latest report


def number(value: Any) -> float | None:
    """A result entry as a float, or None when it is no number (bools are not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def carry(latest: Latest, step: int, result: Mapping[str, Any], names: Sequence[str]) -> bool:
    """Take the values of ``names`` in this report as their latest; whether it had any."""
    fresh = False
    for name in names:
        value = number(result.get(name))
        if value is not None:
            latest[name] = (step, value)
            fresh = True
    return fresh


def values_at(latest: Latest, step: int, names: Sequence[str]) -> dict[str, float | None]:
    """Each metric's last report at or before ``step`` (None: none yet). One from after it
    is not the checkpoint's: a resumed driver's kept value may be from a step its restored
    trial has not reached again."""
    out: dict[str, float | None] = {}
    for name in names:
        at, value = latest.get(name, (None, None))
        out[name] = value if at is not None and at <= step else None
    return out


def persist(storage: Any, trial_id: int, latest: Latest) -> None:
    """Keep them in the study: a resumed driver's scheduler starts empty (``_live`` does
    not pickle), and Ray rewrites a restored trial's result.json from its checkpoint on."""
    record = {name: [at, value] for name, (at, value) in latest.items()}
    storage.set_trial_system_attr(trial_id, LATEST_ATTR, record)


def restore(system_attrs: Mapping[str, Any]) -> Latest:
    """What :func:`persist` kept for a trial (empty for one from before 2026-12-07)."""
    record = system_attrs.get(LATEST_ATTR) or {}
    out: Latest = {}
    for name, pair in record.items():
        if isinstance(pair, list | tuple) and len(pair) == 2 and number(pair[1]) is not None:
            out[name] = (int(pair[0]), float(pair[1]))
    return out
