"""Per-signal verdicts settled against the whole run once every signal has been replayed.

A signal's own replay cannot see the run: a held-out curve's plateau detector does not know
the training loss kept falling (overfitting), a generator total does not know its mel term
blew up, and a checkpoint saved after any signal diverged holds broken weights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sweeper.detect import Reason, Verdict
from sweeper.diagnose._keep import advise, find, kept_from, span
from sweeper.logs import RunLog

if TYPE_CHECKING:
    from sweeper.diagnose._core import SignalReport

# The generator total and the mel term it holds (c_mel x L1 is most of it).
TOTAL, MEL = "loss/g/total", "loss/g/mel"
# A rise of the total beyond its noise after the mel term blew up: the blow-up shows in it.
_MIN_RISE = 0.015


def settle(
    reports: Mapping[str, SignalReport],
    run: RunLog,
    overall: Verdict | None,
    since: Verdict | None,
) -> dict[str, SignalReport]:
    """The reports with the run-wide readings applied (see the module docstring)."""
    settled = dict(reports)
    if TOTAL in settled and MEL in settled:
        settled[TOTAL] = _total_blown_up(settled[TOTAL], settled[MEL])
    if overall is not None and overall.reason is Reason.OVERFITTING:
        onset = since if since is not None and since.reason is Reason.OVERFITTING else overall
        name = overall.signal
        if name in settled:
            settled[name] = held_out = _overfitting(settled[name], onset, run)
            for other, report in settled.items():  # one answer to "which file": held-out's
                if other != name and held_out.advice is not None:
                    settled[other] = dataclasses.replace(
                        report,
                        checkpoint=held_out.checkpoint,
                        pick=held_out.pick,
                        advice=f"for the checkpoint follow {name}, as the run overfits",
                    )
    steps = [r.diverged_since for r in settled.values() if r.diverged_since is not None]
    if steps:
        for name, report in settled.items():
            settled[name] = _after_divergence(report, run, min(steps))
    return settled


def _total_blown_up(total: SignalReport, mel: SignalReport) -> SignalReport:
    """Mark the total diverged when the mel loss in it blew up to the end and it rose too."""
    if total.final.reason is Reason.DIVERGED or mel.blow_up is None:
        return total
    if mel.non_finite_since is not None or mel.final.reason is not Reason.DIVERGED:
        return total
    rise, cv = total.rise, total.evidence("noise_cv") or 0.0
    if rise is None or rise <= max(_MIN_RISE, 2.0 * cv):
        return total
    message = (
        f"{TOTAL} holds {MEL}, which blew up at step {mel.blow_up.step}; its last points are "
        f"{100 * rise:.0f} % above its lowest level"
    )
    final = dataclasses.replace(total.final, reason=Reason.DIVERGED, message=message)
    blow = dataclasses.replace(mel.blow_up, signal=TOTAL, message=f"diverged: {message}")
    return dataclasses.replace(total, final=final, blow_up=blow)


def _overfitting(report: SignalReport, onset: Verdict, run: RunLog) -> SignalReport:
    """The held-out signal the combined detector judged overfitting says so itself."""
    message = onset.message.removeprefix("overfitting: ").split(" [judged on ")[0]
    message = message.removeprefix(f"{report.name} is overfitting: ")
    final = dataclasses.replace(report.final, reason=Reason.OVERFITTING, message=message)
    first = dataclasses.replace(onset, signal=report.name, message=message)
    if report.first_stop is not None and report.first_stop.step < onset.step:
        first = report.first_stop  # its own earlier stop (a plateau before the rise) stays first
    report = dataclasses.replace(report, final=final, first_stop=first)
    best = report.best_step
    found = None if best is None else find(best, run)
    if best is None or found is None or not found[1]:
        return report
    kept = kept_from(run, best + 1)
    if not kept or kept[0] < onset.step:
        return report  # the earliest kept after the best predates the overfitting
    advice = (
        f"the checkpoint nearest its best (step {best}) was deleted: the kept ones "
        f"({span(kept)}) were saved while it overfitted; use {found[0]} only for want "
        f"of better, and next time stop near step {best} or set keep_ckpts: 0 (keeps all)"
    )
    return dataclasses.replace(report, advice=advice)


def _after_divergence(report: SignalReport, run: RunLog, since: int) -> SignalReport:
    """Never advise a checkpoint saved at or after the run diverged: its weights are broken."""
    nan_line = report.non_finite_since is not None  # its line names no best step
    checkpoint, advice, pick = advise(report.best_step, run, since, say_best=nan_line)
    return dataclasses.replace(report, checkpoint=checkpoint, advice=advice, pick=pick)
