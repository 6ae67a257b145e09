"""Folder errors point at the losses: a folder of checkpoints only names them and says the
logs are needed; so-vits-svc's eval/ folder names the run folder above it."""

from __future__ import annotations

import pytest

from sweeper.errors import InputError
from sweeper.logs import read_run

LINE = "2023-02-18 17:28:03,219\t44k\tINFO\t[2.5, 2.2, 9.0, 20.0, 1.5, {step}, 0.0001]\n"


def test_a_folder_of_checkpoints_only_names_them_and_asks_for_the_logs(tmp_path):
    # Before: "...; pass a so-vits-svc run folder such as logs/44k", which it looks like.
    for name in ("G_0.pth", "D_0.pth", "G_800.pth"):
        (tmp_path / name).touch()
    with pytest.raises(InputError) as err:
        read_run(tmp_path)
    message = str(err.value)
    assert "holds checkpoints (G_0.pth, G_800.pth)" in message
    assert "copy that run's train.log" in message and "such as logs/44k" not in message


@pytest.mark.parametrize("with_events", [False, True])
def test_the_eval_folder_points_to_the_run_folder_above_it(tmp_path, events, with_events):
    run = tmp_path / "logs" / "44k"
    (run / "eval").mkdir(parents=True)
    (run / "train.log").write_text("".join(LINE.format(step=s) for s in (0, 200)))
    if with_events:  # so-vits-svc's eval writer logs audio and images: no scalars
        events(run / "eval", [])
    with pytest.raises(InputError, match=rf"eval folder .*: pass {run}$"):
        read_run(run / "eval")
    if with_events:  # the file itself: before 2026-12-07 "no scalar summaries found in ..."
        (file,) = (run / "eval").iterdir()
        expected = rf"^{file} holds no scalars: .*eval folder .*: pass {run}$"
        with pytest.raises(InputError, match=expected):
            read_run(file)
