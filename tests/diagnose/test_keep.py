"""checkpoint_for(..., unusable_from=): never a checkpoint saved at or after a divergence."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweeper.diagnose import checkpoint_for
from sweeper.logs import RunLog


@pytest.mark.parametrize(
    ("best", "saved"),
    [
        # Every kept one was written after the NaNs began: none is advised (G_0 never is).
        (15000, (0, 16000, 17000)),
        (10000, (0, 17000, 18000)),
    ],
)
def test_a_checkpoint_saved_at_or_after_a_divergence_is_never_advised(best, saved):
    run = RunLog(Path("x"), {}, checkpoints=saved)
    assert checkpoint_for(best, run, unusable_from=16000) is None
    # One kept before the divergence is still the answer, even when it predates the best.
    kept = RunLog(Path("x"), {}, checkpoints=(12000, *saved))
    after = f", the earliest kept after step {best}" if best < 12000 else ""
    expected = f"G_12000.pth{after}"
    assert checkpoint_for(best, kept, unusable_from=16000) == expected


def test_save_lines_count_as_kept_checkpoints_after_a_divergence_too():
    run = RunLog(Path("x"), {}, logged_checkpoints=(0, 28000, 28800))
    assert checkpoint_for(13600, run, unusable_from=24000) is None
    assert checkpoint_for(13600, run) == (
        "G_28000.pth (saved per train.log), the earliest kept after step 13600"
    )


def test_with_no_checkpoint_known_the_config_interval_names_the_file_that_would_hold_the_best():
    # 200k steps logged every 10, no G_*.pth beside the log: "G_152960.pth if saved" named
    # a file so-vits-svc cannot write (it saves every eval_interval steps).
    run = RunLog(Path("x"), {}, save_every=800)
    assert checkpoint_for(152960, run) == (
        "G_152800.pth if saved (none is known; config.json saves every 800 steps)"
    )
    assert "G_0" not in (checkpoint_for(500, run) or "")  # only G_0 is before step 800
    assert checkpoint_for(152960, RunLog(Path("x"), {})) == (
        "the G_<step>.pth saved last at or before step 152960, if any (none is known)"
    )
