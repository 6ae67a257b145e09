"""A reference sweep's own dataset (``data.dir``) against what its trials will ask of it.

Checked from the WAV headers before Ray starts (in ``check`` and ``run``): a dataset at
another sampling rate than the trials', or fewer training clips than ``dataset.train_clips``
reaches, made every trial that drew it fail, one after the other, while ``check`` said ok
(a probe, 2026-12-07: a 44.1 kHz set under the tiny preset's 16 kHz; train_clips up to 28
over 12 clips).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from sweeper.config import SweepConfig, load_yaml_with_lines
from sweeper.errors import InputError
from sweeper.space import FixedParam

if TYPE_CHECKING:
    from sweeper.trainers.reference.config import SovitsConfig


def _fixed(cfg: SweepConfig, name: str, base: object) -> object | None:
    """The value every trial uses for ``name``: fixed, else the base's; None when searched
    (each trial checks its own draw)."""
    spec = cfg.parameters.params.get(name)
    if spec is None:
        return base
    return spec.value if isinstance(spec, FixedParam) else None


def check_data_dir(cfg: SweepConfig, space_file: str | Path) -> None:
    """data.dir must be a folder where it exists: a regular file there made every trial fail
    (FileExistsError making the toy set, an unreadable filelist otherwise) while check said ok."""
    if cfg.data.dir is None:
        return
    path = Path(cfg.data.dir).expanduser()
    if path.exists() and not path.is_dir():
        at = load_yaml_with_lines(space_file)[1].where(("data", "dir"))
        what = "the toy set is written into it" if cfg.data.toy is not None else (
            "it must hold filelists/ and the wavs they list"
        )
        raise InputError(
            f"{at}: data.dir is a file, not a folder, and {what} (got {cfg.data.dir!r}); fix: "
            "name a folder (a new one is made for toy data), or move that file away"
        )


def _unreadable(wavs: list[Path], listed: Path, at: str) -> None:
    """Refuse wavs whose header cannot be read: every trial failed "cannot read ... as WAV"
    on them (a probe listed a 0-byte wav) while check said ok."""
    from sweeper.trainers.reference.memory import wav_header

    bad = [w for w in wavs if wav_header(w) is None]
    if bad:
        raise InputError(
            f"{at}: {len(bad)} of the {len(wavs)} wavs in {str(listed)!r} cannot be read as "
            f"WAV (first: {str(bad[0])!r}, {bad[0].stat().st_size} bytes), and every trial "
            "would fail on them; fix: re-export them as PCM WAV, or remove them from the "
            "filelist"
        )


def _too_short(
    headers: dict[Path, tuple[int, int]], listed_count: int, rate: int, hop: int, listed: Path,
    at: str,
) -> None:  # fmt: skip
    """The trainer's length rule from the headers, (rate, samples) per wav: two whole
    frames, and the 0.06 s of whole frames Praat needs (a 0-sample wav and a 0.04 s one
    passed check; a probe, 2026-12-07)."""
    from sweeper.data.features import PITCH_MIN_SECONDS

    need = max(2 * hop, math.ceil(PITCH_MIN_SECONDS * rate / hop) * hop)
    short = [(w, samples) for w, (_, samples) in headers.items() if samples < need]
    if short:
        first, samples = short[0]
        raise InputError(
            f"{at}: {len(short)} of the {listed_count} wavs in {str(listed)!r} are shorter than "
            f"the {need / rate:.3f} s every trial needs (first: {str(first)!r}, "
            f"{samples / rate:.3f} s; two {hop}-sample frames and Praat's "
            f"{PITCH_MIN_SECONDS:.2f} s), and every trial would refuse them; fix: remove them "
            "from the filelist (so-vits-svc's preprocess_flist_config.py skips clips under 0.3 s)"
        )


def _speakers(cfg: SweepConfig, base: SovitsConfig, wavs: list[Path], at: str) -> None:
    """The base config's spk (or model.n_speakers without it) against the speaker folders, as
    each trial checks them (a folder missing from spk passed check; ids past n_speakers are
    the config loader's to refuse)."""
    from sweeper.trainers.reference.data import speaker_map, speaker_of

    searched = {"spk", "model.n_speakers"} & set(cfg.parameters.params)
    if not wavs or searched:
        return
    try:
        spk = speaker_map(base, wavs)
    except InputError as err:
        raise InputError(f"{at}: {err}") from None
    missing = sorted({speaker_of(w) for w in wavs} - set(spk))
    if missing:
        raise InputError(
            f"{at}: speaker folder(s) {', '.join(map(repr, missing))} of data.dir are not in the "
            f"base config's spk {sorted(spk)}, and every trial would refuse them; fix: add them "
            "to spk in the base config.json"
        )


def check_data_fits(cfg: SweepConfig, space_file: str | Path) -> None:
    """Raise InputError (with the YAML line) when the wavs of ``data.dir`` are at another
    sampling rate than every trial's or shorter than a trial accepts, their speaker folders
    are not in the base config's spk, or ``dataset.train_clips`` reaches past the training
    filelist. Silent when the data is not on this machine (``missing_data`` says so)."""
    if cfg.trainer != "reference" or cfg.data.dir is None or cfg.data.toy is not None:
        return
    from sweeper.trainers.reference.config import load_config
    from sweeper.trainers.reference.data import read_filelist
    from sweeper.trainers.reference.memory import wav_header

    base_config = load_config(cfg.base.preset or str(cfg.base.config))
    base = base_config.data
    root = Path(cfg.data.dir).expanduser()
    lines = load_yaml_with_lines(space_file)[1]
    at_dir = lines.where(("data", "dir"))
    rate = _fixed(cfg, "data.sampling_rate", base.sampling_rate)
    train: list[Path] | None = None
    everything: list[Path] = []
    for key in ("training_files", "validation_files"):
        rel = _fixed(cfg, f"data.{key}", getattr(base, key))
        if rel is None:
            continue
        try:
            wavs = read_filelist(root, str(rel))
        except InputError:
            return  # not here, or unreadable: missing_data and the trainer say so
        if not all(w.is_file() for w in wavs):
            return
        _unreadable(wavs, root / str(rel), at_dir)
        everything += wavs
        if key == "training_files":
            train = wavs
        if not isinstance(rate, int):
            continue
        headers = {w: h for w in wavs if (h := wav_header(w)) is not None}  # (rate, samples)
        rates = {w: h[0] for w, h in headers.items()}
        other = [w for w, r in rates.items() if r != rate]
        if other:
            at = (
                cfg.parameters.where("data.sampling_rate")
                if "data.sampling_rate" in cfg.parameters.params
                else at_dir
            )
            first = other[0]
            raise InputError(
                f"{at}: {len(other)} of the {len(wavs)} wavs in {str(root / str(rel))!r} are "
                f"not at the trials' data.sampling_rate {rate} Hz (first: {str(first)!r} at "
                f"{rates[first]} Hz), and every trial would refuse them; fix: a fixed "
                f"data.sampling_rate: {rates[first]} under parameters when all the wavs are at "
                "that rate, or resample them (so-vits-svc's resample.py)"
            )
        hop = _fixed(cfg, "data.hop_length", base.hop_length)
        if isinstance(hop, int):
            _too_short(headers, len(wavs), rate, hop, root / str(rel), at_dir)
    _speakers(cfg, base_config, everything, at_dir)
    spec = cfg.parameters.params.get("dataset.train_clips")
    if train is None or spec is None:
        return
    values = spec.values() if not hasattr(spec, "low") else (spec.low, spec.high)
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if numbers and max(numbers) > len(train):
        raise InputError(
            f"{cfg.parameters.where('dataset.train_clips')}: parameters[dataset.train_clips] "
            f"reaches {max(numbers)} but the training filelist lists {len(train)} clips, and "
            f"every trial that drew more would fail (got {max(numbers)}); fix: keep it <= "
            f"{len(train)}"
        )
