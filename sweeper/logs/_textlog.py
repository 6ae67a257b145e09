"""Read so-vits-svc ``train.log`` files (4.0 list lines and 4.1 ``Losses:`` lines, mixed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sweeper.errors import InputError
from sweeper.logs._records import find_record
from sweeper.logs._series import RunLog, Timeline, describe_non_finite, replaced_note
from sweeper.logs._textfile import read_text

# Order of the five losses in both formats, as TensorBoard names them.
LOSS_TAGS = ("loss/d/total", "loss/g/gen", "loss/g/fm", "loss/g/mel", "loss/g/kl")
SHOWN_SKIPPED = 3  # how many unparsed lines a note quotes

_LOSSES_41 = re.compile(
    r"^Losses:\s*\[(?P<losses>[^\]]*)\],\s*step:\s*(?P<step>[^,\s]+),\s*lr:\s*(?P<lr>[^,\s]+)"
    # Edited copies add fields after it, lists and dicts too: ignored, commas and all.
    r"(?P<ref>,\s*reference_loss:\s*[^,\s]+)?(?:,\s*\w+:.*)?$"
)
_CHECKPOINT = re.compile(r"G_(\d+)\.pth")
# Edited train.py copies that log the tensors themselves: ``tensor(2.5, device='cuda:0')``,
# or numpy scalars as numpy 2 prints them: ``np.float32(2.5)``.
_TENSOR = re.compile(r"(?:tensor|(?:np|numpy)\.\w+)\(\s*([^,()]+?)\s*(?:,[^()]*)?\)")
@dataclass(frozen=True)
class _Point:
    step: int
    losses: tuple[float, ...]
    lr: float
    fmt: str  # "4.0" or "4.1"
    extra: int = 0  # values beyond the five losses (forks that log more), ignored
    # A 4.0 list with extra values names no kl: Nyaru-SVC logs [disc, gen, fm, mel, dur, kl,
    # step, lr], other forks add terms after kl; the total sums every generator term.
    total: float | None = None


class _LineError(ValueError):
    """A line that looks like a loss line but cannot be read."""


def read_train_log(path: str | Path) -> RunLog:
    """Read a so-vits-svc ``train.log`` into series named like the TensorBoard tags.

    Loss lines map to ``loss/d/total``, ``loss/g/gen``, ``loss/g/fm``, ``loss/g/mel`` (already
    times ``c_mel``), ``loss/g/kl`` and ``learning_rate``; ``loss/g/total`` is derived as
    gen + fm + mel + kl. A repeated hparams line, or steps going back, marks a restart: later
    values replace earlier ones from the repeated step on. NaN and inf are kept.

    Raises:
        InputError: the file is missing, empty, or holds no loss line.
    """
    path = Path(path)
    text = read_text(path)
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # classic Mac OS line endings
    lines = text.split("\n")
    complete = text.endswith("\n")
    if complete:
        lines.pop()  # the empty string after the final newline

    timelines = {tag: Timeline() for tag in (*LOSS_TAGS, "loss/g/total", "learning_rate")}
    hparams_lines: list[int] = []
    interval = None  # the config line's log_interval
    skipped: list[tuple[int, str]] = []
    first_broken: tuple[int, str] | None = None  # the first loss line that did not read, why
    previous: _Point | None = None
    repeated = 0
    formats: set[str] = set()
    saved: set[int] = set()
    restarts = implicit = 0
    restart_pending = False
    notes: list[str] = []
    extra_lines = unplaced = bare = 0
    bare_ok: bool | None = None  # no line has a logging prefix: found when first needed
    for number, raw in enumerate(lines, start=1):
        line, message = find_record(raw)  # prefixes, colours and progress bars taken off
        is_last_partial = number == len(lines) and not complete
        if message is None and line.startswith("Losses: ["):
            # Lines cut from a log lose their prefix; in a log with prefixes, a bare one is
            # printed text (a traceback's), not a record.
            if bare_ok is None:
                bare_ok = not any(find_record(other)[1] is not None for other in lines)
            if bare_ok:
                message, bare = line.strip(), bare + 1
        if message is None:
            if line.strip() and not is_last_partial:
                skipped.append((number, line))
            elif line.strip():
                notes.append(f"the last line ({number}) is incomplete and was ignored")
            continue
        if message.startswith("{") and "'train'" in message:
            hparams_lines.append(number)
            interval = re.search(r"'log_interval': (\d+)", message)
            if len(hparams_lines) > 1:
                restarts += 1
                restart_pending = True
            continue
        _track_checkpoints(message, saved)
        try:
            point = _parse_loss(message, partial=is_last_partial)
        except _LineError as err:
            if first_broken is None and not is_last_partial:
                first_broken = (number, str(err))
            if is_last_partial:
                notes.append(f"the last line ({number}) is incomplete and was ignored")
            else:
                skipped.append((number, line))
            continue
        if point is None:
            continue
        formats.add(point.fmt)
        if point == previous:  # the same record twice: a second handler on the logger
            repeated += 1
            continue
        previous = point
        extra_lines += point.extra > 0 and point.total is None
        unplaced += point.total is not None
        went_back = _add_point(timelines, point)
        if went_back and not restart_pending:
            implicit += 1
        restart_pending = False

    # A tag no line could place (kl in lists longer than 4.0's) is left out, not empty.
    series = {tag: t.series() for tag, t in timelines.items() if t.last_step is not None}
    n_points = len(series["loss/g/mel"]) if "loss/g/mel" in series else 0
    if n_points == 0:
        unread = ""
        if skipped:
            number, first = skipped[0]
            example = f"e.g. line {number}: {_clip(first)!r}"
            unread = f" ({len(skipped)} line(s) do not parse, {example})"
        if first_broken is not None:
            unread += f"; line {first_broken[0]} looks like a loss line but: {first_broken[1]}"
        loss_like = any("Losses" in line or line.lstrip().startswith("[") for _, line in skipped)
        started = hparams_lines and len(lines) - hparams_lines[-1] <= 20
        if started and first_broken is None and not loss_like:
            # A run that has only started: its config line, maybe "Loaded checkpoint".
            every = f" ({interval.group(1)} in its config)" if interval is not None else ""
            raise InputError(
                f"{path} is a so-vits-svc train.log that has logged no loss line yet: training "
                f"logs one every train.log_interval steps{every}; run diagnose again once it has"
            )
        if skipped and skipped[0][1].startswith("["):
            unread += (
                "; the lines lack the logging prefix ('<time>\\t44k\\tINFO\\t') that marks "
                "so-vits-svc's own lines: pass train.log itself, not lines cut from it"
            )
        raise InputError(
            f"no loss lines found in {path}{unread}; expected a so-vits-svc train.log "
            "(4.0 '[disc, gen, fm, mel, kl, step, lr]' or 4.1 'Losses: [...], step: S, lr: LR' "
            "lines) or a TensorBoard events file"
        )
    overwritten = max(t.overwritten for t in timelines.values())
    steps = series["loss/g/mel"].steps
    fmt = " and ".join(sorted(formats))
    head = [
        f"read {n_points} loss points (so-vits-svc {fmt} text log), steps "
        f"{int(steps[0])}..{int(steps[-1])}, from {path}"
    ]
    head.append(
        "loss/g/total is derived from the text log as gen + fm + mel + kl"
        f"{' (+ the extra terms of longer lists)' if unplaced else ''}; it lacks lf0, "
        "which so-vits-svc 4.1 adds to its TensorBoard loss/g/total"
    )
    if restarts + implicit > 0:
        replaced = replaced_note(timelines.values())
        head.append(_restart_note(restarts, implicit, hparams_lines[1:], replaced))
    if repeated > 0:
        head.append(
            f"{repeated} loss line(s) repeated the line before them exactly (two log handlers?) "
            "and were read once"
        )
    if extra_lines > 0:
        head.append(
            f"{extra_lines} loss line(s) held more than the five so-vits-svc losses; the first "
            "five were read as disc, gen, fm, mel, kl and the rest ignored"
        )
    if unplaced > 0:
        head.append(
            f"{unplaced} loss list(s) held more than 4.0's 7 values (Nyaru-SVC logs dur before "
            "kl, other forks add terms after it): disc, gen, fm and mel were read from the "
            "first four, loss/g/total as the sum of all but disc, step and lr; loss/g/kl was "
            "not read, its place in the list being unknown"
        )
    if bare > 0:
        head.append(
            f"{bare} 'Losses:' line(s) had no logging prefix (time, model, INFO) and were "
            "read as they are"
        )
    if skipped:
        shown = "; ".join(f"line {n}: {_clip(t)!r}" for n, t in skipped[:SHOWN_SKIPPED])
        more = f" (first {SHOWN_SKIPPED} shown)" if len(skipped) > SHOWN_SKIPPED else ""
        head.append(f"{len(skipped)} line(s) skipped because they do not parse{more}: {shown}")
        if first_broken is not None:
            head.append(f"line {first_broken[0]} looks like a loss line but: {first_broken[1]}")
    return RunLog(
        source=path,
        series=series,
        notes=head + notes + describe_non_finite(series),
        logged_checkpoints=tuple(sorted(saved)),
        restarts=restarts + implicit,
        overwritten=overwritten,
    )


def _message(line: str) -> str | None:
    """The logging message of one line, or None (kept for sweeper.trainers' live follower)."""
    return find_record(line)[1]


def _parse_loss(message: str, *, partial: bool) -> _Point | None:
    """A loss point, None for other messages; raise _LineError for a broken loss line."""
    if "(" in message:
        message = _TENSOR.sub(r"\1", message)
    if message.startswith("Losses:"):
        match = _LOSSES_41.match(message)
        # A cut-off last line may still match with a clipped lr: demand its final field.
        if match is None or (partial and match.group("ref") is None):
            raise _LineError("not 'Losses: [...], step: S, lr: LR'")
        losses = _numbers(match.group("losses"))
        if len(losses) < len(LOSS_TAGS):
            raise _LineError(f"{len(losses)} losses where so-vits-svc logs 5 (disc..kl)")
        step = _as_step(_number(match.group("step")))
        extra = len(losses) - len(LOSS_TAGS)
        return _Point(step, losses[: len(LOSS_TAGS)], _number(match.group("lr")), "4.1", extra)
    if message.startswith("["):
        if not message.endswith("]"):
            raise _LineError("the list is not closed")
        items = _numbers(message[1:-1])
        if len(items) < len(LOSS_TAGS) + 2:
            raise _LineError(
                f"{len(items)} values where a so-vits-svc 4.0 line has 7 (5 losses, step, lr)"
            )
        # Step and lr close the list; a fork's extra losses sit before them, where is unknown.
        extra = len(items) - len(LOSS_TAGS) - 2
        total = sum(items[1:-2]) if extra > 0 else None
        return _Point(_as_step(items[-2]), items[: len(LOSS_TAGS)], items[-1], "4.0", extra, total)
    return None


def _numbers(text: str) -> tuple[float, ...]:
    return tuple(_number(item) for item in text.split(","))


def _number(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise _LineError(f"{_clip(text.strip(), 20)!r} is not a number") from None


def _as_step(value: float) -> int:
    if not value.is_integer() or value < 0:
        raise _LineError(f"step {value!r} is not a whole number >= 0")
    return int(value)


def _add_point(timelines: dict[str, Timeline], point: _Point) -> bool:
    went_back = False
    placed = LOSS_TAGS if point.total is None else LOSS_TAGS[:4]  # no kl in a longer list
    for tag, value in zip(placed, point.losses, strict=False):
        went_back = timelines[tag].add(point.step, value)
    gen, fm, mel, kl = point.losses[1:]
    # lf0 is not in the text log, so this total is what TensorBoard's would be without it.
    total = gen + fm + mel + kl if point.total is None else point.total
    timelines["loss/g/total"].add(point.step, total)
    timelines["learning_rate"].add(point.step, point.lr)
    return went_back


def _track_checkpoints(message: str, saved: set[int]) -> None:
    match = _CHECKPOINT.search(message)
    if match is None:
        return
    if message.startswith("Saving model"):
        saved.add(int(match.group(1)))
    elif "deleting ckpt" in message:
        saved.discard(int(match.group(1)))


def _restart_note(restarts: int, implicit: int, lines: list[int], replaced: str) -> str:
    parts = []
    if restarts > 0:
        where = ", ".join(str(n) for n in lines[:8]) + (", ..." if len(lines) > 8 else "")
        parts.append(f"{restarts} restart(s) (hparams logged again at line(s) {where})")
    if implicit > 0:
        parts.append(f"{implicit} time(s) steps went back without a restart being logged")
    return "; ".join([*parts, replaced])


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
