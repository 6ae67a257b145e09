"""Curve sets with known truth: the file format and its loader (the generator of so-vits-like
curves is :mod:`sweeper.bench.generator`).

A curves file is an ``.npz`` with
- ``steps`` (T,): strictly increasing training steps shared by all curves;
- ``val`` (N, T): the judged validation metric, NaN after a curve ends;
- ``train`` (N, T), optional: the training metric on the same grid;
- ``length`` (N,), optional: points each curve actually ran. Without it a curve ends at its last
  non-NaN value; with it, NaN inside the length is data (a diverged run logs NaN to the end);
- truth, optional (written by :func:`sweeper.bench.generator.generate`): ``val_true`` and
  ``train_true`` (N, T) noise-free curves, ``onset`` (N,) index of the plateau / overfitting /
  divergence onset, ``kind`` (N,).

Example:
    >>> from sweeper.bench.generator import generate
    >>> curves = generate(n=20, seed=1)
    >>> curves.val.shape, curves.has_truth
    ((20, 300), True)
"""

from __future__ import annotations

import difflib
import math
import os
import warnings
import zipfile
import zlib
from dataclasses import dataclass, fields

import numpy as np

from sweeper.bench._validate import validate
from sweeper.detect import relative_scale
from sweeper.errors import InputError

KINDS = ("plateau", "late_plateau", "slow", "overfit", "two_phase", "diverge", "flat")
PLATEAU_TOL = 0.01  # onset: first point within 1 % of the curve's minimum


