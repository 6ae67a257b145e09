"""Reading the so-vits-svc ``config.json`` that ``export-best --base`` starts from.

A base so-vits-svc's train.py could not train with is refused in one line naming what is
wrong (a probe, 2026-12-07: a base without ``spk``, or with empty sections, was written out
with at most a caution; a hop_length of ``512.0`` or ``"512"`` skipped the segment checks).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sweeper.errors import InputError

SECTIONS = ("train", "data", "model")
# Keys so-vits-svc 4.1 added to 4.0's config: a 4.0 config lacks them and is still a
# so-vits-svc config (exported with a caution that names them). Every other 4.1 key is in
# 4.0's and 4.1's configs alike: a base lacking one was not written by so-vits-svc.
NEW_IN_41 = {
    "train": frozenset({"all_in_mem", "half_type", "vol_aug"}),
    "data": frozenset({"unit_interpolate_mode"}),
    "model": frozenset(
        {
            "flow_share_parameter", "n_flow_layer", "n_layers_trans_flow", "speaker_embedding",
            "speech_encoder", "use_automatic_f0_prediction", "use_depthwise_conv",
            "use_transformer_flow", "vocoder_name", "vol_embedding",
        }
    ),
}  # fmt: skip
# Counts so-vits-svc slices and indexes with: a float or a string there breaks train.py
# (and hid a segment_size of 3.75 frames from the checks). A base lacking one is refused: the
# export converts segment_size by hop_length and checks n_speakers against spk. Any other
# missing key is a caution only: configs of early 4.0 checkouts lack keys later 4.0 ones
# have (both real configs in the research data lack train.keep_ckpts; refusing every 4.0 key
# refused them).
WHOLE = (("data", "hop_length"), ("train", "segment_size"), ("data", "sampling_rate"),
         ("model", "n_speakers"))  # fmt: skip
FIX = "give the configs/config.json that so-vits-svc's preprocessing wrote"


def read_base(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The base config (whole floats made ints) and notes on what was normalised; a file
    so-vits-svc could not train with is a one-line error naming the keys at fault."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(
            f"cannot read base config {str(path)!r} ({err}); fix: give a so-vits-svc config.json"
        ) from None
    if not isinstance(raw, dict) or not all(isinstance(raw.get(s), dict) for s in SECTIONS):
        raise InputError(
            f"base config {str(path)!r} lacks a train/data/model section (got keys "
            f"{sorted(raw) if isinstance(raw, dict) else type(raw).__name__}); fix: give a "
            "so-vits-svc config.json (configs/config.json of a preprocessed checkout)"
        )
    missing = [f"{s}.{k}" for s, k in WHOLE if k not in raw[s]]
    if "spk" not in raw:  # train.py maps each clip's speaker folder through hps.spk
        missing.append("spk")
    if missing:
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise InputError(
            f"base config {str(path)!r} lacks so-vits-svc key(s) {', '.join(missing[:8])}{more}"
            f" (train.py reads them); fix: {FIX}"
        )
    speakers = raw["spk"]
    if not isinstance(speakers, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in speakers.values()
    ):
        raise InputError(
            f"base config {str(path)!r} has spk {json.dumps(speakers)[:80]}, not a map of "
            f"speaker name to id; fix: {FIX}"
        )
    notes = []
    by_id: dict[int, list[str]] = {}
    for name, sid in speakers.items():
        by_id.setdefault(sid, []).append(name)
    for sid, names in by_id.items():
        if len(names) > 1:  # merging voices can be meant; it is worth a word
            notes.append(
                f"spk gives {', '.join(map(repr, names))} one id ({sid}) in your base: "
                "so-vits-svc trains them as one voice"
            )
    for section, key in WHOLE:
        value = raw[section].get(key)
        whole = _whole(value)
        if whole is None:
            raise InputError(
                f"base config {str(path)!r} has {section}.{key} {value!r}, not a whole number; "
                f"fix: write it as a number without quotes or fraction, e.g. "
                f"{_example(value)}"
            )
        if whole is not value:
            raw[section][key] = whole
            notes.append(f"{section}.{key} {value!r} of your base is written as {whole}")
    return raw, notes


def _whole(value: Any) -> Any:
    """``value`` as an int if it is one (a whole float becomes one), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _example(value: Any) -> str:
    try:
        return str(round(float(value)))
    except (TypeError, ValueError, OverflowError):
        return "512"
