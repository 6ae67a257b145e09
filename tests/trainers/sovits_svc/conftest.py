"""A fake so-vits-svc checkout (stand-in train.py and modules), its data and trial specs."""

from __future__ import annotations

import json
import math
import shutil
import struct
import wave
from pathlib import Path

import pytest

from sweeper.config import SovitsSection
from sweeper.trainers._api import TrialSpec

HERE = Path(__file__).resolve().parent
RATE, HOP = 16000, 128

BASE_CONFIG = {
    "train": {
        "log_interval": 5, "eval_interval": 100, "seed": 1234, "epochs": 1000,
        "learning_rate": 1e-4, "betas": [0.8, 0.99], "eps": 1e-9, "batch_size": 2,
        "fp16_run": False, "lr_decay": 0.999875, "segment_size": 1280, "c_mel": 45,
        "c_kl": 1.0, "port": "8001", "keep_ckpts": 3,
    },
    "data": {
        "training_files": "filelists/train.txt", "validation_files": "filelists/val.txt",
        "max_wav_value": 32768.0, "sampling_rate": RATE, "filter_length": 512,
        "hop_length": HOP, "win_length": 512, "n_mel_channels": 40, "mel_fmin": 0.0,
        "mel_fmax": None,
    },
    "model": {"upsample_rates": [8, 4, 4], "ssl_dim": 4, "gin_channels": 4, "n_speakers": 1},
    "spk": {"singer": 0},
}  # fmt: skip


def _write_sine(path: Path, seconds: float = 0.4, amplitude: float = 0.3) -> None:
    n = int(RATE * seconds)
    samples = [int(amplitude * 32767 * math.sin(2 * math.pi * 220 * i / RATE)) for i in range(n)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(struct.pack(f"<{n}h", *samples))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder laid out like a so-vits-svc checkout, made of stand-ins."""
    root = tmp_path / "so-vits-svc"
    shutil.copytree(HERE / "standin_checkout", root)
    shutil.copyfile(HERE / "standin_sovits_train.py", root / "train.py")
    (root / "configs").mkdir()
    (root / "configs" / "config.json").write_text(json.dumps(BASE_CONFIG, indent=2))
    # Paths relative to the checkout, as preprocess_flist_config.py writes them.
    for name in ("a", "b", "c"):
        _write_sine(root / "dataset" / "44k" / "singer" / f"{name}.wav")
    (root / "filelists").mkdir()
    (root / "filelists" / "train.txt").write_text(
        "./dataset/44k/singer/a.wav\n./dataset/44k/singer/b.wav\n"
    )
    (root / "filelists" / "val.txt").write_text("./dataset/44k/singer/c.wav\n")
    return root


@pytest.fixture
def trial(checkout: Path, tmp_path: Path):
    """trial(name, **options) -> TrialSpec for a stand-in run in tmp_path/<name>."""

    def make(name: str = "t1", max_steps: int = 40, params=None, **options) -> TrialSpec:
        settings = SovitsSection(
            checkout=str(checkout),
            **{"eval_points": 2, "eval_device": "cpu", "stop_grace_s": 1.0, "poll_s": 0.1,
               **options},
        )  # fmt: skip
        return TrialSpec(
            params=params or {},
            run_dir=str(tmp_path / name),
            data_dir=str(checkout),
            max_steps=max_steps,
            config=str(checkout / "configs" / "config.json"),
            gpu_ids=("0",),
            options=settings.to_options(),
        )

    return make