@dataclass(frozen=True, eq=False)
class CurveSet:
    """N curves on a shared step grid, optionally with the truth they were generated from."""

    steps: np.ndarray
    val: np.ndarray
    train: np.ndarray | None = None
    length: np.ndarray | None = None
    kind: np.ndarray | None = None
    onset: np.ndarray | None = None
    val_true: np.ndarray | None = None
    train_true: np.ndarray | None = None

    def __post_init__(self) -> None:
        validate(self)

    @property
    def n_curves(self) -> int:
        return int(self.val.shape[0])

    @property
    def has_truth(self) -> bool:
        """True when the noise-free ``val_true`` and the ``onset`` indices are known."""
        return self.val_true is not None and self.onset is not None

    def holes(self) -> list[tuple[int, int]]:
        """(row, index) of the first NaN of each curve that has numbers after it: replayed as
        a NaN report, which a sweep stops as diverged. A NaN that lasts to the end is a
        curve's end, or a run that diverged; neither is a hole."""
        val = np.asarray(self.val, dtype=float)
        out = []
        for i, row in enumerate(val):
            finite = np.flatnonzero(np.isfinite(row))
            nan = np.flatnonzero(np.isnan(row[: finite[-1]])) if finite.size else finite
            if nan.size:
                out.append((i, int(nan[0])))
        return out

    def holes_note(self) -> str | None:
        """One line on the curves with NaN inside, or None."""
        found = self.holes()
        if not found:
            return None
        row, at = found[0]
        return (
            f"note: {len(found)} curve(s) hold NaN before their end (first: row {row}, index "
            f"{at}); each is replayed as a NaN report, which a sweep stops as diverged, and "
            "its estimated truth ends there. A missing evaluation is not that: fill it (e.g. "
            "with the one before it)"
        )

    def lengths(self) -> np.ndarray:
        """Points each curve ran: ``length`` if given, else up to the last non-NaN value."""
        if self.length is not None:
            return self.length.astype(np.int64)
        # val alone: a training curve logged past the last evaluation is not more of it
        # (until 2026-12-07 it was, and the NaN val there read as a divergence).
        present = ~np.isnan(self.val)
        last = self.val.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)
        return (last + 1).astype(np.int64)

    def negated(self) -> CurveSet:
        """The set with ``val`` (and ``val_true``) negated: a metric where higher is better
        (accuracy, MOS) read as the loss the replays judge. ``train`` stays a loss."""
        flip = lambda a: None if a is None else -np.asarray(a, dtype=float)  # noqa: E731
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        return CurveSet(**{**arrays, "val": flip(self.val), "val_true": flip(self.val_true)})

    def rising_note(self, maximize: bool = False) -> str | None:
        """One line when most curves end higher than they start (a metric where higher is
        better, read as a loss, looks diverged), or None; ``maximize``: this set is already
        negated by --maximize (then the curves rose in the file: a loss)."""
        lengths, rising = self.lengths(), 0
        for row, n in zip(np.asarray(self.val, dtype=float), lengths, strict=True):
            finite = row[: int(n)][np.isfinite(row[: int(n)])]
            tenth = max(1, finite.size // 10)
            if finite.size >= 4 and np.median(finite[-tenth:]) > np.median(finite[:tenth]):
                rising += 1
        if rising <= self.n_curves / 2:
            return None
        if maximize:
            return (
                f"note: {rising} of {self.n_curves} curves end lower than they start, and "
                "--maximize judges them as a score (higher is better): for a loss, drop "
                "--maximize"
            )
        return (
            f"note: {rising} of {self.n_curves} curves end higher than they start; the bench "
            "judges a loss (lower is better): if higher is better (accuracy, MOS), pass "
            "--maximize"
        )

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the set as a compressed ``.npz`` (absent optional arrays are left out);
        returns the path written (numpy adds ``.npz`` to a name without it)."""
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        out = npz_path(path)
        np.savez_compressed(out, **{k: v for k, v in arrays.items() if v is not None})
        return out


def npz_path(path: str | os.PathLike[str]) -> str:
    """The file numpy's ``savez`` writes for ``path``: ``.npz`` added when missing."""
    out = os.fspath(path)
    return out if out.endswith(".npz") else out + ".npz"


def check_output(path: str | os.PathLike[str]) -> str:
    """Refuse an output path before minutes of work; returns the ``.npz`` path to write."""
    out = npz_path(path)
    folder = os.path.dirname(os.path.abspath(out))
    if os.path.isdir(out) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise InputError(
            f"cannot write {out!r} (a folder, or no writable folder {folder!r}); fix: an "
            "OUT.npz path in a folder you can write"
        )
    return out


def load(path: str | os.PathLike[str]) -> CurveSet:
    """Read and validate a curves file; bad content raises a one-line :class:`InputError`."""
    name = repr(os.fspath(path))
    expected = "expected an .npz from numpy.savez(path, steps=..., val=...)"
    try:
        with open(path, "rb") as handle:
            is_zip = handle.read(4) == b"PK\x03\x04"  # every .npz is a zip archive
    except OSError as err:
        raise InputError(f"cannot read curves file {name} ({err}); {expected}") from err
    if not is_zip:  # np.load would read a .npy too, or offer to unpickle a text file
        raise InputError(f"curves file {name} is not an .npz (zip) archive; {expected}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    # A cut or damaged archive: BadZipFile (not an OSError), zlib.error (a bad member);
    # MemoryError: a header claiming a huge shape (it was an "internal error").
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, MemoryError) as err:
        raise InputError(f"cannot read curves file {name} ({err}); {expected}") from err
    for key in ("steps", "val"):
        if key not in arrays:
            raise InputError(
                f"curves file {os.fspath(path)!r} has no {key!r} array (it has {sorted(arrays)}); "
                "save it with numpy.savez(path, steps=<(T,)>, val=<(N, T)>)"
            )
    known = {f.name for f in fields(CurveSet)}
    foreign = sorted(set(arrays) - known - {"trial"})  # trial: names `bench record` writes
    if foreign:
        # A misspelt truth key read as none: scored against estimated truth without a word.
        close = {k: difflib.get_close_matches(k, sorted(known), n=1, cutoff=0.7) for k in foreign}
        hints = [f"{k!r} (did you mean {c[0]!r}?)" for k, c in close.items() if c]
        plain = [repr(k) for k, c in close.items() if not c]
        warnings.warn(
            f"curves file {name}: ignored {', '.join(hints + plain)}: not part of the format "
            f"({', '.join(f.name for f in fields(CurveSet))})",
            stacklevel=2,
        )
    kind = arrays.get("kind")
    if kind is not None and not _any_of_our_kinds(kind):
        # A user's own labels under the generator's name: theirs, not truth to score by
        # (labels of ours misspelt, "Plateau", are refused by validate).
        warnings.warn(
            f"curves file {name}: 'kind' holds labels other than the generator's curve kinds "
            f"({', '.join(KINDS)}); ignored, so the truth is estimated",
            stacklevel=2,
        )
        del arrays["kind"]
    length = arrays.get("length")
    if length is not None and np.issubdtype(length.dtype, np.floating):
        whole = np.all(np.isfinite(length)) and np.all(length == np.round(length))
        arrays["length"] = length.astype(np.int64) if whole else length  # 150.0 is 150
    try:
        return CurveSet(**{k: v for k, v in arrays.items() if k in known})
    except InputError as err:  # the array checks name no file (a probe, 2026-12-07)
        raise InputError(f"curves file {name}: {err}") from None


def _any_of_our_kinds(kind: np.ndarray) -> bool:
    text = [k.decode(errors="replace") if isinstance(k, bytes) else str(k) for k in kind.tolist()]
    return not set(KINDS).isdisjoint(text)


# ---------------------------------------------------------------------------------------------
# Generator


def fraction_base(low: float, high: float) -> float:
    """What the benches' relative figures are fractions of, as the detector measures a
    change: the lowest value ``low`` of a loss, or where that sits near or below zero (under
    a tenth of the fall from ``high``: an error rate reaching 0, a log-likelihood) the fall.
    Until 2026-12-07 any positive ``low`` was the base: a loss levelling off at 0.0005 had
    82 % false stops, the same curves shifted to -0.01 had 5 %."""
    return relative_scale(low, high - low)


def curve_base(v: np.ndarray) -> float:
    """:func:`fraction_base` of one curve: its lowest finite value and its highest one
    before it (the fall; a divergence or overfitting rise after the minimum does not count)."""
    finite = np.where(np.isfinite(v), v, np.nan)
    if np.isnan(finite).all():
        return math.nan
    best = int(np.nanargmin(finite))
    return fraction_base(float(finite[best]), float(np.nanmax(finite[: best + 1])))


def plateau_onset(v_true: np.ndarray) -> int:
    """First index where the curve is within 1 % of its minimum (the plateau onset)."""
    lo = float(np.nanmin(v_true))
    scale = curve_base(v_true)
    return int(np.argmax((v_true - lo) / scale < PLATEAU_TOL))
