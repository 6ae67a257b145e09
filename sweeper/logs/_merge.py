"""One run from a folder holding both a train.log and TensorBoard event files.

TensorBoard's scalars win tag by tag (the real loss/g/total holds lf0, the text log's lacks
it), but its writer flushes every 120 s or so: a killed or still running trainer's event
files end before its train.log. The text log's later points then extend each tag whose
values both logs agree on where they share steps (the same run, read twice).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sweeper.logs._series import RunLog, Series

# Shared steps compared before the text log's later points extend a tag: the last ones,
# where the two logs would part first if they were different runs.
_COMPARED = 20
# TensorBoard stores float32 and train.log prints Python floats: they agree to ~1e-7.
_RTOL = 1e-4


def last_step(run: RunLog) -> int:
    return max((int(series.steps[-1]) for series in run.series.values() if len(series)), default=0)


def merge(folder: Path, tensorboard: RunLog, text: RunLog) -> RunLog:
    """TensorBoard scalars win tag by tag; the text log fills the tags TensorBoard lacks and
    extends the ones it agrees with past the event files' end."""
    only_text = sorted(set(text.series) - set(tensorboard.series))
    series = {**{tag: text.series[tag] for tag in only_text}, **tensorboard.series}
    merged_note = "TensorBoard scalars used where both logs hold a tag"
    if only_text:
        merged_note += f"; from train.log only: {', '.join(only_text)}"
    extended, differ = [], []
    for tag in sorted(set(text.series) & set(tensorboard.series)):
        tb, log = tensorboard.series[tag], text.series[tag]
        if len(tb) == 0 or len(log) == 0 or log.steps[-1] <= tb.steps[-1]:
            continue
        longer = _extend(tb, log)
        if longer is None:
            differ.append(tag)
        else:
            series[tag] = longer
            extended.append(tag)
    text_end, tb_end = last_step(text), last_step(tensorboard)
    if extended:
        merged_note += (
            f"; train.log goes on to step {text_end}, the event files end at step {tb_end} "
            "(TensorBoard flushes every 2 minutes or so: a killed or live run's events lag), "
            f"so train.log's later points were added to {', '.join(extended)}, where both "
            "logs agree on the steps they share"
        )
        if differ:
            merged_note += f"; not to {', '.join(differ)}: there the two logs' values differ"
    elif differ or min(tb_end, text_end) < 0.9 * max(tb_end, text_end):
        merged_note += (
            f"; but train.log ends at step {text_end} and the event files at step "
            f"{tb_end}: they may be different runs (so-vits-svc appends to "
            "train.log); pass one of them to judge it alone"
        )
    return RunLog(
        source=folder,
        series=dict(sorted(series.items())),
        notes=[*tensorboard.notes, *_text_notes(text, tensorboard), merged_note],
        logged_checkpoints=text.logged_checkpoints,
        restarts=max(tensorboard.restarts, text.restarts),
        overwritten=max(tensorboard.overwritten, text.overwritten),
    )


def _extend(tb: Series, log: Series) -> Series | None:
    """TensorBoard's points, then the text log's after them; None unless both hold the same
    values on the last steps they share (NaN where the other has NaN)."""
    _, at_tb, at_log = np.intersect1d(tb.steps, log.steps, return_indices=True)
    if at_tb.size == 0:
        return None  # nothing shared: no telling whether they are one run
    a, b = tb.values[at_tb][-_COMPARED:], log.values[at_log][-_COMPARED:]
    finite = np.isfinite(a)
    if not np.array_equal(finite, np.isfinite(b)):
        return None
    if not np.allclose(a[finite], b[finite], rtol=_RTOL, atol=1e-6):
        return None
    later = log.steps > tb.steps[-1]
    return Series(np.r_[tb.steps, log.steps[later]], np.r_[tb.values, log.values[later]])


def _text_notes(text: RunLog, tensorboard: RunLog) -> list[str]:
    # The derived-total caveat is moot when TensorBoard supplies the real loss/g/total.
    moot = "loss/g/total is derived" if "loss/g/total" in tensorboard.series else None
    return [note for note in text.notes if moot is None or not note.startswith(moot)]
