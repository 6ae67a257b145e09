"""Notes on data that trains but is likely not what the user meant (one line each, with a fix).

Each came from a so-vits-svc-style dataset that trained in silence: a mix of preprocessed
and plain clips, a validation speaker with no training clips, repeated filelist lines, no
voiced validation frame (f0 metrics NaN at every validation), float samples over full scale,
a .soft.pt far from its clip's length, built-in content channels that no FFT bin reaches.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from sweeper.data.features import mel_filterbank
from sweeper.trainers.reference.config import SovitsConfig
from sweeper.trainers.reference.data import Clip, clip_name, speaker_of
from sweeper.trainers.reference.validate import reference_f0


def _some(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def plain_content(cfg: SovitsConfig) -> str:
    """What a clip without so-vits-svc's files gets as content."""
    if cfg.data.content_encoder == "mel":
        return "the built-in log-mel"
    return f"data.content_encoder ({cfg.data.content_encoder.partition(':')[0]})"


def content_summary(cfg: SovitsConfig, clips: list[Clip]) -> str:
    """For the data line: how many clips use which content features."""
    plain = [c for c in clips if not c.preprocessed]
    if not plain:
        return "content: so-vits-svc's .soft.pt files"
    if len(plain) == len(clips):
        text = f"content: {plain_content(cfg)} (no .soft.pt files)"
    else:
        text = (
            f"content: {len(clips) - len(plain)} clip(s) from .soft.pt files, {len(plain)} "
            f"from {plain_content(cfg)} ({_some([clip_name(c.path) for c in plain])})"
        )
    if cfg.data.content_encoder == "mel" and cfg.model.speech_encoder != "mel":
        # The config asks for a so-vits-svc encoder this trainer has no weights for.
        text += (
            ", not model.speech_encoder's units (set data.content_encoder to a ContentVec "
            "export, or preprocess with so-vits-svc)"
        )
    return text


def _mixed_layouts(cfg: SovitsConfig, clips: list[Clip]) -> str | None:
    plain = [clip_name(c.path) for c in clips if not c.preprocessed]
    if not plain or len(plain) == len(clips):
        return None
    return (
        f"{len(plain)} of {len(clips)} clips have no .soft.pt/.f0.npy/.spec.pt ({_some(plain)}) "
        f"while the others do: they get {plain_content(cfg)} content and Praat f0, the others "
        "so-vits-svc's features, and the model learns two kinds of content; fix: re-run "
        "so-vits-svc's preprocess_hubert_f0.py"
    )


def _unseen_speakers(train: list[Clip], val: list[Clip]) -> str | None:
    trained = {c.sid for c in train}
    unseen = sorted({speaker_of(c.path) for c in val if c.sid not in trained})
    if not unseen:
        return None
    return (
        f"validation speaker(s) {_some([repr(s) for s in unseen])} have no training clips: "
        "their speaker embedding is never trained, so their clips keep val/mel high; fix: "
        "move some of their clips to the training filelist, or drop them from validation"
    )


def _repeated(split: str, clips: list[Clip]) -> str | None:
    counts = Counter(c.path for c in clips)
    twice = [f"{clip_name(p)} x{n}" for p, n in counts.items() if n > 1]
    if not twice:
        return None
    return (
        f"the {split} filelist lists {len(twice)} file(s) more than once ({_some(twice)}): "
        f"{len(counts)} different files in {len(clips)} entries, each repeat counted as a "
        "clip; fix: remove the repeated lines"
    )


def _no_voiced_validation(val: list[Clip]) -> str | None:
    if not val or any(reference_f0(c)[1].any() for c in val):
        return None
    return (
        "no validation frame is voiced (by the f0 of the validation clips): val/f0_rmse_cents "
        "and val/f0_gross_error will be NaN at every validation, and only val/vuv_error "
        "measures pitch; fix: hold out clips with singing or speech in them"
    )


def _over_full_scale(clips: list[Clip]) -> str | None:
    hot = [(float(c.audio.abs().max()), clip_name(c.path)) for c in clips]
    hot = sorted((x for x in hot if x[0] > 1.0), reverse=True)
    if not hot:
        return None
    return (
        f"{len(hot)} clip(s) have float samples beyond [-1, 1] ({hot[0][1]}: peak "
        f"{hot[0][0]:.2f}): louder than any 16-bit so-vits-svc data, and their mel is too; "
        "fix: normalise them to [-1, 1]"
    )


UNITS_PER_SECOND = 50.0  # so-vits-svc's encoders: hop 320 at 16 kHz (Whisper-PPG too)


def _odd_unit_counts(cfg: SovitsConfig, clips: list[Clip]) -> str | None:
    odd = []
    for c in clips:
        expected = c.audio.numel() / cfg.data.sampling_rate * UNITS_PER_SECOND
        if c.preprocessed and not expected / 3 <= c.units <= expected * 3:
            odd.append((clip_name(c.path), c.units, expected))
    if not odd:
        return None
    name, units, expected = odd[0]
    return (
        f"{len(odd)} clip(s) have a .soft.pt far from their length at so-vits-svc's "
        f"{UNITS_PER_SECOND:.0f} units/s ({name}: {units} units, about {expected:.0f} "
        "expected): stretched to the clip, it is content of another (or a cut) file; fix: "
        "re-run so-vits-svc's preprocess_hubert_f0.py"
    )


def _dead_content_bands(cfg: SovitsConfig, clips: list[Clip]) -> str | None:
    d, n = cfg.data, cfg.model.ssl_dim
    if cfg.data.content_encoder != "mel" or all(c.preprocessed for c in clips):
        return None
    fmax = float(d.mel_fmax if d.mel_fmax is not None else d.sampling_rate / 2)
    bank = mel_filterbank(d.sampling_rate, d.filter_length, n, 0.0, fmax)
    dead = int(np.count_nonzero(bank.max(axis=1) == 0))
    if not dead:
        return None
    return (
        f"{dead} of the {n} built-in log-mel content channels (model.ssl_dim) reach no FFT bin "
        f"of data.filter_length={d.filter_length}: they sit at log(1e-5) on every frame and "
        "carry nothing; fix: so-vits-svc's .soft.pt files, a ContentVec data.content_encoder, "
        "or a smaller ssl_dim"
    )


def _shared_ids(clips: list[Clip]) -> str | None:
    # spk {alice: 0, bob: 0} trained as one voice in silence (a probe, 2026-12-07); it can
    # be meant (two sessions of one singer), so a note rather than a refusal.
    names: dict[int, set[str]] = {}
    for clip in clips:
        names.setdefault(clip.sid, set()).add(speaker_of(clip.path))
    shared = [f"{' and '.join(map(repr, sorted(n)))} share id {sid}"
              for sid, n in sorted(names.items()) if len(n) > 1]  # fmt: skip
    if not shared:
        return None
    return (
        f"spk gives several speaker folders one id: {_some(shared)}; they train as one voice; "
        "fix: one id per speaker in spk, unless merging them is meant"
    )


def data_notes(cfg: SovitsConfig, train: list[Clip], val: list[Clip]) -> list[str]:
    notes = [
        _shared_ids([*train, *val]),
        _mixed_layouts(cfg, [*train, *val]),
        _unseen_speakers(train, val),
        _repeated("training", train),
        _repeated("validation", val),
        _no_voiced_validation(val),
        _over_full_scale([*train, *val]),
        _odd_unit_counts(cfg, [*train, *val]),
        _dead_content_bands(cfg, [*train, *val]),
    ]
    return [n for n in notes if n is not None]
