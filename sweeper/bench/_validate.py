"""Checks of a curve set's arrays: shapes, steps, truth, in one-line errors."""

from __future__ import annotations

from typing import Any

import numpy as np

from sweeper.errors import InputError


def validate(c: Any) -> None:
    """Raise a one-line :class:`InputError` for a curve set whose arrays do not fit the
    format (see :mod:`sweeper.bench.curves`)."""
    steps, val = np.asarray(c.steps), np.asarray(c.val)
    if steps.ndim != 1 or steps.size == 0:
        raise InputError(f"'steps' must be a non-empty 1-D array, got shape {steps.shape}")
    if not np.issubdtype(steps.dtype, np.number) or not np.all(np.isfinite(steps)):
        raise InputError("'steps' must hold finite numbers; fix or drop the bad entries")
    if steps[0] < 0:
        raise InputError(
            f"'steps' must be training steps >= 0, got steps[0]={steps[0]}; shift the grid"
        )
    if np.any(steps != np.round(steps)):
        i = int(np.flatnonzero(steps != np.round(steps))[0])
        raise InputError(
            f"'steps' must be whole training steps, got steps[{i}]={steps[i]}; fix: scale "
            "them to integers (e.g. epochs * 10, or the evaluation's index)"
        )
    bad = np.flatnonzero(np.diff(steps) <= 0)
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"'steps' must be strictly increasing, but steps[{i + 1}]={steps[i + 1]} follows "
            f"steps[{i}]={steps[i]}; sort the grid and drop repeated steps"
        )
    for key in ("val", "train", "val_true", "train_true"):
        arr = getattr(c, key)
        dtype = None if arr is None else np.asarray(arr).dtype
        if dtype is not None and (
            not np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.complexfloating)
        ):
            raise InputError(
                f"{key!r} must hold real numbers, got dtype {dtype}; fix: save it as floats"
            )
    if val.ndim != 2 or val.shape[1] != steps.size or val.shape[0] == 0:
        raise InputError(
            f"'val' must have shape (n_curves, len(steps))=(N, {steps.size}), got {val.shape}; "
            "stack one curve per row, NaN-padded after it ends"
        )
    for key in ("train", "val_true", "train_true"):
        arr = getattr(c, key)
        if arr is not None and np.shape(arr) != val.shape:
            raise InputError(
                f"{key!r} must have the shape of 'val' {val.shape}, got {np.shape(arr)}; "
                f"give one {key} row per val row on the same steps, or leave {key!r} out"
            )
    for key in ("length", "kind", "onset"):
        arr = getattr(c, key)
        if arr is not None and np.shape(arr) != (val.shape[0],):
            raise InputError(
                f"{key!r} must have one entry per curve, shape ({val.shape[0]},), got "
                f"{np.shape(arr)}"
            )
    if c.kind is not None:
        from sweeper.bench.curves import KINDS

        kind = np.asarray(c.kind)
        unknown = sorted({str(k) for k in kind.tolist()} - set(KINDS))
        if not np.issubdtype(kind.dtype, np.str_) or unknown:
            raise InputError(
                f"'kind' must hold curve kinds as strings, got {unknown[:5] or kind.dtype}; "
                f"use {', '.join(KINDS)}, or leave 'kind' out to have the truth estimated"
            )
    if c.onset is not None:
        onset = np.asarray(c.onset)
        inside = (onset >= -1) & (onset < steps.size)
        if not np.issubdtype(onset.dtype, np.integer) or not np.all(inside):
            raise InputError(
                f"'onset' must be point indices in [0, {steps.size - 1}] or -1 (none), got "
                f"values from {onset.min()} to {onset.max()}"
            )
    empty = np.flatnonzero(np.all(np.isnan(val), axis=1))
    if empty.size:
        raise InputError(
            f"'val' row {int(empty[0])} is all NaN ({empty.size} such rows); every curve needs "
            "at least one value, drop the empty rows"
        )
    if c.length is not None:
        length = np.asarray(c.length)
        if (
            not np.issubdtype(length.dtype, np.integer)
            or np.any(length < 1)
            or np.any(length > steps.size)
        ):
            raise InputError(
                f"'length' must be integers in [1, {steps.size}], got values from "
                f"{length.min()} to {length.max()}"
            )
