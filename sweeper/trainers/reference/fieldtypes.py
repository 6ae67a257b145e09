"""Each config value of the type its field declares, in one-line errors that name the fix."""

from __future__ import annotations

import dataclasses
from typing import Any

from sweeper.errors import InputError

_FIXES = {
    "bool": "write true or false, unquoted",
    "int": 'write a whole number, e.g. 4 (not 4.0 or "4")',
    "float": "write a number, unquoted",
    "str": "write text",
}


def check_types(section: str, obj: Any) -> None:
    """Each value of the type its field declares (a quoted "false" is a non-empty string,
    so truthy: use_gan: "false" switched the GAN on), ints read as whole numbers only."""
    for f in dataclasses.fields(obj):
        value, kind = getattr(obj, f.name), str(f.type)
        optional = kind.endswith(" | None")
        kind = kind.removesuffix(" | None")
        if value is None and optional:
            continue
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            setattr(obj, f.name, float(value))  # 1 for 1.0 is fine in YAML and JSON
            continue
        ok = {
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, float),
            "str": isinstance(value, str),
        }.get(kind, True)  # lists are checked where they are used
        if not ok:
            raise InputError(
                f"{section}.{f.name} must be {'an' if kind == 'int' else 'a'} {kind}, got "
                f"{f.name}={value!r} ({type(value).__name__}); fix: {_FIXES[kind]}"
            )
