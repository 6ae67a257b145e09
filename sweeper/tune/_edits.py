"""A sweep folder's sweep.yaml must stay what the sweep started with.

Resume restores Ray's searcher, which samples the space it started with; the study keeps
its direction; summarize and export-best read sweep.yaml. An edit after the start was used
by some and not others, in silence: a changed range was never sampled, ``modes: [max]``
ranked the worst trial first. The start records the file's text in sweep.json; a folder
whose sweep.yaml differs is refused, naming the keys that changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from sweeper.errors import InputError
from sweeper.space._fields import dotted

SPACE_KEY = "space"  # sweep.json: the text of sweep.yaml as the sweep started
# Sections made to be edited later: ``summary:`` only orders `sweeper summarize`'s ranking.
EDITABLE = ("summary",)


def changed_keys(before: str, now: str) -> list[str]:
    """Dotted keys whose values differ between two YAML texts (load errors: the top level)."""
    try:
        old, new = dotted(yaml.safe_load(before)), dotted(yaml.safe_load(now))
    except yaml.YAMLError:
        return ["(the file no longer parses)"]
    changed = (k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return sorted(k for k in changed if k.split(".", 1)[0] not in EDITABLE)


def check_unchanged(folder: Path, space_file: str, meta_file: str) -> None:
    """Refuse ``folder`` when its ``space_file`` differs from the text ``meta_file`` recorded
    at the start (folders from before 2026-12-06 recorded none: nothing to compare)."""
    try:
        meta = json.loads((folder / meta_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    before = meta.get(SPACE_KEY) if isinstance(meta, dict) else None
    if not isinstance(before, str):
        return
    now = (folder / space_file).read_text(encoding="utf-8")
    if now.replace("\r\n", "\n") == before.replace("\r\n", "\n"):
        return
    keys = changed_keys(before, now)
    if not keys:
        return  # comments, layout or the summary: section: nothing the sweep ran on
    shown = ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")
    raise InputError(
        f"{folder / space_file} was edited after the sweep started ({shown}); the sweep "
        f"samples and ranks by the space it started with; fix: put it back (the original is "
        f"'{SPACE_KEY}' in {folder / meta_file}), or run the edited file as a new sweep: "
        f"`sweeper run FILE --name {folder.name}-2 --storage {folder.parent}`"
    )
