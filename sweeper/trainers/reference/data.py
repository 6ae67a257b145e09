"""Clips for training and validation, read from either of two layouts.

1. so-vits-svc preprocessed: next to ``X.wav`` lie ``X.wav.soft.pt`` (content ``[D, T']``),
   ``X.wav.f0.npy`` (f0, or the ``(f0, uv)`` object pair so-vits-svc 4.1 writes) and
   ``X.spec.pt`` (linear spectrogram ``[filter_length//2+1, T]``; computed from the wav when
   absent, as so-vits-svc's loader does). They are used as they are.
2. Plain wavs: f0 from Praat, content from the configured front end, spectrogram in torch.

All items are decoded once and kept in memory (memory.py says the size first when it is
large). Lengths must agree within 3 frames (so-vits-svc's tolerance); every failure names
the file.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sweeper.data.features import PITCH_MIN_SECONDS, f0_praat, log_mel_content, read_wav
from sweeper.errors import InputError
from sweeper.trainers._dataset import filelist_entries
from sweeper.trainers.reference.config import SovitsConfig
from sweeper.trainers.reference.mel import spectrogram
from sweeper.trainers.reference.preprocessed import load_sovits_features, stretch

LENGTH_TOLERANCE = 3  # frames, as so-vits-svc's data loader asserts


@dataclass
class Clip:
    """One decoded clip; all frame tensors share the last dimension ``T``."""

    path: str  # the wav, as resolved from the filelist
    audio: torch.Tensor  # [T * hop] float32
    spec: torch.Tensor  # [F, T]
    f0: torch.Tensor  # [T] Hz, 0 where unvoiced
    uv: torch.Tensor  # [T] 1.0 voiced / 0.0 unvoiced
    content: torch.Tensor  # [ssl_dim, T]
    sid: int  # speaker id
    true_f0: torch.Tensor | None  # [T] from *.wav.f0_true.npy (toy data), for evaluation
    preprocessed: bool = False  # content, f0 and spectrogram from so-vits-svc's files
    units: int = 0  # frames of the .soft.pt before stretching (preprocessed clips)


def speaker_of(wav: Path | str) -> str:
    """The speaker folder's name in NFC: macOS writes folder names in NFD, a config's
    ``spk`` keys are usually NFC, and the two look the same."""
    return unicodedata.normalize("NFC", Path(wav).parent.name)


def clip_name(path: Path | str) -> str:
    """``speaker/file.wav``: so-vits-svc's per-speaker names (0.wav, 1.wav) repeat."""
    return f"{Path(path).parent.name}/{Path(path).name}"


def read_filelist(data_dir: Path, rel: str) -> list[Path]:
    path = data_dir / rel
    if not path.is_file():
        raise InputError(
            f"missing filelist {str(path)!r}; fix: write the filelists with so-vits-svc's "
            "preprocessing (resample.py, then preprocess_flist_config.py), or set "
            "data.training_files / data.validation_files (for a toy set: `sweeper data toy "
            "EMPTY_DIR`)"
        )
    # Made absolute without following links: the speaker is the folder the filelist names,
    # not a link's target (a linked dataset trained each clip as its own speaker).
    entries = filelist_entries(path)
    wavs = [Path(os.path.abspath(data_dir / ln)) for ln in entries]
    if not wavs:
        raise InputError(f"filelist {str(path)!r} is empty; fix: list at least one wav")
    for entry, wav in zip(entries, wavs, strict=True):
        if os.name != "nt" and _WINDOWS_DRIVE.match(entry) and not wav.is_file():
            raise InputError(_windows_path(path, entry, data_dir))
    return wavs


_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:/")


def _windows_path(filelist: Path, entry: str, data_dir: Path) -> str:
    """A filelist written on Windows with absolute paths (D:/so-vits-svc/dataset/...) read
    here: the message named data_dir/D:/... as a missing file (a probe, 2026-12-07)."""
    parts = entry.split("/")[1:]
    tails = (Path(*parts[i:]) for i in range(len(parts)))
    here = next((tail for tail in tails if (data_dir / tail).is_file()), None)
    found = f"; ./{here.as_posix()} exists under {data_dir}" if here is not None else ""
    return (
        f"filelist {str(filelist)!r} lists {entry!r}, a Windows path{found}; fix: write the "
        "filelists with paths relative to the data folder (e.g. ./dataset/44k/SPEAKER/X.wav)"
    )


