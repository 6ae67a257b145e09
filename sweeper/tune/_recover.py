"""What a driver killed at the wrong moment leaves in a sweep folder, found and mended
before ``sweeper resume`` goes on (a torn journal: :mod:`._journal`).

- A trial the study asked for after Ray's last snapshot: Ray never hears of it again, so it
  stayed RUNNING for ever (num_trials + 1 trials, its configuration never trained).
- A stop recorded (``outcome``) but not yet told to Optuna: RUNNING for ever, unranked.
- A start killed before any trial ran: neither resumable nor runnable again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optuna.trial import TrialState

from sweeper.errors import InputError
from sweeper.tune._study import JOURNAL, OUTCOME, RAY_ID, REUSE, Outcome, SweepStudy
from sweeper.tune._undo import journal_has_trials


def never_started(folder: Path) -> bool:
    """A sweep folder whose driver was killed before any trial ran or Ray saved its state."""
    return (
        not any(folder.glob("trial_*"))
        and not any(folder.glob("experiment_state-*.json"))
        and not journal_has_trials(folder / JOURNAL)
    )


def not_started_error(folder: Path, meta: dict[str, Any]) -> InputError:
    source, cwd = meta.get("source", "SPACE.yaml"), meta.get("cwd", ".")
    return InputError(
        f"no trial of {str(folder)!r} ever started (its driver was stopped as it started); "
        f"fix: run it again (in {cwd}): `sweeper run {source} --name {folder.name} --storage "
        f"{folder.parent}` starts over in this folder"
    )


def ray_trial_ids(folder: Path) -> set[str] | None:
    """The Ray trials of the newest run state Ray saved (None: unreadable)."""
    states = sorted(folder.glob("experiment_state-*.json"))
    try:
        data = json.loads(states[-1].read_text(encoding="utf-8"))
        return {json.loads(entry[0])["trial_id"] for entry in data["trial_data"]}
    except (IndexError, OSError, ValueError, KeyError, TypeError):
        return None


def mend(sweep: SweepStudy, known: set[str] | None) -> list[str]:
    """Before a resume: tell Optuna every stop recorded but not told; a trial the study asked
    for that Ray's state does not know is handed to the next new Ray trial when it never
    reported (``ask`` reuses it: num_trials holds and its sampled configuration is trained),
    and ended as FAIL when it did. Returns notes for the user."""
    notes = []
    study = sweep.study
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        recorded = trial.user_attrs.get(OUTCOME)
        if recorded is not None:
            sweep.tell(trial._trial_id, Outcome(**recorded))
            notes.append(f"trial #{trial.number} ended as recorded ({recorded['rule']})")
            continue
        if known is None or trial.user_attrs.get(RAY_ID) in known:
            continue
        if trial.intermediate_values:
            lost = "its driver died before Ray recorded it; its checkpoints are not known"
            sweep.tell(trial._trial_id, Outcome("error", lost, max(trial.intermediate_values)))
            notes.append(f"trial #{trial.number}: {lost} (FAIL)")
        elif not trial.user_attrs.get(REUSE):
            sweep.set_attr(trial._trial_id, REUSE, True)
            notes.append(
                f"trial #{trial.number} was asked for as the driver died: the next new trial "
                "trains its configuration"
            )
    return notes
