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
def micro_cfg():
    from sweeper.trainers.reference.config import from_dict

    # Short intervals so a few steps exercise logging, validation and checkpoints.
    return from_dict(
        {
            "preset": "micro",
            "train": {"log_interval": 2, "eval_interval": 4, "batch_size": 2, "keep_ckpts": 2},
        }
    )
