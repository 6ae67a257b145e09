"""A sweep's trials as rows: state, steps, best value, stop reason (status and ranking)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from sweeper.logs import read_results
from sweeper.tune._error_line import shorten
from sweeper.tune._study import BEST, CONFIG, OUTCOME, RAY_ID, SweepStudy


@dataclass(frozen=True)
class Row:
    """One trial of a sweep, as far as the study knows it."""

    number: int  # Optuna's trial number (#0, #1, ...)
    ray_id: str | None  # Ray's trial id (its folder is trial_<id>)
    state: str  # Optuna state: RUNNING, COMPLETE, PRUNED, FAIL
    rule: str | None  # converged, overfitting, diverged, cannot_catch_up, budget, error
    message: str  # why it ended (empty while running)
    steps: int  # the last step it reached
    best_value: float | None  # best value of the first objective metric
    best_step: int | None  # the step of that value (the checkpoint kept)
    params: dict[str, Any]  # every parameter, fixed ones included
    # the other objective metrics at that step (several objectives; None: not finite there)
    others: dict[str, float | None] = field(default_factory=dict)

    @property
    def rankable(self) -> bool:
        """Has a best value that summarize ranks: a failed or diverged trial's does not count
        (its best checkpoint is not a candidate there)."""
        return (
            self.best_value is not None
            and self.state != "FAIL"
            and self.rule not in ("diverged", "error", "removed")
        )


def rows(study: SweepStudy) -> list[Row]:
    """The study's trials; a RUNNING one with the step Ray last recorded for it (the study
    holds only the steps it judged: a table after --time-limit said "steps 0" for a trial
    that progress had just shown at step 35)."""
    folder = getattr(study, "folder", None)
    out = []
    for trial in study.study.get_trials(deepcopy=False):
        row = row_of(trial)
        if row.state == TrialState.RUNNING.name and folder and row.ray_id:
            reached = _reached(Path(folder) / f"trial_{row.ray_id}" / "result.json")
            if reached > row.steps:
                row = dataclasses.replace(row, steps=reached)
        out.append(row)
    return out


def _reached(results: Path) -> int:
    """The highest ``step`` in a trial's result.json, 0 if none."""
    return max((row["step"] for row in read_results(results)), default=0)


def failures(table: Sequence[Row], folder: str | Path | None = None) -> list[str]:
    """One line per failed trial: why it failed, as the study recorded it (else the last line
    of Ray's error.txt in its folder). ``sweeper run`` sends the user here for the errors."""
    out = []
    for r in table:
        if r.state != TrialState.FAIL.name:
            continue
        why = next((ln.strip() for ln in r.message.splitlines() if ln.strip()), "")
        if not why and folder is not None and r.ray_id:
            why = _last_line(Path(folder) / f"trial_{r.ray_id}" / "error.txt")
        shown = shorten(why, 400)
        out.append(f"#{r.number}: {shown or 'no error recorded (see the trial folder)'}")
    return out


def _last_line(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "")


def row_of(trial: FrozenTrial) -> Row:
    """One trial's row, from what the sweep recorded on it (its stop, best and config)."""
    outcome = trial.user_attrs.get(OUTCOME) or {}
    best = trial.user_attrs.get(BEST) or {}
    values = trial.intermediate_values
    steps = max(values) if values else 0
    if isinstance(outcome.get("step"), int):
        steps = max(steps, outcome["step"])
    metrics = best.get("metrics") or []
    first = best.get("values", {}).get(metrics[0]) if metrics else None
    others = {m: _finite(best.get("values", {}).get(m)) for m in metrics[1:]}
    return Row(
        number=trial.number,
        ray_id=trial.user_attrs.get(RAY_ID),
        state=trial.state.name,
        rule=outcome.get("rule"),
        message=outcome.get("message", ""),
        steps=int(steps),
        best_value=first if first is None or math.isfinite(first) else None,
        best_step=best.get("step"),
        params=dict(trial.user_attrs.get(CONFIG, {})),
        others=others,
    )


