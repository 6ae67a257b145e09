"""so-vits-svc's preprocessed files next to ``X.wav``, read as they are.

``X.wav.soft.pt`` (content ``[D, T']``), ``X.wav.f0.npy`` (f0, or the ``(f0, uv)`` object pair
so-vits-svc 4.1 writes) and ``X.spec.pt`` (linear spectrogram ``[filter_length//2+1, T]``).
Every unreadable, non-finite or mis-shaped file is refused by name.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sweeper.errors import InputError
from sweeper.trainers.reference.config import SovitsConfig


def stretch(feats: torch.Tensor, frames: int, mode: str) -> torch.Tensor:
    """Repeat/stretch ``[D, T']`` content to ``frames`` (so-vits-svc's repeat_expand_2d)."""
    src = feats.shape[-1]
    if mode == "nearest":
        idx = torch.clamp((torch.arange(frames) * src / frames).round().long(), max=src - 1)
    else:  # "left": floor of the source position
        idx = torch.clamp((torch.arange(frames) * src // frames).long(), max=src - 1)
    return feats[:, idx]



def _side_file(path: Path, load):
    """Load one preprocessed file; an unreadable one is named, not a traceback."""
    try:
        return load(path)
    except (OSError, EOFError, ValueError, RuntimeError, pickle.UnpicklingError) as err:
        raise InputError(
            f"cannot read preprocessed file {str(path)!r} ({type(err).__name__}: {err}); "
            "fix: delete it and re-run so-vits-svc preprocessing"
        ) from None


def _finite(values: torch.Tensor | np.ndarray, path: Path) -> None:
    bad = int((~np.isfinite(np.asarray(values))).sum())
    if bad:
        raise InputError(
            f"{str(path)!r} holds {bad} NaN or inf value(s); fix: delete it and re-run "
            "so-vits-svc preprocessing (they would make every loss NaN)"
        )


def _tensor_file(path: Path) -> torch.Tensor:
    """A preprocessed ``.pt`` tensor as float, refused by name when unreadable or not finite."""
    tensor = _side_file(path, lambda p: torch.load(p, map_location="cpu", weights_only=True))
    tensor = tensor.float()
    _finite(tensor, path)
    return tensor


def load_sovits_features(
    wav: Path, cfg: SovitsConfig, frames: int, computed_spec: Callable[[], torch.Tensor]
):
    """so-vits-svc's side files of ``wav``; without ``X.spec.pt``, ``computed_spec()``."""
    f0_path = Path(f"{wav}.f0.npy")
    # so-vits-svc 4.1 stores an (f0, uv) object pair, hence the pickle (of a file of your own).
    raw = _side_file(f0_path, lambda p: np.load(p, allow_pickle=True))
    if raw.dtype == object:
        f0, uv = (np.asarray(x, dtype=np.float32).reshape(-1) for x in raw)
        if f0.shape != uv.shape:
            raise InputError(
                f"{str(f0_path)!r} holds f0 of {f0.size} frames but uv of {uv.size}; "
                "fix: delete it and re-run so-vits-svc preprocessing"
            )
    else:
        f0 = raw.astype(np.float32).reshape(-1)
        uv = (f0 > 0).astype(np.float32)
    _finite(f0, f0_path)
    soft = _tensor_file(Path(f"{wav}.soft.pt"))
    soft = soft.reshape(soft.shape[-2], soft.shape[-1]) if soft.dim() == 3 else soft
    if soft.shape[0] != cfg.model.ssl_dim:
        raise InputError(
            f"{wav}.soft.pt has {soft.shape[0]} channels, model.ssl_dim is "
            f"{cfg.model.ssl_dim}; fix: set model.ssl_dim or re-run preprocessing"
        )
    spec_path = wav.with_suffix(".spec.pt")
    spec = _tensor_file(spec_path) if spec_path.is_file() else computed_spec()
    spec = spec.reshape(spec.shape[-2], spec.shape[-1]) if spec.dim() == 3 else spec
    bins = cfg.data.filter_length // 2 + 1
    if spec.shape[0] != bins:
        raise InputError(
            f"{str(spec_path)!r} has {spec.shape[0]} bins, expected {bins} "
            "(filter_length//2+1); fix: match data.filter_length or delete it"
        )
    content = stretch(soft, len(f0), cfg.data.unit_interpolate_mode)
    # The unit count is returned for a note: stretching hides a .soft.pt of another length.
    return spec, torch.from_numpy(f0), torch.from_numpy(uv), content, soft.shape[-1]
