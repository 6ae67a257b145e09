"""Field errors that know their key path, and the strict converters every schema uses.

A dataclass raises :class:`FieldError` with its key relative to itself (``("gpu",)``); the
code that placed it in a larger document prefixes its own key (``err.within("resources")``)
and the YAML loader turns the full key into ``file:line``.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from sweeper.errors import InputError

Key = tuple[str | int, ...]


def label(key: Key) -> str:
    """``("parameters", "train.lr", "low")`` -> ``parameters[train.lr].low``."""
    out = ""
    for i, part in enumerate(key):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i == 0:
            out += part
        elif "." in part:
            out += f"[{part}]"
        else:
            out += f".{part}"
    return out or "top level"


class FieldError(InputError):
    """A bad value at a key path; ``str()`` is the one-line message without a file."""

    def __init__(self, key: Key, what: str, value: object, how: str) -> None:
        self.key = tuple(key)
        self.what = what
        self.value = value
        self.how = how
        super().__init__(self.render(""))

    def render(self, where: str) -> str:
        """The message, prefixed with ``where`` (``quick.yaml:14``) when given."""
        prefix = f"{where}: " if where else ""
        # true, false and null as the file writes them, not Python's True, False, None
        got = repr(self.value)
        if self.value is None or isinstance(self.value, bool):
            got = {True: "true", False: "false", None: "null"}[self.value]
        return f"{prefix}{label(self.key)} {self.what} (got {got}); fix: {self.how}"

    def within(self, *prefix: str | int) -> FieldError:
        """The same error with the key of the enclosing object in front."""
        return FieldError(tuple(prefix) + self.key, self.what, self.value, self.how)


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names most like ``name`` (difflib), best first."""
    return difflib.get_close_matches(name, list(known), n=n, cutoff=0.6)


def check_known(key: Key, raw: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Reject a key of ``raw`` that is not in ``allowed``, naming the allowed ones."""
    allowed = list(allowed)
    for name in raw:
        if name not in allowed:
            near = closest(str(name), allowed, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise FieldError(
                (*key, name), "is not a known key", name, f"{hint}allowed: {', '.join(allowed)}"
            )


def as_mapping(key: Key, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FieldError(key, "must be a mapping of key: value", value, "indent keys under it")
    return value


def as_int(key: Key, value: Any, minimum: int | None = None) -> int:
    # bool is an int subclass in Python; YAML `true` is never meant as 1 here.
    if isinstance(value, float) and value.is_integer():  # 1e3 is a float to YAML
        raise FieldError(
            key, "must be written as a whole number", value, f"write {int(value)}, not 1e3 style"
        )
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(key, "must be a whole number", value, "write an integer such as 4")
    if minimum is not None and value < minimum:
        raise FieldError(key, f"must be >= {minimum}", value, f"use {minimum} or more")
    return value


def as_float(key: Key, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(key, "must be a number", value, "write a number such as 0.5 or 1e-4")
    if not math.isfinite(value):
        raise FieldError(key, "must be finite", value, "write a finite number")
    return float(value)


def as_str(key: Key, value: Any, choices: Iterable[str] | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise FieldError(key, "must be a non-empty string", value, "write a name")
    if choices is not None:
        options = list(choices)
        if value not in options:
            raise FieldError(key, "is not one of the options", value, f"use {'|'.join(options)}")
    return value


def as_bool(key: Key, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(key, "must be true or false", value, "write true or false")
    return value


def freeze(value: Any, key: Key = ()) -> Any:
    """YAML lists -> tuples (hashable, immutable); mappings are not valid values here."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v, key) for v in value)
    if isinstance(value, Mapping):
        raise FieldError(key, "cannot be a mapping", dict(value), "use a number, string or list")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise FieldError(key, "must be a number, string, bool, null or list", value, "quote it")


def thaw(value: Any) -> Any:
    """Tuples -> lists again, for the trainer's config (so-vits-svc writes lists)."""
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def choice_label(value: Any) -> Any:
    """How a categorical choice is stored in Optuna, which takes scalars only: a list choice
    (betas) as its JSON text. Optuna finds a choice by ``==``, so true and 1 are one label."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(thaw(value))


def dotted(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"train.learning_rate": value}``, tuples as lists; a tree that is
    not a mapping is the one entry ``{prefix or "(top level)": tree}``."""
    if not isinstance(tree, Mapping):
        return {prefix or "(top level)": thaw(tree)}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(dotted(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def canon(value: Any) -> Any:
    """A comparison key: 1 == 1.0, but true is not 1 and "1" is not 1."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("num", float(value))
    if isinstance(value, tuple | list):
        return ("list", tuple(canon(v) for v in value))
    return (type(value).__name__, value)
