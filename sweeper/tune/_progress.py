"""Live progress of a sweep in the terminal: one line per trial event, a status line at times."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ray.tune import Callback

from sweeper.space import FixedParam
from sweeper.tune._scheduler import error_line
from sweeper.tune._study import CONFIG, OUTCOME, SweepStudy
from sweeper.tune._table import rows, show_value

STATUS_EVERY_S = 20.0  # a status line at most this often (and at each trial event)
WAITING_EVERY_S = 60.0  # with trials pending and none running, a line this often


def describe_params(config: dict[str, Any], limit: int = 4) -> str:
    """``lr=0.0123 train_clips=1``: the last part of each dotted key, fixed values skipped."""
    parts = [f"{k.rsplit('.', 1)[-1]}={show_value(v)}" for k, v in config.items()]
    return " ".join(parts[:limit]) + (" ..." if len(parts) > limit else "")


class SweepProgress(Callback):
    """Prints what happens to trials, and a status line with the best value so far."""

    def __init__(
        self,
        study: SweepStudy,
        metric: str,
        mode: str,
        num_trials: int,
        max_steps: int,
        others: Sequence[str] = (),
    ) -> None:
        self.sweep = study
        self.metric = metric
        self.others = list(others)  # the other objective metrics, shown beside the best
        self.mode = mode
        self.num_trials = num_trials
        self.max_steps = max_steps
        self.out: TextIO | None = None  # None: stdout at the time of printing
        self.restart()

    def restart(self) -> None:
        """Count from the study, and time from now. ``sweeper resume`` calls it: Ray restores
        this callback from tuner.pkl, pickled as the sweep first started (no trial counted,
        its clock), so the line said "best none yet" after trials had ended."""
        self.__dict__.setdefault("others", [])  # (pickled in tuner.pkl before 2026-12-07)
        self._start = time.monotonic()
        self._last_status = 0.0
        self._steps: dict[str, int] = {}
        self._best: tuple[float, str, dict[str, Any]] | None = None  # value, trial, others
        self._errored: set[str] = set()  # ended with an error Ray did not see (input refused)
        for row in rows(self.sweep):  # a resumed sweep's trials so far count from the first line
            if row.ray_id is not None and row.steps:
                self._steps[row.ray_id] = row.steps
            if row.ray_id is not None and row.rule == "error":
                self._errored.add(row.ray_id)
            if row.best_value is not None:
                self._offer(row.best_value, f"#{row.number}", row.others)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["out"] = None
        return state

    def _print(self, text: str) -> None:
        elapsed = int(time.monotonic() - self._start)
        stamp = f"[{elapsed // 3600:d}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}]"
        print(f"{stamp} {text}", file=self.out or sys.stdout, flush=True)

    def _number(self, trial) -> str:
        found = self.sweep.find(trial.trial_id)
        return f"#{found.number}" if found is not None else trial.trial_id

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        found = self.sweep.find(trial.trial_id)
        config = {} if found is None else dict(found.user_attrs.get(CONFIG, {}))
        space = self.sweep.space
        if space is not None:  # fixed values are the same in every trial: not news
            config = {
                k: v for k, v in config.items() if not isinstance(space.params.get(k), FixedParam)
            }
        drawn = describe_params(config) or "(fixed parameters only)"
        self._print(f"trial {self._number(trial)} started: {drawn}")

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        step = result.get("step")
        if isinstance(step, int | float):
            self._steps[trial.trial_id] = max(self._steps.get(trial.trial_id, 0), int(step))
        value = result.get(self.metric)
        trained = isinstance(step, int | float) and step > 0  # step 0: before any training
        if trained and isinstance(value, int | float) and math.isfinite(value):
            self._offer(float(value), self._number(trial), {m: result.get(m) for m in self.others})
        if time.monotonic() - self._last_status >= STATUS_EVERY_S:
            self._status(trials)

    def _offer(self, value: float, who: str, others: dict[str, Any] | None = None) -> None:
        better = self._best is None or (
            value < self._best[0] if self.mode == "min" else value > self._best[0]
        )
        if better:
            self._best = (value, who, dict(others or {}))

    def _best_text(self) -> str:
        """``best val/mel 0.9 (#1)``; several objectives: which one leads, and the others'
        values there (a Pareto sweep has no single best: summarize ranks its fronts)."""
        name = f"{self.metric} (first objective)" if self.others else self.metric
        if self._best is None:
            return f"best {name} none yet"
        value, who, others = self._best
        shown = [who]
        for m, v in others.items():  # "-": not reported, or NaN (an f0 error, no voiced frame)
            number = isinstance(v, int | float) and math.isfinite(v)
            shown.append(f"{m} {v:.4g}" if number else f"{m} -")
        return f"best {name} {value:.4g} ({'; '.join(shown)})"

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._ended(trial, trials)

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._ended(trial, trials)

    def on_trial_recover(self, iteration, trials, trial, **info) -> None:
        message = error_line(trial, "its worker died")  # one line; whole: it may end in a path
        failures = trial.run_metadata.num_failures
        self._print(
            f"trial {self._number(trial)} failed ({message}); Ray restarts it from its last "
            f"checkpoint (retry {failures} of {trial.max_failures})"
        )

    def on_step_end(self, iteration, trials, **info) -> None:
        # Trials waiting for a node (a cluster still scaling up, or one that never will) make
        # no events: the terminal showed nothing for minutes (a probe, 2026-12-08).
        quiet_since = max(self._last_status, self._start)
        if time.monotonic() - quiet_since < WAITING_EVERY_S:
            return
        states = {t.status for t in trials}
        if "PENDING" in states and "RUNNING" not in states:
            self._status(trials)
            self._print(
                "waiting: no trial is running; the pending ones wait for a node with the "
                "CPUs and GPUs a trial asks for (`resources:` in the search space)"
            )

    def _ended(self, trial, trials) -> None:
        found = self.sweep.find(trial.trial_id)
        outcome = {} if found is None else (found.user_attrs.get(OUTCOME) or {})
        if not outcome and trial.status == "ERROR":
            message = error_line(trial, "errored")
            self._print(f"trial {self._number(trial)} errored (no more retries): {message}")
        elif not outcome:
            self._print(f"trial {self._number(trial)} failed, Ray retries it from its checkpoint")
        else:
            if outcome["rule"] == "error":
                self._errored.add(trial.trial_id)
            best = outcome.get("best_value")
            message = outcome["message"].removeprefix(f"{outcome['rule']}: ")
            shown = "none" if best is None else f"{best:.4g} at step {outcome.get('best_step')}"
            step = outcome.get("step")
            when = "before its first report" if step is None else f"at step {step}"
            self._print(
                f"trial {self._number(trial)} {outcome['rule']} {when}: {message} "
                f"(best {self.metric} {shown})"
            )
        self._status(trials, ending=trial)

    def _status(self, trials, ending=None) -> None:
        self._last_status = time.monotonic()
        count: dict[str, int] = {}
        for t in trials:
            # Ray marks the trial being ended only after its callbacks: count it as ended
            # (PENDING too: one a resume ends before it runs; a probe, 2026-12-08).
            ended = t is ending and t.status in ("RUNNING", "PENDING")
            status = "TERMINATED" if ended else t.status
            status = "ERROR" if t.trial_id in self._errored else status
            count[status] = count.get(status, 0) + 1
        steps = sum(self._steps.values())
        self._print(
            f"running {count.get('RUNNING', 0)}, pending {count.get('PENDING', 0)}, "
            f"ended {count.get('TERMINATED', 0)}, errored {count.get('ERROR', 0)} "
            f"of {self.num_trials}; {self._best_text()}; "
            f"steps {steps:,} of {self.num_trials * self.max_steps:,} budgeted"
        )
