"""Read a text log's bytes: gzip unpacked, archives and checkpoints named, UTF-8/UTF-16 decoded."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

from sweeper.errors import InputError

_GZIP_MAGIC = b"\x1f\x8b"
# Archives read only once unpacked: (magic bytes, name, the command that unpacks them).
_ARCHIVES = (
    (b"\xfd7zXZ\x00", "an xz", "xz -d"),
    (b"BZh", "a bzip2", "bunzip2"),
    (b"\x28\xb5\x2f\xfd", "a zstd", "zstd -d"),
    (b"PK\x03\x04", "a zip", "unzip"),
)


def _is_torch_save(data: bytes) -> bool:
    """torch.save's zip holds <name>/data.pkl (a G_<step>.pth was advised to be unzipped)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(name.endswith("/data.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def read_text(path: Path) -> str:
    """The text of a log file; InputError naming the fix where it is not one."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"no such file: {path}; pass a so-vits-svc train.log, an events.out.tfevents.* "
            "file or a run folder such as logs/44k"
        ) from None
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror}; check the path") from None
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise InputError(f"{path} is a damaged gzip file ({err}); gunzip it by hand") from None
    if data.startswith(b"PK\x03\x04") and _is_torch_save(data):
        raise InputError(
            f"{path} is a PyTorch checkpoint (model weights), not a log; pass the run's "
            "train.log, its events.out.tfevents.* file, or the folder that holds them "
            f"({path.parent})"
        )
    for magic, kind, command in _ARCHIVES:
        if data.startswith(magic):
            raise InputError(
                f"{path} is {kind} archive, not a text log; decompress it first "
                f"({command} {path}) and pass the train.log inside"
            )
    if not data.strip():
        raise InputError(
            f"{path} is empty; point at the train.log of a run that has logged at least one step"
        )
    return _decode(data)


def _decode(data: bytes) -> str:
    """UTF-8 as so-vits-svc writes it; UTF-16 as Windows PowerShell's ``>`` or ``Tee`` save it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    head = data[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) > len(head) // 4 and min(even, odd) < len(head) // 64:
        # ASCII text in UTF-16 without a BOM: every other byte is zero.
        return data.decode("utf-16-le" if odd > even else "utf-16-be", errors="replace")
    # Logs from Windows machines may carry paths in a local code page: never fail on them.
    # utf-8-sig: a BOM (Notepad) would otherwise hide the first line's logging prefix.
    return data.decode("utf-8-sig", errors="replace")
