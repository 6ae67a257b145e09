"""Plain words for a :class:`Diagnosis` (its JSON form: ``_json``)."""

from __future__ import annotations

import math

from sweeper.detect import Reason, Verdict
from sweeper.diagnose._core import DESCRIPTIONS, Diagnosis, HealthReport, SignalReport
from sweeper.diagnose._episodes import RECENT, fell_clearly
from sweeper.diagnose._overall import suspected_line


def label(name: str) -> str:
    """``loss/g/mel (training mel, x c_mel)``; other tags as they are."""
    description = DESCRIPTIONS.get(name)
    if description is None and name.startswith("val/"):
        description = "validation"
    return name if description is None else f"{name} ({description})"


def signal_message(report: SignalReport, diagnosis: Diagnosis) -> str:
    """One sentence: converged or not, since when, how much is left, which checkpoint."""
    final, first = report.final, report.first_stop
    keep = _keep(report)
    if report.finite == 0:
        return f"cannot judge: all {report.points} value(s) are NaN or inf."
    if final.reason is Reason.CONTINUE and report.evidence("improvement_left_upper") is None:
        return (
            f"cannot judge yet: {report.finite} finite point(s), too few to judge a trend "
            f"({final.message}){_best_clause(report)}{keep}."
        )
    if final.reason is Reason.CONTINUE:
        trend = _turned_up(report, diagnosis) or _still(report, diagnosis)
        text = f"not converged — {trend}{_best_clause(report)}{keep}"
        if first is not None:
            text += f"; the detector would have stopped at step {first.step}"
            text += f" ({first.reason.value})"
            text += _fell_since(report, diagnosis, " and")
        return text + _came_back(report) + "."
    if final.reason is Reason.DIVERGED and report.non_finite_since is not None:
        return f"diverged since step {report.non_finite_since}: {final.message}{keep}."
    if final.reason is Reason.DIVERGED and report.blow_up is not None:
        return (
            f"diverged since step {report.blow_up.step}: {final.message}, and it has not come "
            f"back{_best_clause(report)}{keep}."
        )
    if final.reason is Reason.OVERFITTING and first is not None:
        rise = report.rise
        now = "" if rise is None else f"; now {_pct(rise)} % above its lowest level"
        return (
            f"overfitting since step {first.step}: {final.message}{now}"
            f"{_best_clause(report)}{keep}."
        )
    since = first if first is not None else final
    if final.reason is Reason.CONVERGED:
        upper = evidence_of(since, "improvement_left_upper")
        if upper is None:
            left = f"improvement left < {_pct(diagnosis.epsilon)} %"
        elif upper < 0:
            left = "no improvement left"
        else:
            left = f"at most {_pct(upper)} % improvement left"
        after = _fell_since(report, diagnosis, ";")
        return (
            f"converged at step {since.step} ({left} {_horizon(diagnosis)}, "
            f"{_pct(diagnosis.confidence)} % confidence){after}{_rising(report, diagnosis)}"
            f"{_best_clause(report)}{keep}{_came_back(report)}."
        )
    return f"{final.reason.value} since step {since.step}: {final.message}{keep}."


def _came_back(report: SignalReport) -> str:
    """A clause for a blow-up the run recovered from; a sweep would have stopped there."""
    if report.blow_up is None:
        return ""
    what = report.blow_up.message.removeprefix("diverged: ")
    return (
        f"; at step {report.blow_up.step} it blew up ({what}) and came back, where a sweep's "
        "divergence guard would have stopped it"
    )


def _still(report: SignalReport, diagnosis: Diagnosis) -> str:
    return _still_words(
        report.evidence("improvement_left"),
        report.evidence("improvement_left_upper"),
        diagnosis,
        report.evidence("improvement_left_lower"),
        (report.evidence("points"), report.evidence("points_needed")),
    )


def _still_words(
    estimate: float | None,
    upper: float | None,
    diagnosis: Diagnosis,
    lower: float | None,
    points: tuple[float | None, float | None] = (None, None),
) -> str:
    if estimate is None or upper is None:
        return "still improving"
    have, needed = points
    if needed is not None and upper < diagnosis.epsilon:
        # Flat within epsilon, held back only by the no-budget point count: noise is not
        # the reason, and --budget is the way to judge it now.
        count = f"{have:.0f} points are" if have is not None else "the points are"
        return (
            f"looks flat (at most {_pct(upper)} % improvement {_horizon(diagnosis)}), but "
            f"{count} too few to call it converged without a budget ({needed:.0f} needed): "
            "diagnose again once more are logged, or give --budget STEPS (the step training "
            "was meant to reach)"
        )
    if estimate <= 0 or (lower is not None and lower <= 0):
        # A positive estimate inside the noise is no trend: flat curves read "still
        # improving; likely 4.5 % better" (2 of 6 seeds).
        clear = "clear " if estimate > 0 else ""
        return (
            f"no {clear}downward trend, but too noisy to rule out "
            f"{_pct(upper)} % improvement {_horizon(diagnosis)}"
        )
    return (
        f"still improving; likely {_pct(estimate)} % better {_horizon(diagnosis)} "
        f"(upper bound {_pct(upper)} %)"
    )


def _fell_since(report: SignalReport, diagnosis: Diagnosis, joint: str) -> str:
    change = report.fall_after_stop
    if change is None or not fell_clearly(change, diagnosis.epsilon):
        return ""
    fall, noise = change
    return f"{joint} its level has fallen {_pct(fall)} % since (± {_pct(2 * noise)} %)"


