"""What the sweeper reads in a so-vits-svc trial folder: G/D pairs, whether a checkpoint is
whole, and why train.py exited (from the end of its stderr)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sweeper.errors import InputError, SweeperError

_PAIR = re.compile(r"^G_(\d+)\.pth$")
# "RuntimeError: ...", "torch.OutOfMemoryError: ...", "AssertionError": the line that says why.
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b(?::.*)?$")
_ZIP_HEAD, _ZIP_END = b"PK\x03\x04", b"PK\x05\x06"


def pairs(model_dir: Path) -> dict[int, tuple[int, int]]:
    """Steps with both G_<step>.pth and D_<step>.pth, with the two file sizes."""
    found = {}
    try:
        names = {p.name for p in model_dir.iterdir()}
    except FileNotFoundError:
        return {}
    for name in names:
        match = _PAIR.match(name)
        if match is None or f"D_{match.group(1)}.pth" not in names:
            continue
        step = int(match.group(1))
        try:
            g = (model_dir / name).stat().st_size
            d = (model_dir / f"D_{step}.pth").stat().st_size
        except FileNotFoundError:
            continue  # deleted while we looked
        found[step] = (g, d)
    return found


def written(path: Path) -> bool:
    """Whether a checkpoint file is whole. torch.save writes a zip archive whose end record
    comes last, so a file still being written (or cut short) has none. A file of the old
    non-zip format cannot tell: True, and sizes holding still decide."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            if handle.read(4) != _ZIP_HEAD:
                return size > 0
            handle.seek(max(0, size - 1024))
            return _ZIP_END in handle.read()
    except OSError:
        return False


def link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except FileNotFoundError:
        raise vanished(source) from None
    except OSError:
        shutil.copy2(source, target)  # another file system, or links not allowed


def private_copy(path: Path) -> None:
    """Give ``path`` blocks of its own: train.py rewrites a checkpoint it saves again in
    place (so-vits-svc 4.0 saves the step it resumed from once more), which would change
    every hard link to it."""
    if path.stat().st_nlink > 1:
        tmp = path.with_name(path.name + ".tmp")
        shutil.copy2(path, tmp)
        tmp.replace(path)


def vanished(path: Path) -> InputError:
    return InputError(
        f"{path.name} was deleted before the sweeper used it: something else deletes "
        f"checkpoints in {path.parent} (a train.py that ignores train.keep_ckpts: 0?); fix: "
        "let only the sweeper prune the model dir"
    )


def tail(path: Path, size: int = 8192) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - size))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def exit_error(code: int, stderr: Path, step: int, no_cuda_fix: str, port: int) -> Exception:
    """The one-line error for train.py's exit ``code`` != 0, cause first (a sweep's progress
    line shows 200 characters): the last exception line of its stderr, not its last lines,
    which are often shutdown warnings (multiprocessing's leaked semaphores)."""
    text = tail(stderr)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "CPU training is not allowed" in text:
        return InputError(f"train.py found no CUDA device ({code=}); fix: {no_cuda_fix}")
    if "Address already in use" in text or "EADDRINUSE" in text:
        return InputError(
            f"train.py could not bind train.port {port} (port in use); fix: retry the trial, "
            "or free the port"
        )
    if "CUDA out of memory" in text or "OutOfMemoryError" in text:
        # The same config runs out again on every start: no retry (InputError).
        return InputError(
            f"train.py ran out of GPU memory (CUDA out of memory, last step logged {step}); "
            "fix: lower train.batch_size or train.segment_size in the search space, or give "
            f"each trial a whole GPU (resources.gpu: 1); see {stderr}"
        )
    if "no kernel image is available" in text or "not compatible with the current PyTorch" in text:
        # torch built for other GPUs: the same at every start, so not retried (a probe).
        cause = next((ln for ln in reversed(lines) if "CUDA" in ln or "compatible" in ln), "")
        return InputError(
            f"train.py's torch has no kernels for this GPU ({cause[:160]}); fix: install a "
            "torch build for this GPU's CUDA capability into the python train.py runs under "
            f"(sovits.python); see {stderr}"
        )
    if code == 128 + 9 or "terminated with signal SIGKILL" in text:
        return SweeperError(
            f"train.py was killed (SIGKILL, code {code}) at step {step}: often the host's "
            "out-of-memory killer (data in memory, too many DataLoader workers); fix: see "
            f"`dmesg` and {stderr}"
        )
    missing = import_error(stderr, "train.py")
    if missing is not None:
        return missing
    cause = [ln for ln in lines if _EXCEPTION.match(ln)]
    last = cause[-1] if cause else " | ".join(lines[-3:]) or "no output"
    return SweeperError(f"train.py exited with code {code}: {last}; fix: see {stderr}")


def import_error(stderr: Path, who: str) -> InputError | None:
    """The one-line error when the last exception in ``stderr`` is a failed import: the
    same at every start, so not retried. ``who``: train.py or the held-out evaluator."""
    lines = [ln.strip() for ln in tail(stderr).splitlines() if ln.strip()]
    cause = [ln for ln in lines if _EXCEPTION.match(ln)]
    if not cause or not cause[-1].startswith(("ModuleNotFoundError", "ImportError")):
        return None
    return InputError(
        f"{who} cannot import what it needs ({cause[-1]}); fix: install so-vits-svc's "
        f"requirements into the python it runs under (sovits.python); see {stderr}"
    )


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no such config file: {path}; fix: set base.config") from None
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read {path} as JSON ({err}); fix: give a config.json") from None
    if not isinstance(data, Mapping):
        raise InputError(f"{path} is not a JSON object (got {type(data).__name__})")
    return dict(data)


def read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # a half-written state from a killed trial: start the bookkeeping afresh
    return data if isinstance(data, dict) else {}
