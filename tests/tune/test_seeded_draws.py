"""A seeded sweep draws the same configurations whether or not its driver was restarted
(probe P: after a Ctrl-C and resume, #3 drew lr 0.0536 / batch 2 where `sweeper check
--draws 4` and every uninterrupted run drew 0.0196 / batch 4: the resumed sampler was
reseeded with seed + trials done)."""

from __future__ import annotations

import pytest
from sweep_tools import write_sweep

from sweeper.config import load_sweep
from sweeper.tune._study import SweepStudy


@pytest.mark.parametrize("kind", ["tpe", "random"])
def test_a_reopened_study_draws_what_an_uninterrupted_one_would(tmp_path, kind):
    params = {
        "train.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        "train.batch_size": {"type": "categorical", "choices": [2, 4]},
    }
    cfg = load_sweep(write_sweep(tmp_path, parameters=params, sampler={"kind": kind, "seed": 7}))

    def draws(folder, restart_after):
        folder.mkdir()
        study, out = SweepStudy.for_sweep(cfg, folder), []
        for n in range(4):
            if n == restart_after:  # the driver died: resume reopens the journal
                study = SweepStudy.for_sweep(cfg, folder)
            out.append(study.ask(f"r{n}"))
        return out

    straight = draws(tmp_path / "a", restart_after=None)
    assert draws(tmp_path / "b", restart_after=2) == straight
    assert len({d["train.learning_rate"] for d in straight}) == 4  # (draws, not one value)
