"""Trials Ray saw end whose end the study lost (a journal restored from a backup, or cut
short by lines): Ray never runs them again, so they stayed RUNNING for ever and every
later resume ended "interrupted with 1 trial(s) unfinished", exit 130. Before a resume,
each is replayed from its ``result.json`` through the sweep's scheduler, which records what
it would have decided (its best, a divergence, a pruner's stop, or its budget) and ends it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from optuna.trial import TrialState
from ray.tune.schedulers import TrialScheduler

from sweeper.detect import Reason
from sweeper.tune._study import OUTCOME, RAY_ID


def ended_in_ray(folder: Path) -> set[str]:
    """The trials Ray's newest run state has TERMINATED (ended: not run again)."""
    states = sorted(folder.glob("experiment_state-*.json"))
    try:
        data = json.loads(states[-1].read_text(encoding="utf-8"))
        trials = [json.loads(entry[0]) for entry in data["trial_data"]]
    except (IndexError, OSError, ValueError, KeyError, TypeError):
        return set()
    return {t["trial_id"] for t in trials if t.get("status") == "TERMINATED"}


def _results(path: Path) -> list[dict]:
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a last line cut by the driver's death
        if isinstance(row, dict):
            row.pop("config", None)  # the trial's parameters, not a result
            rows.append(row)
    return rows


def settle(scheduler, folder: Path) -> list[str]:
    """End in the study each RUNNING trial that Ray has ended, replaying its results
    through ``scheduler`` (a PrunerScheduler over the sweep's study); notes for the user."""
    ended = ended_in_ray(folder)
    study = scheduler.sweep.study
    notes = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        ray_id = trial.user_attrs.get(RAY_ID)
        if ray_id not in ended or trial.user_attrs.get(OUTCOME) is not None:
            continue  # (a recorded stop is told by mend)
        stub = SimpleNamespace(trial_id=ray_id)  # all the scheduler reads of a Ray trial
        results = _results(folder / f"trial_{ray_id}" / "result.json")
        last: dict = results[-1] if results else {}
        if _judge_journal(scheduler, stub, results) != TrialScheduler.STOP:
            for row in results:  # the steps the journal lost, as they came
                last = row
                if scheduler.on_trial_result(None, stub, row) == TrialScheduler.STOP:
                    break
        scheduler.on_trial_complete(None, stub, last)
        outcome = study._storage.get_trial(trial._trial_id).user_attrs.get(OUTCOME) or {}
        notes.append(
            f"trial #{trial.number} had ended in Ray but not in {study.study_name}'s journal "
            f"(restored from a backup?): ended from its result.json as "
            f"{outcome.get('rule', '?')}"
        )
    return notes


def _judge_journal(scheduler, stub, results: list[dict]) -> str:
    """Judge again the steps the journal kept: ``on_trial_result`` skips them as repeats, so a
    journal that lost only a trial's end (its stop, not its reports) ended a converged or
    overfitting trial as "ended by its trainer before the budget" (a review, 2026-12-07).
    The divergence guard sees their results; the rules see the last step reported."""
    from sweeper.pruning._record import train_key
    from sweeper.tune._scheduler import STEP, _number

    entry = scheduler._entry(stub)
    if entry is None or entry.outcome is not None:
        return TrialScheduler.CONTINUE
    for row in results:
        step = _number(row.get(STEP))
        if step is None or step > entry.last_step:
            continue
        metrics = {k: v for k, v in row.items() if scheduler._guarded(k, v)}
        guard = entry.guard.update(int(step), metrics)
        if guard.reason == Reason.DIVERGED:
            return scheduler._stop(entry, "diverged", guard.message, int(step))
    frozen = scheduler.sweep.study._storage.get_trial(entry.trial_id)
    if not frozen.intermediate_values:
        return TrialScheduler.CONTINUE
    step = max(frozen.intermediate_values)
    train = frozen.system_attrs.get(train_key(step))
    return scheduler._judge(entry, step, frozen.intermediate_values[step], train)