def speaker_map(cfg: SovitsConfig, wavs: list[Path]) -> dict[str, int]:
    """Config ``spk`` if given, else sorted speaker folder names -> 0..n-1."""
    if cfg.spk:
        return {unicodedata.normalize("NFC", name): i for name, i in cfg.spk.items()}
    names = sorted({speaker_of(w) for w in wavs})
    if len(names) > cfg.model.n_speakers:
        raise InputError(
            f"{len(names)} speaker folders but model.n_speakers="
            f"{cfg.model.n_speakers}; fix: raise model.n_speakers"
        )
    return {name: i for i, name in enumerate(names)}


class ContentFrontEnd:
    """Content features for plain wavs: built-in log-mel, or a user TorchScript encoder."""

    def __init__(self, cfg: SovitsConfig) -> None:
        self.cfg = cfg
        self.module = None
        spec = cfg.data.content_encoder
        kind, _, target = spec.partition(":")
        if kind in ("torchscript", "export"):
            path = Path(target)
            if not path.is_file():
                raise InputError(
                    f"content encoder {str(path)!r} not found; fix: the path to a {kind} "
                    "export of ContentVec/HuBERT, or content_encoder: mel"
                )
            if kind == "torchscript":
                self.module = torch.jit.load(str(path), map_location="cpu").eval()
            else:
                self.module = torch.export.load(str(path)).module()

    def __call__(self, audio: np.ndarray, frames: int, name: str) -> torch.Tensor:
        d = self.cfg.data
        if self.module is None:
            return torch.from_numpy(
                log_mel_content(
                    audio,
                    d.sampling_rate,
                    d.filter_length,
                    d.hop_length,
                    self.cfg.model.ssl_dim,
                    d.mel_fmax,
                )
            )
        from scipy.signal import resample_poly

        wav16 = resample_poly(audio, 16000, d.sampling_rate).astype(np.float32)
        with torch.no_grad():
            out = self.module(torch.from_numpy(wav16)[None])  # contract: [1, T', D]
        if out.dim() != 3 or out.shape[-1] != self.cfg.model.ssl_dim:
            raise InputError(
                f"content encoder gave shape {tuple(out.shape)} for {name!r}; fix: "
                f"it must return [1, frames, ssl_dim={self.cfg.model.ssl_dim}]"
            )
        return stretch(out[0].T.float(), frames, d.unit_interpolate_mode)


def load_clip(wav: Path, cfg: SovitsConfig, spk: dict[str, int], front: ContentFrontEnd) -> Clip:
    d = cfg.data
    audio = read_wav(wav, d.sampling_rate)
    frames = len(audio) // d.hop_length
    if frames < 2:
        raise InputError(f"{str(wav)!r} is shorter than two frames; fix: remove it")
    if frames * d.hop_length < PITCH_MIN_SECONDS * d.sampling_rate:
        # Validation tracks the pitch of the generated clip (as long as its whole frames).
        whole = f"{frames * d.hop_length / d.sampling_rate:.3f} s"
        raise InputError(
            f"{str(wav)!r} is {len(audio) / d.sampling_rate:.3f} s long ({whole} in whole "
            f"{d.hop_length}-sample frames), under the {PITCH_MIN_SECONDS:.2f} s Praat's pitch "
            "tracker needs "
            "(so-vits-svc's preprocess_flist_config.py skips clips under 0.3 s); fix: remove "
            "it from the filelist"
        )
    speaker = speaker_of(wav)
    if speaker not in spk:
        raise InputError(
            f"speaker {speaker!r} of {str(wav)!r} is not in spk {sorted(spk)}; "
            "fix: add it to the config's spk map"
        )
    # X.spec.pt may be missing: so-vits-svc's loader computes it from the wav when absent
    # (4.0's preprocessing writes none); until 2026-12-07 such a set was refused (a probe).
    side = [Path(f"{wav}.f0.npy"), Path(f"{wav}.soft.pt")]
    present = [p.is_file() for p in side]
    if any(present) and not all(present):
        missing = side[present.index(False)]
        raise InputError(
            f"missing preprocessed file {str(missing)!r} (its siblings exist); "
            "fix: re-run so-vits-svc preprocessing or delete the partial files"
        )
    units = 0

    def computed_spec() -> torch.Tensor:
        return spectrogram(
            torch.from_numpy(audio)[None], d.filter_length, d.hop_length, d.win_length
        )[0]

    if all(present):
        spec, f0, uv, content, units = load_sovits_features(wav, cfg, frames, computed_spec)
    else:
        f0 = torch.from_numpy(f0_praat(audio, d.sampling_rate, d.hop_length, frames))
        uv = (f0 > 0).float()
        spec = computed_spec()
        content = front(audio, frames, str(wav))
    lengths = {
        "audio": frames,
        "spec": spec.shape[-1],
        "f0": len(f0),
        "content": content.shape[-1],
    }
    if max(lengths.values()) - min(lengths.values()) > LENGTH_TOLERANCE:
        raise InputError(
            f"frame counts of {str(wav)!r} disagree: {lengths}; fix: re-run "
            f"preprocessing with hop_length={d.hop_length}"
        )
    t = min(lengths.values())
    true_path = Path(f"{wav}.f0_true.npy")
    true_f0 = torch.from_numpy(np.load(true_path)[:t]) if true_path.is_file() else None
    return Clip(
        str(wav),
        torch.from_numpy(audio[: t * d.hop_length]).clone(),
        spec[:, :t],
        f0[:t].float(),
        uv[:t].float(),
        content[:, :t].float(),
        spk[speaker],
        true_f0,
        all(present),
        units,
    )


