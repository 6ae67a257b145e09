"""Plain JSON for a :class:`Diagnosis`: the figures the text gives, as data."""

from __future__ import annotations

import math
from typing import Any

from sweeper.detect import Reason
from sweeper.diagnose._core import Diagnosis, SignalReport
from sweeper.diagnose._text import evidence_of, health_message, overall_line, signal_message


def to_dict(diagnosis: Diagnosis) -> dict[str, Any]:
    """JSON-ready form; improvement fractions are relative (0.03 = 3 %), non-finite -> null."""
    overall = None if diagnosis.overall is None else diagnosis.overall.to_dict()
    if overall is not None:
        overall["verdict"] = overall["reason"]
        stop = diagnosis.overall_stop
        overall["stop_step"] = None if stop is None else stop.step  # the first stop
        since = diagnosis.overall_since  # where the final verdict's reason took hold
        overall["since_step"] = None if since is None else since.step
        # The text's Overall line, so both name one step; the detector's last words apart.
        overall["detector_message_now"] = overall["message"]
        overall["message"] = overall_line(diagnosis.overall, diagnosis)
    signals = {name: _signal_dict(report, diagnosis) for name, report in diagnosis.signals.items()}
    health = {
        name: {
            "status": "ok" if report.non_finite == 0 else "non-finite",
            "points": report.points,
            "last_step": report.last_step,
            "last_value": report.last_value,
            "recent_median": report.recent_median,
            "non_finite": report.non_finite,
            "first_non_finite_step": report.first_non_finite_step,
            "message": health_message(report),
        }
        for name, report in diagnosis.health.items()
    }
    return _finite_or_null(
        {
            "source": str(diagnosis.source),
            "overall": overall,
            "signals": signals,
            "health": health,
            "overfitting_judged": diagnosis.overfitting_judged,
            "budget": diagnosis.budget,
            "restarts": diagnosis.restarts,
            "overwritten_points": diagnosis.overwritten,
            "notes": list(diagnosis.notes),
        }
    )


def _signal_dict(report: SignalReport, diagnosis: Diagnosis) -> dict[str, Any]:
    """One signal in JSON. ``improvement_left*`` and ``detector_message`` back the verdict:
    for a converged stop that stands they are the figures at the stop (``figures_step``), as
    the message quotes them; ``*_now`` are the detector's at the last step."""
    # stop_step is the first step at which the detector would have stopped the run (the
    # issue's definition, what a sweep would have done), even when it diverged later.
    stop, first, final = report.earliest_stop, report.first_stop, report.final
    backing = first if final.reason is Reason.CONVERGED and first is not None else final
    # A diverged signal has no improvement left to speak of: its figures are not given.
    figures = None if final.reason is Reason.DIVERGED else backing
    return {
        "verdict": final.reason.value,
        "stop_step": None if stop is None else stop.step,
        "stop_reason": None if stop is None else stop.reason.value,
        "diverged_step": report.diverged_since,  # a divergence lasting to the end
        # The plateau detector's own first stop (a blow-up is not one).
        "first_stop_step": None if first is None else first.step,
        "first_stop_reason": None if first is None else first.reason.value,
        "best_step": report.best_step,
        "last_step": report.last_step,
        "points": report.points,
        "figures_step": None if figures is None else figures.step,
        "improvement_left": None if figures is None else evidence_of(figures, "improvement_left"),
        "improvement_left_upper": None
        if figures is None
        else evidence_of(figures, "improvement_left_upper"),
        "improvement_left_now": report.evidence("improvement_left"),
        "improvement_left_upper_now": report.evidence("improvement_left_upper"),
        "checkpoint": report.checkpoint,
        # The advised file as data: its step, its path relative to the logs, and whether the
        # folder listing shows it (false: named only by train.log); null when none is advised.
        "checkpoint_step": None if report.pick is None else report.pick.step,
        "checkpoint_file": None if report.pick is None else report.pick.file,
        "checkpoint_on_disk": None if report.pick is None else report.pick.on_disk,
        "checkpoint_advice": report.advice,  # the clause: keep a file, or why none is fit
        "message": signal_message(report, diagnosis),
        "detector_message": backing.message,
        "detector_message_now": final.message,
    }


def _finite_or_null(value: Any) -> Any:
    """Strict JSON has no NaN or Infinity: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value
