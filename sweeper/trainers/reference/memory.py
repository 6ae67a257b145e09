"""How much memory a data set takes once decoded, said before it is decoded.

The trainer holds every clip whole in memory: its samples, linear spectrogram and content as
float32 (so-vits-svc's ``all_in_mem``). At 44.1 kHz with the sovits-4.1 config that is about
2.9 GB per hour of audio, more while a clip is decoded; each sweep trial running at the same
time holds its own copy. Past a few GB a run can be killed for memory with no message, so
the estimate is said first, from the WAV headers (reading them costs no decoding).
"""

from __future__ import annotations

from pathlib import Path

from sweeper.errors import InputError
from sweeper.trainers.reference.config import SovitsConfig
from sweeper.trainers.reference.data import read_filelist

LARGE_BYTES = 2 * 1024**3  # per split; a laptop or a sweep of several trials feels this


def wav_header(path: Path) -> tuple[int, int] | None:
    """(sample rate, sample frames per channel) from a RIFF WAV header; None: not a WAV we
    can size (the loader names such files)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            if fh.read(12)[8:12] != b"WAVE":
                return None
            align = rate = 0
            while len(head := fh.read(8)) == 8:
                chunk = int.from_bytes(head[4:], "little")
                if head[:4] == b"fmt ":
                    fmt = fh.read(chunk)
                    rate = int.from_bytes(fmt[4:8], "little")
                    align = int.from_bytes(fmt[12:14], "little")
                    fh.seek(chunk & 1, 1)
                elif head[:4] == b"data":
                    # A stream's 0xFFFFFFFF (or a size past the end): the data runs to the end.
                    data = min(chunk, size - fh.tell())
                    return (rate, data // align) if align else None
                else:
                    fh.seek(chunk + (chunk & 1), 1)
    except OSError:
        return None
    return None


def wav_samples(path: Path) -> int | None:
    """Sample frames per channel from a RIFF WAV header (None: not a WAV we can size)."""
    header = wav_header(path)
    return None if header is None else header[1]


def bytes_per_second(cfg: SovitsConfig) -> float:
    """Decoded float32 bytes per second of audio: samples, and per frame the spectrogram,
    the content and f0/uv/true f0."""
    d = cfg.data
    per_frame = (d.filter_length // 2 + 1) + cfg.model.ssl_dim + 3
    return 4.0 * (d.sampling_rate + d.sampling_rate / d.hop_length * per_frame)


def memory_notes(cfg: SovitsConfig, data_dir: Path, limit: int | None = None) -> list[str]:
    """A line per split whose decoded size passes ``limit`` (default ``LARGE_BYTES``), or one
    for both when only their sum does (1.9 + 0.5 GB said nothing), with the fix."""
    limit = LARGE_BYTES if limit is None else limit
    names = {"train": (cfg.data.training_files, "training"),
             "val": (cfg.data.validation_files, "validation")}  # fmt: skip
    sizes = []
    for rel, split in names.values():
        try:
            wavs = read_filelist(data_dir, rel)
        except InputError:  # the loader says it, a moment later
            continue
        samples = sum(n for n in (wav_samples(w) for w in wavs) if n)
        seconds = samples / cfg.data.sampling_rate
        sizes.append((f"the {split} set", len(wavs), seconds, seconds * bytes_per_second(cfg)))
    over = [size for size in sizes if size[3] > limit]
    if not over and sum(size[3] for size in sizes) > limit:
        over = [("the training and validation sets", sum(s[1] for s in sizes),
                 sum(s[2] for s in sizes), sum(s[3] for s in sizes))]  # fmt: skip
    per_hour = bytes_per_second(cfg) * 3600 / 1e9
    return [
        f"{what} ({clips} clips, {seconds / 3600:.1f} h) take{'s' if 'sets' not in what else ''} "
        f"about {need / 1e9:.1f} GB of memory once decoded: clips are held whole, "
        f"{per_hour:.1f} GB per hour with this config, and each sweep trial running at the same "
        "time holds its own copy; fix: a machine with that memory free, fewer trials at once, "
        "or a shorter filelist (dataset.train_clips in a sweep)"
        for what, clips, seconds, need in over
    ]