def load_split(cfg: SovitsConfig, data_dir: str | Path, split: str) -> list[Clip]:
    """``split`` is "train" or "val"; the speaker map spans both filelists."""
    root = Path(data_dir)
    train = read_filelist(root, cfg.data.training_files)
    val = read_filelist(root, cfg.data.validation_files)
    spk = speaker_map(cfg, train + val)
    front = ContentFrontEnd(cfg)
    clips, bad = [], []
    for wav in train if split == "train" else val:
        try:
            clips.append(load_clip(wav, cfg, spk, front))
        except InputError as err:  # go on: name every bad file in one run, not one per run
            bad.append((wav, err))
    if len(bad) == 1:
        raise bad[0][1]
    if bad:
        others = [clip_name(w) for w, _ in bad[1:]]
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        raise InputError(
            f"{len(bad)} {split} files cannot be used (also {', '.join(others[:5])}{more}); "
            f"the first: {bad[0][1]}"
        )
    return clips


def collate(
    clips: list[Clip], hop: int, max_frames: int, generator=None
) -> dict[str, torch.Tensor]:
    """Pad a batch; clips longer than ``max_frames`` get a random crop of ``max_frames - 10``."""
    crops = []
    for c in clips:
        t = c.f0.shape[0]
        if t > max_frames:
            keep = max_frames - 10
            s = int(torch.randint(0, t - keep + 1, (1,), generator=generator))
        else:
            keep, s = t, 0
        crops.append((c, s, keep))
    tmax = max(k for _, _, k in crops)
    n = len(clips)
    batch = {
        "content": torch.zeros(n, clips[0].content.shape[0], tmax),
        "f0": torch.zeros(n, tmax),
        "uv": torch.zeros(n, tmax),
        "spec": torch.zeros(n, clips[0].spec.shape[0], tmax),
        "audio": torch.zeros(n, 1, tmax * hop),
        "lengths": torch.zeros(n, dtype=torch.long),
        "sid": torch.zeros(n, dtype=torch.long),
    }
    for i, (c, s, k) in enumerate(crops):
        batch["content"][i, :, :k] = c.content[:, s : s + k]
        batch["f0"][i, :k] = c.f0[s : s + k]
        batch["uv"][i, :k] = c.uv[s : s + k]
        batch["spec"][i, :, :k] = c.spec[:, s : s + k]
        batch["audio"][i, 0, : k * hop] = c.audio[s * hop : (s + k) * hop]
        batch["lengths"][i] = k
        batch["sid"][i] = c.sid
    return batch


def epoch_batches(n_items: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The batch order of one epoch: a permutation seeded by (seed, epoch), so resume can
    recompute it, repeated from its start to fill the last batch, as so-vits-svc's bucket
    sampler pads each bucket: every batch holds ``batch_size`` items. Until 2026-12-07 the
    last batch was kept partial, so a batch never held more clips than exist: 1-clip trials
    trained bit for bit alike at batch_size 2 and 4 (a probe); now each copy of a clip gets
    its own random segment, as in so-vits-svc."""
    g = torch.Generator().manual_seed(seed * 100003 + epoch)
    order = torch.randperm(n_items, generator=g).tolist()
    missing = -n_items % batch_size
    order += (order * (missing // n_items + 1))[:missing]
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