def _finite(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def ranked(table: list[Row], mode: str) -> list[Row]:
    """Trials with a best value first (best first; ties: fewer steps), then the rest."""
    sign = 1.0 if mode == "min" else -1.0
    usable = [r for r in table if r.rankable]
    rest = [r for r in table if r not in usable]
    usable.sort(key=lambda r: (sign * r.best_value, r.steps))  # type: ignore[operator]
    return usable + sorted(rest, key=lambda r: r.number)


def compute(trials: Sequence[Any], max_steps: int) -> tuple[int, int, int]:
    """(steps run, steps to the budget, trials not counted) over the trials that ended by a
    rule (COMPLETE or PRUNED): what early stopping saved. An unfinished trial's steps to come
    are not saved, and a failed one stopped for its error, so both are left out and counted.
    ``trials`` are rows or summarize's records: anything with ``state`` and ``steps``."""
    by_rule = (TrialState.COMPLETE.name, TrialState.PRUNED.name)
    ended = [t for t in trials if t.state in by_rule]
    others = sum(1 for t in trials if t.state not in (*by_rule, TrialState.WAITING.name))
    return sum(t.steps for t in ended), len(ended) * max_steps, others


def compute_text(steps_run: int, steps_budget: int, not_counted: int) -> str:
    """``compute``'s figures in words, for the run's end, status and summarize."""
    saved = 1 - steps_run / steps_budget if steps_budget else 0.0
    whose, note = "every trial", ""
    if not_counted:
        whose = "every trial that ended by a rule"
        note = f"; {not_counted} unfinished or failed not counted"
    # A trial may stop past its budget (a probe's, checkpointing every 15 steps, stopped at
    # 45 of 40): no saving, and "-12% saved" was printed.
    said = f"{saved:.0%} saved" if steps_run <= steps_budget else (
        f"none saved (the trials ran {steps_run - steps_budget:,} step(s) past their budget)")
    return f"{steps_run:,} of {steps_budget:,} ({whose} to its budget): {said}{note}"


def shown_params(trials: Sequence[Any], searched: Sequence[str] = ()) -> list[str]:
    """Parameters a table of ``trials`` (anything with ``params``) shows: the ``searched``
    ones (a value every trial drew alike is still the result: one trial's learning rate was
    in no table) and any other that differs between trials; fixed ones would only repeat."""
    keys: list[str] = []
    for t in trials:
        keys.extend(k for k in t.params if k not in keys)
    return [k for k in keys if k in searched or len({repr(t.params.get(k)) for t in trials}) > 1]


def show_value(value: Any) -> str:
    """3 significant digits; more near 1, where they are the value (an lr_decay of 0.99966
    showed as "1", no decay)."""
    if value is None or isinstance(value, bool):  # as the sweep file writes them; an
        return {None: "null", True: "true", False: "false"}[value]  # inactive one shows "-"
    if not isinstance(value, float):
        return str(value)
    gap = abs(1.0 - abs(value))
    digits = 3 if not 0 < gap < 0.1 else min(12, 3 + math.ceil(-math.log10(gap)))
    return f"{value:.{digits}g}"


def format_table(table: list[Row], metric: str, searched: Sequence[str] = ()) -> str:
    """A plain-text table, one line per trial, with the parameters searched or varying.
    Several objectives: the best step is the first metric's; the others show at that step
    (until 2026-12-07 they showed nowhere but in summarize)."""
    keys = shown_params(table, searched)
    others: list[str] = []
    for r in table:
        others.extend(m for m in r.others if m not in others)
    widths = [max(14, len("best " + metric)), *(max(8, len(m)) for m in others)]
    names = ["best " + metric, *others]
    head = f"{'trial':>5}  {'state':<8} {'stopped by':<15} {'steps':>6}  "
    head += "  ".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
    cells = [[show_value(r.params[k]) if k in r.params else "-" for k in keys] for r in table]
    # A column is as wide as its longest value ([0.8, 0.99] under "betas" pushed the rest on).
    spans = [max([len(k.rsplit(".", 1)[-1]), *(len(c[i]) for c in cells)]) for i, k in
             enumerate(keys)]  # fmt: skip
    head += f"  {'at step':>7}  " + "  ".join(
        k.rsplit(".", 1)[-1].rjust(w) for k, w in zip(keys, spans, strict=True)
    )
    lines = [head.rstrip(), "-" * len(head.rstrip())]
    for r, row_cells in zip(table, cells, strict=True):
        values = [r.best_value, *(r.others.get(m) for m in others)]
        best = "  ".join(
            f"{'-' if v is None else f'{v:.4f}':>{w}}" for v, w in zip(values, widths, strict=True)
        )
        at = "-" if r.best_step is None else str(r.best_step)
        params = "  ".join(c.rjust(w) for c, w in zip(row_cells, spans, strict=True))
        lines.append(
            f"{'#' + str(r.number):>5}  {r.state:<8} {r.rule or '-':<15} {r.steps:>6}  "
            f"{best}  {at:>7}  {params}".rstrip()
        )
    return "\n".join(lines)
