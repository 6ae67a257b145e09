"""Undo a sweep start that failed before any trial ran, so that the fixed file can be run
again under the same name (it used to be refused as "already holds a sweep")."""

from __future__ import annotations

import shutil
from pathlib import Path

from sweeper.tune._study import JOURNAL


def journal_has_trials(path: Path) -> bool:
    """Whether the journal records a trial that started (grid points only enqueued at the
    study's creation do not count). Unreadable: assume it does, and keep it."""
    if not path.is_file():
        return False
    try:
        from optuna.storages.journal import JournalFileBackend, JournalStorage
        from optuna.trial import TrialState

        storage = JournalStorage(JournalFileBackend(str(path)))
        for study in storage.get_all_studies():
            trials = storage.get_all_trials(study._study_id, deepcopy=False)
            if any(t.state != TrialState.WAITING for t in trials):
                return True
        return False
    except (OSError, ValueError, KeyError):
        return True


def undo_start(folder: Path, existed: bool, journal_existed: bool, files: tuple[str, ...]):
    """Remove what this start wrote into ``folder``; nothing at all if a trial ran there.

    Args:
        existed: whether the folder was there before the start (then only ``files`` and a
            journal this start created go; otherwise the folder goes).
        journal_existed: whether ``folder/study.journal`` was there before the start.
        files: the file names this start wrote (sweep.yaml, sweep.json).
    """
    if any(folder.glob("trial_*")) or journal_has_trials(folder / JOURNAL):
        return  # never delete a trial, or a journal that saw one
    if not existed:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for name in files:
        (folder / name).unlink(missing_ok=True)
    if not journal_existed:
        (folder / JOURNAL).unlink(missing_ok=True)
