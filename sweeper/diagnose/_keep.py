"""Which checkpoint to keep: the saved one nearest the best step, never one saved broken."""

from __future__ import annotations

from sweeper.logs import RunLog

# Best at step 0 and no later checkpoint known: G_0 is the untrained (or base) model.
_AFTER_START = "the earliest G_<step>.pth saved after the start, if any (none is known)"


def _saved(run: RunLog) -> list[dict[int, str]]:
    """Files on disk (with a trial's kept best), then files train.log says were saved."""
    present = {s: f"G_{s}.pth" for s in run.checkpoints}
    present.update({s: f"{run.best_dir}/G_{s}.pth" for s in run.kept_best})
    logged = {s: f"G_{s}.pth (saved per train.log)" for s in run.logged_checkpoints}
    return [present, logged]


def find(
    best_step: int, run: RunLog, unusable_from: int | None = None
) -> tuple[str, bool] | None:
    """(file, saved after best_step) for the kept G_<step>.pth to advise; None if none known.

    Checkpoints saved at or after ``unusable_from`` (a divergence) are never advised: their
    weights are NaN or blown up. G_0 never is: it is the untrained (or pretrained base) model,
    which so-vits-svc never deletes.
    """
    for saved in _saved(run):
        kept = [s for s in saved if s > 0 and (unusable_from is None or s < unusable_from)]
        before = [step for step in kept if step <= best_step]
        if before:
            return saved[max(before)], False
        if kept:
            return saved[min(kept)], True
    return None


def kept_from(run: RunLog, step: int) -> list[int]:
    """Steps of the kept checkpoints (G_0 aside) saved at or after ``step``, of the first
    source that knows any (files on disk, else train.log's save lines)."""
    for saved in _saved(run):
        if any(s > 0 for s in saved):
            return sorted(s for s in saved if s >= step and s > 0)
    return []


def span(steps: list[int]) -> str:
    """``G_28000.pth`` or ``G_28000.pth to G_29600.pth``."""
    if len(steps) == 1:
        return f"G_{steps[0]}.pth"
    return f"G_{steps[0]}.pth to G_{steps[-1]}.pth"


def checkpoint_for(
    best_step: int | None, run: RunLog, unusable_from: int | None = None
) -> str | None:
    """The saved checkpoint nearest at or before ``best_step`` (never G_0), in plain words.

    None when ``best_step`` is None, or when every kept checkpoint was saved at or after
    ``unusable_from`` (:func:`unusable` says so then).
    """
    if best_step is None:
        return None
    if run.checkpoint_unit == "epoch":
        if best_step == 0:
            return _AFTER_START
        return f"the checkpoint saved last at or before step {best_step}"
    found = find(best_step, run, unusable_from)
    if found is not None:
        name, after = found
        return f"{name}, the earliest kept after step {best_step}" if after else name
    if unusable_from is not None and kept_from(run, unusable_from):
        return None
    # Checkpoints fall every eval_interval steps, the best step on a logged (or span) step:
    # a G_<best>.pth rarely exists, so name the one that would hold it.
    every = run.save_every
    if every is not None and best_step >= every:
        saved = best_step // every * every
        return f"G_{saved}.pth if saved (none is known; config.json saves every {every} steps)"
    if best_step == 0 or (every is not None and best_step < every):
        return _AFTER_START
    return f"the G_<step>.pth saved last at or before step {best_step}, if any (none is known)"


def unusable(run: RunLog, since: int) -> str:
    """Advice when every kept checkpoint was saved at or after a divergence at ``since``."""
    return (
        f"none of the kept checkpoints is usable: {span(kept_from(run, since))} were saved at "
        f"or after step {since}, when training diverged; resume from a G_<step>.pth saved "
        "before it if you copied one elsewhere, else train again (keep_ckpts: 0 keeps every "
        "checkpoint)"
    )
