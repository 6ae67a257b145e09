"""Checks before a sweep starts or resumes: what the trainer would refuse, Ray's run state."""

from __future__ import annotations

import json
from pathlib import Path

from sweeper.config import SweepConfig
from sweeper.errors import InputError


def check_keys(cfg: SweepConfig) -> None:
    """Parameters the trainer does not know, and values it would refuse: before Ray starts."""
    from sweeper.space import check_keys as space_keys
    from sweeper.space._space import DATASET_KNOBS

    if cfg.trainer == "reference":
        from sweeper.trainers.reference.sweep import check_values, known_keys

        space_keys(cfg.parameters, known_keys() | set(DATASET_KNOBS))
        check_values(cfg.parameters, cfg.base.preset or str(cfg.base.config))
    elif cfg.trainer == "sovits-svc" and cfg.base.config is not None:
        # A bad key fails here, before any GPU time is spent (each trial checks it again).
        from sweeper.trainers.sovits_svc import check_keys as sovits_keys

        base = json.loads(Path(cfg.base.config).read_text(encoding="utf-8"))
        sovits_keys(cfg.parameters.params, base)


def check_run_state(folder: Path) -> None:
    """Ray's run state must be readable: without it Ray prints a traceback and starts the
    trials over, beyond ``num_trials`` (a 13th trial of 12 ran)."""
    states = sorted(folder.glob("experiment_state-*.json"))
    try:
        json.loads(states[-1].read_text(encoding="utf-8")) if states else None
    except (OSError, ValueError):
        states = []
    if not states:
        raise InputError(
            f"{str(folder)!r} has no readable Ray run state (experiment_state-*.json missing or "
            "damaged), so resume would start the trials over; fix: restore that file, or keep "
            "the finished trials as they are (status, summarize and export-best read them) "
            "and `sweeper run` its sweep.yaml as a new sweep (--name NAME-2)"
        )