def _turned_up(report: SignalReport, diagnosis: Diagnosis) -> str:
    """Words for a curve now clearly above its best, which no trend bound describes."""
    rise, cv = report.rise, report.evidence("noise_cv")
    if rise is None:
        return ""
    if rise <= max(diagnosis.epsilon, 2.0 * (cv or 0.0)):
        return ""
    return (
        f"turned up: the median of its last {RECENT} points is {_pct(rise)} % above its "
        f"lowest such median, so it is not improving now"
    )


def _rising(report: SignalReport, diagnosis: Diagnosis) -> str:
    """A clause when the curve now heads up: the last checkpoint is then not the one to keep."""
    estimate = report.evidence("improvement_left")
    if estimate is None or estimate > -diagnosis.epsilon:
        return ""
    return f"; now rising, about {_pct(-estimate)} % worse {_horizon(diagnosis)}"


def _horizon(diagnosis: Diagnosis) -> str:
    if diagnosis.budget is None:
        return "if you train as long again"
    return f"by step {diagnosis.budget}"


def _best_clause(report: SignalReport) -> str:
    if report.best_step is None:
        return ""
    if report.final.reason is Reason.CONTINUE:
        return f"; best so far at step {report.best_step}"
    return f"; best at step {report.best_step}"


def _keep(report: SignalReport) -> str:
    return "" if report.advice is None else f"; {report.advice}"


def evidence_of(verdict: Verdict, key: str) -> float | None:
    value = verdict.evidence.get(key)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _pct(fraction: float) -> str:
    value = 100.0 * fraction
    return f"{value:.1f}" if abs(value) < 10 else f"{value:.0f}"


def health_message(report: HealthReport) -> str:
    if report.non_finite > 0:
        return (
            f"{report.non_finite} non-finite value(s), first at step "
            f"{report.first_non_finite_step}; last {report.last_value:.4g} at step "
            f"{report.last_step}"
        )
    recent = "" if report.recent_median is None else f", recent median {report.recent_median:.4g}"
    return f"ok: last {report.last_value:.4g} at step {report.last_step}{recent}"


def render_text(diagnosis: Diagnosis) -> str:
    """The human report: overall answer, one line per signal, health, notes."""
    lines = [f"Run: {diagnosis.source}"]
    if diagnosis.overall is not None:
        lines.append(f"Overall: {overall_line(diagnosis.overall, diagnosis)}")
    if diagnosis.signals:
        lines.append("Signals:")
    else:  # --signal named health guards only: say so, and keep the lines below a header
        lines.append(
            "Signals: none judged — only health guards were asked for; pass a loss such as "
            "loss/g/mel to --signal for a verdict"
        )
    for name, report in diagnosis.signals.items():
        lines.append(f"  {label(name)}: {signal_message(report, diagnosis)}")
    if not diagnosis.overfitting_judged:
        lines.append(
            "  overfitting: cannot be judged — no val/* signal (so-vits-svc logs no "
            "validation loss; training losses only show whether training has stalled)."
        )
    if diagnosis.health:
        lines.append("Health (watched for blow-ups, not judged for convergence):")
        for name, report in diagnosis.health.items():
            lines.append(f"  {label(name)}: {health_message(report)}")
    if diagnosis.notes:
        lines.append("Notes:")
        lines.extend(f"  - {note}" for note in diagnosis.notes)
    return "\n".join(lines)


def overall_line(overall: Verdict, diagnosis: Diagnosis) -> str:
    judged = diagnosis.signals.get(overall.signal)
    turned = "" if judged is None else _turned_up(judged, diagnosis)
    suspected = suspected_line(overall, turned) if overall.reason is Reason.CONTINUE else None
    if suspected is not None:
        return suspected
    if overall.reason is Reason.CONTINUE and turned:
        return f"{overall.reason.value} — {overall.signal} {turned}"
    estimate = evidence_of(overall, "improvement_left")
    lower = evidence_of(overall, "improvement_left_lower")
    no_trend = estimate is not None and (estimate <= 0 or (lower is not None and lower <= 0))
    needed = evidence_of(overall, "points_needed")
    if overall.reason is Reason.CONTINUE and (no_trend or needed is not None):
        # Never "about -0.1 % better": the signal's own line's words for no downward trend.
        cut = overall.message.find(" [judged on ")
        note = overall.message[cut:] if cut >= 0 else ""
        upper = evidence_of(overall, "improvement_left_upper")
        points = (evidence_of(overall, "points"), needed)
        trend = _still_words(estimate, upper, diagnosis, lower, points)
        return f"continue — {overall.signal}: {trend}{note}{_overall_came_back(diagnosis)}"
    since = diagnosis.overall_since
    if since is None or overall.reason is Reason.CONTINUE:
        return f"{overall.reason.value} — {overall.message}{_overall_came_back(diagnosis)}"
    # A stop stays a stop: say when it took hold and what was seen then, not at the last step.
    message = since.message.removeprefix(f"{since.reason.value}: ")
    back = "" if overall.reason is Reason.DIVERGED else _overall_came_back(diagnosis)
    first = diagnosis.overall_stop
    if first is not None and first.reason is overall.reason and first.step < since.step:
        # The level fell clearly after the first stop, then settled again: two events.
        again = f" again since step {since.step} (first at step {first.step})"
        return f"{overall.reason.value}{again} — {message}{back}"
    return f"{overall.reason.value} since step {since.step} — {message}{back}"


def _overall_came_back(diagnosis: Diagnosis) -> str:
    stop = diagnosis.overall_stop
    if stop is None or stop.reason is not Reason.DIVERGED:
        return ""
    # The combined detector's message ends with which signal it judged, "[judged on ...]".
    what = stop.message.removeprefix("diverged: ").split(" [judged on ")[0]
    return f"; at step {stop.step} it diverged ({what}) and came back"
