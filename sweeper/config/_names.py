"""The sweep name: one folder under --storage, so a folder-safe, not too long string."""

from __future__ import annotations

import re

from sweeper.space import FieldError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# A folder name may have 255 bytes; room is left for a "-2" of a second sweep (300 was an
# internal OSError at run).
MAX_NAME = 200


def is_folder_name(value: object) -> bool:
    """A sweep name: one folder under --storage (no /, no leading dot, so no .. either)."""
    return isinstance(value, str) and len(value) <= MAX_NAME and _NAME.fullmatch(value) is not None


def check_name(name: object) -> None:
    """Refuse a name that is no folder name, with the fix for its kind of mistake."""
    if isinstance(name, int | float) and not isinstance(name, bool):  # name: 123, a number
        raise FieldError(("name",), "must be a string", name, f"quote it: name: '{name}'")
    if not isinstance(name, str):  # null, true, a list: quoting 'None' named no sweep
        how = "write a folder-safe name such as name: my-sweep (letters, digits, . _ -)"
        raise FieldError(("name",), "must be a string", name, how)
    if len(name) > MAX_NAME:
        raise FieldError(
            ("name",), f"is too long ({len(name)} characters)", f"{name[:20]}...",
            f"use at most {MAX_NAME} characters",
        )
    if not is_folder_name(name):
        how = "use letters, digits, . _ -"
        raise FieldError(("name",), "must be a folder-safe name", name, how)
