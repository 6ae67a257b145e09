"""Which checkpoint to keep: the saved one nearest the best step, never one saved broken."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sweeper.logs import RunLog

# Best at step 0 and no later checkpoint known: G_0 is the untrained (or base) model.
_AFTER_START = "the earliest G_<step>.pth saved after the start, if any (none is known)"
_PER_LOG = " (saved per train.log)"


@dataclass(frozen=True)
class Pick:
    """The checkpoint advised, for JSON: its step, its file relative to the logs (``best/``
    for a trial's kept best), and whether the folder listing shows it (False: only
    train.log's save lines name it)."""

    step: int
    file: str
    on_disk: bool


def listed(run: RunLog) -> bool:
    """The folder beside the logs was listed and holds G_*.pth files (G_0 included, which
    so-vits-svc never deletes): then it, not train.log's save lines, says what is kept.
    Users delete old checkpoints by hand, and 4.0 without keep_ckpts logs no deletion."""
    return bool(run.checkpoints or run.kept_best)


def _saved(run: RunLog) -> list[dict[int, Pick]]:
    """Files on disk (with a trial's kept best); train.log's save lines only with no listing."""
    present = {s: Pick(s, f"{run.checkpoint_dir}G_{s}.pth", True) for s in run.checkpoints}
    present.update({s: Pick(s, f"{run.best_dir}/G_{s}.pth", True) for s in run.kept_best})
    if listed(run):
        return [present]
    return [{s: Pick(s, f"G_{s}.pth", False) for s in run.logged_checkpoints}]


def pick(
    best_step: int, run: RunLog, unusable_from: int | None = None
) -> tuple[Pick, bool] | None:
    """(the kept G_<step>.pth nearest best_step, saved after it); None if none is known.

    Checkpoints saved at or after ``unusable_from`` (a divergence) are never advised: their
    weights are NaN or blown up. G_0 never is: it is the untrained (or pretrained base) model,
    which so-vits-svc never deletes.
    """
    for saved in _saved(run):
        kept = [s for s in saved if s > 0 and (unusable_from is None or s < unusable_from)]
        before = max((s for s in kept if s <= best_step), default=None)
        after = min((s for s in kept if s > best_step), default=None)
        if before is not None and (
            after is None or _before_first(before, after, best_step, run.save_every, kept)
        ):
            return saved[before], False
        if after is not None:
            return saved[after], True
    return None


def _before_first(
    before: int, after: int, best_step: int, every: int | None, kept: list[int]
) -> bool:
    """Whether the kept checkpoint before the best is advised over the one after it.

    The save just before the best (within a save interval ``every``; unknown: the kept
    files' spacing) is: after the best a model may already overfit. Further back, the
    nearer one (the one before on a tie): until 2026-12-07 always the one before, G_10000
    (a copy kept by hand, 30 % worse) for a best at 37800 beside G_38400 (a probe).
    """
    if every is None:
        every = min((b - a for a, b in itertools.pairwise(sorted(kept)) if b > a), default=None)
    if every is not None and best_step - before < every:
        return True
    return best_step - before <= after - best_step


def find(
    best_step: int, run: RunLog, unusable_from: int | None = None
) -> tuple[str, bool] | None:
    """(file in words, saved after best_step) of :func:`pick`."""
    found = pick(best_step, run, unusable_from)
    if found is None:
        return None
    chosen, after = found
    return chosen.file + ("" if chosen.on_disk else _PER_LOG), after


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
    """The saved checkpoint nearest ``best_step`` (never G_0; before it on a tie), in words.

    None when ``best_step`` is None, when every kept checkpoint was saved at or after
    ``unusable_from`` (:func:`unusable` says so then), or when the folder listing shows no
    usable one (:func:`none_kept`).
    """
    if best_step is None:
        return None
    if run.checkpoint_unit == "epoch":
        if best_step == 0:
            return _AFTER_START
        return f"the checkpoint saved last at or before step {best_step}"
    found = pick(best_step, run, unusable_from)
    if found is not None:
        chosen, after = found
        name = chosen.file + ("" if chosen.on_disk else _PER_LOG)
        if after:
            return f"{name}, the earliest kept after step {best_step}"
        # Saved a save interval or more before the best (config.json's eval_interval: the
        # nearer ones were not kept): say so, as after it ("best so far at step 45; keep
        # ../../best/G_10.pth" read as a slip). Interval unknown: the usual nearest-before.
        every = run.save_every
        if every is not None and best_step - chosen.step >= every:
            return f"{name}, the latest kept before step {best_step}"
        return name
    if listed(run) or (unusable_from is not None and kept_from(run, unusable_from)):
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


def advise(
    best_step: int | None, run: RunLog, unusable_from: int | None = None, say_best: bool = False
) -> tuple[str | None, str | None, Pick | None]:
    """(checkpoint in words, the line's clause, the file picked) for ``best_step``."""
    checkpoint = checkpoint_for(best_step, run, unusable_from)
    if best_step is None:
        return None, None, None
    if checkpoint is not None:
        found = pick(best_step, run, unusable_from) if run.checkpoint_unit == "step" else None
        return checkpoint, f"keep {checkpoint}", None if found is None else found[0]
    if unusable_from is not None and kept_from(run, unusable_from):
        return None, unusable(run, unusable_from, best_step, say_best), None
    if listed(run):
        return None, none_kept(run, best_step, unusable_from), None
    return None, None, None


def _gone(run: RunLog, best_step: int, unusable_from: int | None) -> str:
    """A clause naming the file train.log saved near the best that the listing lacks."""
    logged = RunLog(run.source, logged_checkpoints=run.logged_checkpoints)
    found = find(best_step, logged, unusable_from)
    if found is None:
        return ""
    name = found[0].removesuffix(_PER_LOG)
    return f"; {name}, saved per train.log, is gone"


def none_kept(run: RunLog, best_step: int, unusable_from: int | None = None) -> str:
    """Advice when the folder holds no checkpoint to keep but G_0 (the base model)."""
    return (
        "none of the kept checkpoints is usable: beside the logs there is no G_<step>.pth "
        f"but G_0.pth (the base model){_gone(run, best_step, unusable_from)}; train again "
        f"to about step {best_step} (keep_ckpts: 0 keeps every checkpoint)"
    )


def unusable(run: RunLog, since: int, best_step: int | None = None, say_best: bool = False) -> str:
    """Advice when every kept checkpoint was saved at or after a divergence at ``since``;
    ``say_best`` for a line that does not name the best step already (a NaN tail's)."""
    best = f"; the best was at step {best_step}" if say_best and best_step is not None else ""
    gone = "" if best_step is None or not listed(run) else _gone(run, best_step, since)
    return (
        f"none of the kept checkpoints is usable: {span(kept_from(run, since))} were saved at "
        f"or after step {since}, when training diverged{best}{gone}; resume from a "
        "G_<step>.pth saved before it if you copied one elsewhere, else train again "
        "(keep_ckpts: 0 keeps every checkpoint)"
    )
