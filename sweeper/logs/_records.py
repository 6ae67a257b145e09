"""Find the logging message in one line of a so-vits-svc train.log or console capture."""

from __future__ import annotations

import re

LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})

# The root logging handler mirrors every message to stdout as ``INFO:44k:message``.
_STDOUT_PREFIX = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[^:\t]*:(.*)$")
# colorlog, rich and FORCE_COLOR wrap levels or whole lines in SGR codes.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# A tqdm bar as it ends: ``56%|#####5    | 20/36 [00:05<00:04,  3.9it/s]``.
_TQDM_BAR = re.compile(r"^[^|]*\d+%\|[^|]*\|[^\[\]]*\[[^\[\]]*\]")
_TS = r"\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?"
_LEVEL = r"\[?(?i:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\]?"
_NAME = r"(?!Losses:)[\w.\-]+"  # the logger, named after the model folder: 44k
# Formats forks configure: 'ts - name - LEVEL - msg', '[ts] LEVEL name: msg', 'ts LEVEL msg'.
_PREFIXES = (
    re.compile(rf"^{_TS}\s+-\s+(?:{_NAME}\s+-\s+)?{_LEVEL}\s+-\s+(?P<msg>.*)$"),
    re.compile(rf"^{_TS}\s+(?:{_NAME}\s+)?{_LEVEL}(?:\s+{_NAME}:)?\s+(?P<msg>.*)$"),
)


def find_record(raw: str) -> tuple[str, str | None]:
    """(the line as shown in notes, its logging message or None when it is not a record).

    Only a line that starts with a logging prefix is a record, so a list printed inside a
    traceback is never read as a loss line. ANSI colour codes are dropped; of a line that a
    console redrew with carriage returns (tqdm bars), the last segment holding a record
    counts, and a record glued right after a bar is found behind it.
    """
    line = raw.rstrip("\r")
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "\r" not in line:
        return line, _message(line)
    segments = line.split("\r")
    for segment in reversed(segments):
        message = _message(segment)
        if message is not None:
            return segment, message
    return segments[-1], None


def _message(line: str) -> str | None:
    parts = line.split("\t", 3)
    if len(parts) == 4 and parts[2].upper() in LEVELS:
        return parts[3].strip()
    match = _STDOUT_PREFIX.match(line)
    if match is not None:
        return match.group(1).strip()
    if line[:1].isdigit() or line[:1] == "[":
        for prefix in _PREFIXES:
            match = prefix.match(line)
            if match is not None:
                return match.group("msg").strip()
    bar = _TQDM_BAR.match(line)
    if bar is not None and bar.end() < len(line):
        return _message(line[bar.end() :])
    return None
