"""Strict YAML reading that remembers where every key was written.

``yaml.SafeLoader`` composes the node tree; we build plain Python data from it ourselves
so that each mapping key and list item keeps its line, a repeated key is an error (PyYAML
would silently keep the last one), and every problem is one line: ``quick.yaml:14: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sweeper.errors import InputError
from sweeper.space import FieldError
from sweeper.space._fields import Key, label


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-4`` as a float (YAML 1.1 insists on ``1.0e-4``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


# YAML 1.1 reads these plain scalars as numbers nobody meant (010 is 8, 1:30 is 90, 0x10
# is 16) or, for 08 and 1,000, as strings that fail later with a baffling message.
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_BASE_60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_PREFIXED = re.compile(r"[-+]?0[xXoObB][0-9a-fA-F_]+")
_THOUSANDS = re.compile(r"[-+]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")


def _odd_number(value: str) -> tuple[str, str] | None:
    """(why a plain scalar is refused as a number, its fix); None for a fine one."""
    if _LEADING_ZERO.fullmatch(value):
        sign = value[0] if value[0] in "+-" else ""
        plain = sign + (value.lstrip("+-").lstrip("0_") or "0")
        return "has a leading zero, which YAML 1.1 reads as octal", f"write {plain}, not {value}"
    if _BASE_60.fullmatch(value):
        return "is a YAML 1.1 base-60 number (1:30 reads as 90)", "write the number, or quote it"
    if _PREFIXED.fullmatch(value):
        try:
            plain = str(int(value.replace("_", ""), 0))
        except ValueError:
            plain = "the decimal number"
        return "is a hex, octal or binary number", f"write {plain}, not {value}"
    if _THOUSANDS.fullmatch(value):
        return "has a thousands separator", (
            f"write {value.replace(',', '')} or {value.replace(',', '_')}"
        )
    return None


_SEQ, _MAP = "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
# Values a file may expand to. Aliases are expanded as built: 8 levels of 9 *aliases (a
# "billion laughs", 9**8 values) hung `check`; a sweep file has a few hundred.
MAX_VALUES = 100_000


@dataclass(frozen=True)
class Lines:
    """Where each key of a loaded file was written, for one-line error messages."""

    path: str  # the file as the user named it
    lines: Mapping[Key, int]  # key path -> 1-based line (keys of mappings, list items)

    def line(self, key: Key) -> int:
        """The line of ``key``, or of its nearest written ancestor (1 for the top level)."""
        for n in range(len(key), 0, -1):
            if key[:n] in self.lines:
                return self.lines[key[:n]]
        return 1

    def where(self, key: Key) -> str:
        return f"{self.path}:{self.line(key)}"

    def error(self, err: FieldError) -> InputError:
        """The field error with ``file:line`` in front."""
        return InputError(err.render(self.where(err.key)))


def safe_load(text: str, path: str) -> Any:
    """Plain data from YAML text (SafeLoader, ``1e-4`` a float as in sweep files); a syntax
    error is one line naming ``path`` and the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.YAMLError as err:
        raise _syntax_error(path, text, err) from None


def _syntax_error(path: str, text: str, err: yaml.YAMLError) -> InputError:
    mark = getattr(err, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    if isinstance(err, yaml.reader.ReaderError):
        line = text.count("\n", 0, err.position) + 1
    problem = getattr(err, "problem", None) or str(err)
    source = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
    if isinstance(err, yaml.reader.ReaderError):
        how = "remove the control character (a NUL byte or the like) from this line"
    elif "\t" in source or "'\\t'" in problem:
        how = "indent with spaces; YAML does not allow tabs"
    elif "mapping values are not allowed" in problem:
        how = "put a space after each ':' and quote values that contain ': '"
    else:
        how = "check the indentation and the quotes on this line and the one before"
    problem = " ".join(str(problem).split())
    got = source.strip()
    return InputError(f"{path}:{line}: invalid YAML: {problem} (got {got!r}); fix: {how}")


def _build(
    loader: _Loader, node: yaml.Node, key: Key, lines: dict[Key, int], path: str, stack: set[int]
) -> Any:
    where = f"{path}:{node.start_mark.line + 1}"
    if len(lines) > MAX_VALUES:  # each value built adds its key path
        raise InputError(
            f"{where}: the file holds more than {MAX_VALUES} values, *aliases expanded (got "
            f"{label(key)}); fix: write the values out without &anchors and *aliases (a sweep "
            "file needs none)"
        )
    if isinstance(node, yaml.ScalarNode):
        odd = _odd_number(node.value) if node.style is None else None
        if odd is not None:  # (a quoted '010' stays the string it says it is)
            raise InputError(f"{where}: {label(key)} {odd[0]} (got {node.value!r}); fix: {odd[1]}")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as err:
            problem = " ".join(str(err.problem).split())
            raise InputError(
                f"{where}: {label(key)} cannot be read: {problem} (got {node.value!r}); "
                "fix: write a plain number, string, true/false or null"
            ) from None
    if id(node) in stack:
        raise InputError(
            f"{where}: {label(key)} refers to itself through an alias (got {node.tag!r}); "
            "fix: remove the recursive *alias"
        )
    if node.tag not in (_SEQ, _MAP):  # !!python/object/apply:... [args] read as a plain list
        raise InputError(
            f"{where}: {label(key)} has a tag that is not plain YAML (got {node.tag!r}); "
            "fix: remove the tag (Python tags are rejected)"
        )
    stack.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                lines[(*key, i)] = item.start_mark.line + 1
                items.append(_build(loader, item, (*key, i), lines, path, stack))
            return items
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            kline = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise InputError(
                    f"{path}:{kline}: merge keys are not supported (got '<<'); "
                    "fix: write the keys out"
                )
            name = (
                loader.construct_object(key_node)
                if isinstance(key_node, yaml.ScalarNode)
                else key_node.tag
            )
            if not isinstance(name, str):
                # {max_steps: 1,000} splits at the comma and makes 000 a key
                comma = isinstance(name, int) and not isinstance(name, bool)
                hint = " (in {...} a comma splits: write 1000 or 1_000)" if comma else ""
                raise InputError(
                    f"{path}:{kline}: keys must be names (got {name!r}); fix: quote the key{hint}"
                )
            child = (*key, name)
            if name in out:
                raise InputError(
                    f"{path}:{kline}: {label(child)} is given twice (got {name!r}; first on "
                    f"line {lines[child]}); fix: keep one of them"
                )
            lines[child] = kline
            out[name] = _build(loader, value_node, child, lines, path, stack)
        return out
    finally:
        stack.discard(id(node))


def load_yaml_with_lines(path: str | Path) -> tuple[Any, Lines]:
    """Read one YAML document; returns ``(data, lines)``. Errors are one-line InputErrors."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        fix = "check the path and that it is UTF-8"
        if (Path(path) / "sweep.yaml").is_file():  # a sweep folder where a space was meant
            fix = f"that is a sweep folder: `sweeper resume {name}` continues it"
        raise InputError(f"{name}: cannot read the file ({reason}); fix: {fix}") from None
    lines: dict[Key, int] = {}
    try:  # the loader checks the characters as it is made (a NUL byte was a traceback)
        loader = _Loader(text)
    except yaml.YAMLError as err:
        raise _syntax_error(name, text, err) from None
    try:
        node = loader.get_single_node()
        data = None if node is None else _build(loader, node, (), lines, name, set())
    except yaml.YAMLError as err:
        raise _syntax_error(name, text, err) from None
    finally:
        loader.dispose()
    return data, Lines(name, lines)
