"""Shared fixtures: a small toy dataset and the micro preset, on one torch thread."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _one_thread():
    # The CI box has 2 cores shared with other jobs; one thread keeps timings stable.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def toy_dir(tmp_path_factory):
    from sweeper.data.toy import ToySpec, write_toy_dataset

    root = tmp_path_factory.mktemp("toy")
    write_toy_dataset(
        root,
        ToySpec(
            n_speakers=2,
            clips_per_speaker=3,
            val_per_speaker=1,
            seconds=1.0,
            max_harmonics=20,
            seed=3,
        ),
    )
    return root


@pytest.fixture
def toy_copy(toy_dir, tmp_path):
    """A copy of the toy set that a test may damage."""
    import shutil

    dest = tmp_path / "data"
    shutil.copytree(toy_dir, dest)
    return dest


@pytest.fixture
def micro_cfg():
    from sweeper.trainers.reference.config import from_dict

    # Short intervals so a few steps exercise logging, validation and checkpoints.
    return from_dict(
        {
            "preset": "micro",
            "train": {"log_interval": 2, "eval_interval": 4, "batch_size": 2, "keep_ckpts": 2},
        }
    )


def _write_sovits_files(wav, cfg, frames_delta=0):
    """so-vits-svc 4.1's preprocessed files, with recognisable contents: f0 300 Hz on every
    frame (4.1 interpolates through unvoiced ones) and the voicing in uv, 0 on the first
    quarter of the frames."""
    import numpy as np
    from scipy.io import wavfile

    _, data = wavfile.read(wav)
    frames = len(data) // cfg.data.hop_length
    f0 = np.full(frames + frames_delta, 300.0, dtype=np.float32)
    uv = np.ones_like(f0)
    uv[: frames // 4] = 0.0
    pair = np.empty(2, dtype=object)
    pair[0], pair[1] = f0, uv
    np.save(f"{wav}.f0.npy", pair, allow_pickle=True)
    # Content at a coarser rate (like ContentVec's 20 ms): the loader stretches it.
    soft = torch.arange(frames // 2, dtype=torch.float32).repeat(cfg.model.ssl_dim, 1)[None]
    torch.save(soft, f"{wav}.soft.pt")
    spec = torch.full((cfg.data.filter_length // 2 + 1, frames), 0.5)
    torch.save(spec, wav.with_suffix(".spec.pt"))


@pytest.fixture
def write_sovits_files():
    """``write_sovits_files(wav, cfg, frames_delta=0)`` writes 4.1 files next to ``wav``."""
    return _write_sovits_files
