"""What a run tells people about itself: train.log lines, the data it read, what a resume changed.

A resume loads the optimizer and its schedule from the checkpoint (as so-vits-svc does), so a
changed learning rate in the config does nothing; and a best ``val/mel`` measured on other
validation clips is no bar for this run's. Both used to pass in silence.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sweeper.space._fields import dotted
from sweeper.trainers.reference.config import SovitsConfig
from sweeper.trainers.reference.data import speaker_of
from sweeper.trainers.reference.datanotes import content_summary

# Config keys whose new value a resume ignores: the optimizer state and the lr schedule
# come from the checkpoint. (During a warm-up the lr is set from the config each epoch.)
_OPTIMIZER_KEYS = ("train.learning_rate", "train.betas", "train.eps", "train.lr_decay")
_SHOWN = 5  # differing keys named in the note; the rest are counted


class TextLog:
    """so-vits-svc's ``train.log`` line format: time, model name, level, message."""

    def __init__(self, path: Path) -> None:
        self.path, self.name = path, path.parent.name

    def info(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(f"{stamp}\t{self.name}\tINFO\t{message}\n")


def data_summary(cfg: SovitsConfig, train_clips: list, val_clips: list) -> str:
    """One line: clip counts, hours of training audio, speaker ids, the content features."""
    speakers = sorted({clip.sid for clip in [*train_clips, *val_clips]})
    seconds = sum(clip.audio.numel() for clip in train_clips) / cfg.data.sampling_rate
    length = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
    summary = (
        f"data: {len(train_clips)} training clips ({length}), "
        f"{len(val_clips)} validation clips, speaker ids {speakers}"
    )
    summary += _long_clips(cfg, train_clips, val_clips)
    return summary + "; " + content_summary(cfg, [*train_clips, *val_clips])


def shared_clips_note(train_clips: list, val_clips: list) -> str | None:
    """Validation clips that are also training clips (same file): val/mel then measures the
    training fit, and cannot show overfitting."""
    seen = {Path(c.path).resolve() for c in train_clips}
    shared = [c.path for c in val_clips if Path(c.path).resolve() in seen]
    if not shared:
        return None
    return (
        f"{len(shared)} of {len(val_clips)} validation clip(s) are also training clips "
        f"({shared[0]}{' ...' if len(shared) > 1 else ''}): val/mel will not show overfitting; "
        "fix: hold out clips that are not in the training filelist"
    )


SILENT_PEAK = 1e-4  # below -80 dBFS: no signal to learn from


def setting_notes(
    cfg: SovitsConfig, train_clips: list, device_type: str, val_clips: tuple = ()
) -> list[str]:
    """Settings and clips that do less than they seem: fp16 off CUDA, a segment longer than
    clips, silent clips."""
    t, sr, notes = cfg.train, cfg.data.sampling_rate, []
    silent = [c.path for c in [*train_clips, *val_clips] if c.audio.abs().max() < SILENT_PEAK]
    if silent:
        notes.append(
            f"{len(silent)} clip(s) are silent ({silent[0]}{' ...' if len(silent) > 1 else ''}): "
            "their mel sits on the log floor and they teach nothing"
            + (
                # Their log-floor mel is far from any output: in a probe val/mel rose while
                # training improved.
                ", and silent validation clips weigh on val/mel without measuring the voice "
                "(it can rise while training improves)"
                if any(c.audio.abs().max() < SILENT_PEAK for c in val_clips)
                else ""
            )
            + "; fix: remove them from the filelists"
        )
    if t.fp16_run and device_type != "cuda":
        notes.append(
            f"train.fp16_run=True is ignored on {device_type}: autocast is used on CUDA only, "
            "so this run trains in float32 (no speed-up)"
        )
    seg = t.segment_size
    short = [c for c in train_clips if c.audio.numel() < seg]
    if short:
        longest = max(c.audio.numel() for c in train_clips) / sr
        notes.append(
            f"{len(short)} of {len(train_clips)} training clip(s) are shorter than "
            f"train.segment_size={seg} ({seg / sr:.2f} s; longest clip {longest:.2f} s): their "
            "slices are padded with silence, as in so-vits-svc; fix: a smaller segment_size "
            "or longer clips"
        )
    return notes


# so-vits-svc's data guide slices recordings to 5-15 s; well past that a clip is unsliced.
LONG_CLIP_S = 30.0


def _long_clips(cfg: SovitsConfig, train_clips: list, val_clips: list) -> str:
    """A note for clips far longer than so-vits-svc's slices: validation runs each clip
    whole (time and memory grow with its length, the attention's with its square), and
    training sees one ``max_crop_frames`` window of a clip per epoch."""
    notes = []
    for split, clips in (("validation", val_clips), ("training", train_clips)):
        lengths = sorted((c.audio.numel() / cfg.data.sampling_rate, c.path) for c in clips)
        long = [x for x in lengths if x[0] > LONG_CLIP_S]
        if long:
            seconds, path = long[-1]
            notes.append(
                f"{len(long)} {split} clip(s) over {LONG_CLIP_S:.0f} s ({path}: {seconds:.0f} s)"
            )
    if not notes:
        return ""
    return (
        "; " + ", ".join(notes) + ": validation runs whole clips (time and memory grow with "
        "length) and training sees one crop per clip per epoch; fix: slice them to 5-15 s as "
        "so-vits-svc does (audio-slicer)"
    )


def data_fingerprint(train_clips: list, val_clips: list) -> dict[str, dict[str, Any]]:
    """Per split: the clip count and a digest of file names, speakers and lengths.

    File names, not paths, so a data set moved to another folder is still the same data.
    """
    out = {}
    for split, clips in (("train", train_clips), ("val", val_clips)):
        items = sorted(f"{Path(c.path).name}:{c.sid}:{c.audio.numel()}" for c in clips)
        digest = hashlib.sha1("\n".join(items).encode("utf-8")).hexdigest()[:16]
        out[split] = {"clips": len(clips), "digest": digest}
    # The ids the speaker embeddings were trained under: without spk in the config they
    # follow the sorted folder names, so other data renumbers them (speaker_note).
    out["speakers"] = {speaker_of(c.path): c.sid for c in [*train_clips, *val_clips]}
    return out


def speaker_note(saved: Mapping[str, Any] | None, now: Mapping[str, Any]) -> str | None:
    """Name speakers whose id differs from the checkpoint's (None for old checkpoints)."""
    before = saved.get("speakers") if isinstance(saved, Mapping) else None
    if not isinstance(before, Mapping):
        return None
    owner = {sid: name for name, sid in before.items()}
    moved = [
        f"{name!r} {before[name]} -> {sid}" if name in before
        else f"{name!r} takes {sid} (was {owner[sid]!r})"
        for name, sid in sorted(now["speakers"].items())
        if before.get(name, sid) != sid or (name not in before and sid in owner)
    ]  # fmt: skip
    if not moved:
        return None
    shown = ", ".join(moved[:4]) + (f" and {len(moved) - 4} more" if len(moved) > 4 else "")
    kept = ", ".join(f"{name}: {sid}" for name, sid in sorted(before.items(), key=lambda x: x[1]))
    return (
        f"speaker ids differ from the checkpoint's: {shown}; each id's trained embedding now "
        f"learns another voice; fix: resume with the checkpoint's map in the config, spk: "
        f"{{{kept}}} (new speakers after it), or train a new run"
    )


def changed_splits(saved: Mapping[str, Any] | None, now: Mapping[str, Any]) -> list[str]:
    """The splits whose clips differ from the checkpoint's (none for old checkpoints)."""
    if not isinstance(saved, Mapping):
        return []
    return [split for split in ("train", "val") if saved.get(split) != now[split]]


def data_note(saved: Mapping[str, Any], now: Mapping[str, Any], splits: list[str]) -> str:
    """Say which splits changed since the checkpoint, and what that does to the run."""
    names = {"train": "training", "val": "validation"}
    parts = [
        f"{now[s]['clips']} {names[s]} clips (checkpoint: {saved[s]['clips']}"
        + (", other files)" if now[s]["clips"] == saved[s]["clips"] else ")")
        for s in splits
    ]
    note = "resumed on other data than the checkpoint's: " + ", ".join(parts)
    if "val" in splits:
        note += (
            "; the best val/mel so far was measured on other clips, so the best checkpoint "
            "restarts from this run's next validation"
        )
    return note


def config_note(
    saved: Mapping[str, Any] | None, cfg: SovitsConfig, epoch: int, lr_now: float
) -> str | None:
    """Name the config keys that differ from the checkpoint's, or None when none do.

    ``epoch`` is the one the run resumes in, ``lr_now`` the learning rate it resumes at.
    """
    if not isinstance(saved, Mapping):
        return None
    old, new = dotted(saved), dotted(cfg.to_dict())
    changed = [k for k in sorted(new) if k in old and old[k] != new[k]]
    if not changed:
        return None
    shown = [f"{k} {new[k]!r} (checkpoint: {old[k]!r})" for k in changed[:_SHOWN]]
    if len(changed) > _SHOWN:
        shown.append(f"{len(changed) - _SHOWN} more")
    note = "resumed with a config that differs from the checkpoint's: " + ", ".join(shown)
    warming_up = epoch <= cfg.train.warmup_epochs
    ignored = [
        k
        for k in changed
        if k in _OPTIMIZER_KEYS and not (warming_up and k == "train.learning_rate")
    ]
    if ignored:
        verb = "takes" if len(ignored) == 1 else "take"
        note += (
            f"; {', '.join(ignored)} {verb} effect only in a fresh run: the optimizer and its "
            f"schedule resume from the checkpoint (lr now {lr_now:g}), as in so-vits-svc"
        )
    return note
