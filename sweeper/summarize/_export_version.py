"""Which so-vits-svc a ``--base`` config is for, and what export-best says of the keys it lacks.

so-vits-svc 4.1's preprocessing always writes ``model.speech_encoder`` (it picks the encoder);
4.0's config has no such key (both real users' configs in the research data are 4.0 ones).
A 4.0 base is written as a 4.0 config, for 4.0's train.py: the keys 4.1 added are neither
added nor asked for (a probe, 2026-12-07: both real 4.0 configs were told "train.py reads
them; start --base from the configs/config.json preprocessing wrote", which is what they
are), and a searched 4.1-only parameter is left out, since 4.0's train.py would not read it.
"""

from __future__ import annotations

from typing import Any

from sweeper.summarize.export_base import NEW_IN_41, SECTIONS
from sweeper.trainers.sovits_svc.keys import SOVITS_KEYS

# In 4.0's template only from a later 4.0 checkout on: the two real (early 4.0) configs lack
# it, and their train.py trained without it.
LATE_40 = {"train.keep_ckpts"}
NEW_41 = {f"{section}.{key}" for section, keys in NEW_IN_41.items() for key in keys}
MARK = ("model", "speech_encoder")  # written by every 4.1 preprocessing, by no 4.0 one


def is_40(base: dict[str, Any] | None) -> bool:
    """``base`` is a so-vits-svc 4.0 config (no ``model.speech_encoder``)."""
    if base is None:
        return False
    section = base.get(MARK[0])
    return isinstance(section, dict) and MARK[1] not in section


def dropped_for_40(name: str, base: dict[str, Any] | None) -> str | None:
    """Why a searched ``name`` is left out of a 4.0 base's file, or None to write it."""
    section, _, key = name.partition(".")
    if not is_40(base) or name not in NEW_41 or key in (base or {}).get(section, {}):
        return None
    return "a so-vits-svc 4.1 key: your base is a 4.0 config, and 4.0's train.py does not read it"


def lacking_notes(written: dict[str, Any], base: dict[str, Any]) -> tuple[str, ...]:
    """Cautions on the so-vits-svc keys ``written`` (the file, from ``base``) lacks: only the
    keys the base's own so-vits-svc version reads ask the user to start over."""
    lacking = [f"{s}.{k}" for s in SECTIONS for k in sorted(SOVITS_KEYS[s]) if k not in written[s]]
    if not lacking:
        return ()
    if not is_40(base):
        return (
            f"your base lacks {len(lacking)} so-vits-svc 4.1 key(s) ({_list(lacking)}): 4.1's "
            "train.py reads them; start --base from the configs/config.json preprocessing wrote",
        )
    later = [k for k in lacking if k in NEW_41 or k in LATE_40]
    read = [k for k in lacking if k not in later]
    later.sort(key=lambda k: k not in LATE_40)  # the 4.0 one first: it is the one to know
    shown = [f"{k} (later 4.0 checkouts read it; their preprocessing writes it)"
             if k in LATE_40 else k for k in later]  # fmt: skip
    notes = [
        "so-vits-svc 4.0 base (no model.speech_encoder): written as a 4.0 config, for 4.0's "
        f"train.py, which does not read the keys 4.1 added; your base lacks {len(later)} "
        f"so-vits-svc 4.1 key(s) ({_list(shown)}): nothing to add (for 4.1's train.py, start "
        "--base from the configs/config.json 4.1's preprocessing wrote)"
    ] if later else []  # fmt: skip
    if read:
        notes.append(
            f"your base lacks {len(read)} so-vits-svc 4.0 key(s) ({_list(read)}): 4.0's "
            "train.py reads them too; start --base from the configs/config.json "
            "preprocessing wrote"
        )
    return tuple(notes)


def _list(keys: list[str]) -> str:
    more = f" and {len(keys) - 6} more" if len(keys) > 6 else ""
    return ", ".join(keys[:6]) + more
