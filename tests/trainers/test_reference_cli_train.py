"""``sweeper train``: the CLI module contract, end to end on the micro preset."""

from __future__ import annotations

import argparse

import pytest
import torch

from sweeper.cli import _train
from sweeper.errors import InputError


def _parse(argv):
    parser = argparse.ArgumentParser()
    _train.configure(parser)
    return parser.parse_args(argv)


def test_train_runs_and_resumes(toy_dir, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["micro", "--data", str(toy_dir), "--out", str(out), "--threads", "1", "--no-progress"]
    assert _train.run(_parse([*argv, "--max-steps", "2"])) == 0
    captured = capsys.readouterr()
    assert "step 2:" in captured.out
    # Until 2026-12-06 --no-progress also hid the data line and the resume notes.
    assert "data: 4 training clips (" in captured.err
    # What was read is in train.log (and on stderr).
    log = (out / "train.log").read_text()
    assert "data: 4 training clips (" in log and "2 validation clips, speaker ids [0, 1]" in log
    assert (out / "G_2.pth").is_file()
    assert _train.run(_parse([*argv, "--max-steps", "3"])) == 0  # resumes from step 2
    captured = capsys.readouterr()
    assert "step 3:" in captured.out and f"resuming {out} at step 2" in captured.err
    # Run again at its end: nothing to train is not a divergence (it said so, exit 1).
    assert _train.run(_parse([*argv, "--max-steps", "3"])) == 0
    out_text = capsys.readouterr()
    assert "step 3: already at --max-steps, nothing to train" in out_text.out
    assert "diverged" not in out_text.out + out_text.err


@pytest.mark.parametrize(
    "extra,fragment", [(["--max-steps", "-1"], "max-steps"), (["--threads", "0"], "threads")]
)
def test_bad_options_are_input_errors(tmp_path, extra, fragment):
    args = _parse(["micro", "--data", str(tmp_path), "--out", str(tmp_path / "o"), *extra])
    with pytest.raises(InputError, match=fragment):
        _train.run(args)


def test_missing_filelist_is_an_input_error(tmp_path):
    args = _parse(
        ["micro", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--no-progress"]
    )
    with pytest.raises(InputError, match=r"train\.txt"):
        _train.run(args)


def test_a_run_that_blows_up_exits_1_and_says_so(toy_dir, tmp_path, capsys):
    config = tmp_path / "hot.yaml"
    config.write_text("preset: micro\ntrain: {learning_rate: 1.0e+6, eval_interval: 2}\n")
    out = tmp_path / "run"
    argv = [str(config), "--data", str(toy_dir), "--out", str(out), "--threads", "1"]
    assert _train.run(_parse([*argv, "--no-progress", "--max-steps", "4"])) == 1
    captured = capsys.readouterr()
    assert "val/mel nan" in captured.out
    assert "training diverged" in captured.err and "learning_rate in a fresh --out" in captured.err
    # Step 0 (the untrained model) had a value: "no finite val/mel at any step" was wrong.
    assert "no finite val/mel after step 0 (the untrained model)" in captured.out
    # It stops at the first validation with NaN weights and saves no pair of them: it trained
    # on to --max-steps, saving NaN pairs that pushed the finite ones out (a probe, 2026-12-08).
    log = (out / "train.log").read_text()
    assert "diverged: the weights hold NaN or inf at step 2; stopped here" in log
    assert not list(out.glob("G_*.pth")) and not list(out.glob("D_*.pth"))
    # The advice followed in the same --out trains from the start, at the new rate.
    config.write_text("preset: micro\ntrain: {learning_rate: 1.0e-4, eval_interval: 2}\n")
    assert _train.run(_parse([*argv, "--no-progress", "--max-steps", "2"])) == 0
    # A pair holding NaN weights (another tool's, or one from before) is refused on resume:
    # it trained NaN on from them, whatever the new learning rate.
    g = torch.load(out / "G_2.pth", weights_only=False)
    next(iter(g["model"].values())).fill_(float("nan"))
    torch.save(g, out / "G_2.pth")
    with pytest.raises(InputError, match=r"G_2\.pth holds NaN or inf weights .*fix: a fresh"):
        _train.run(_parse([*argv, "--no-progress", "--max-steps", "4"]))


def test_resuming_with_another_model_config_is_refused_in_one_line(toy_dir, tmp_path):
    out = tmp_path / "run"
    common = ["--data", str(toy_dir), "--out", str(out), "--threads", "1", "--no-progress"]
    assert _train.run(_parse(["micro", *common, "--max-steps", "1"])) == 0
    with pytest.raises(InputError, match="holds checkpoints of another model") as info:
        _train.run(_parse(["tiny", *common, "--max-steps", "2"]))
    assert "\n" not in str(info.value)


def test_a_so_vits_svc_encoder_name_without_its_weights_is_announced(toy_dir, tmp_path):
    config = tmp_path / "v768.yaml"
    config.write_text("preset: micro\nmodel: {speech_encoder: vec768l12}\n")
    out = tmp_path / "run"
    argv = [str(config), "--data", str(toy_dir), "--out", str(out), "--threads", "1"]
    assert _train.run(_parse([*argv, "--no-progress", "--max-steps", "1"])) == 0
    log = (out / "train.log").read_text()
    assert "content: the built-in log-mel (no .soft.pt files), not model.speech_encoder's" in log


def test_a_lone_g_in_the_out_folder_is_named_before_it_is_overwritten(toy_dir, tmp_path):
    """A G_<n>.pth without its D_<n>.pth (another tool's file) was skipped silently, then
    replaced at step n."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "G_2.pth").write_bytes(b"the user's own model")
    argv = ["micro", "--data", str(toy_dir), "--out", str(out), "--threads", "1", "--no-progress"]
    assert _train.run(_parse([*argv, "--max-steps", "2"])) == 0
    log = (out / "train.log").read_text()
    assert f"{out / 'G_2.pth'} has no D_2.pth beside it" in log
    assert "overwrites it at step 2; move it away to keep it" in log


def test_a_run_that_only_got_worse_than_untrained_says_so(toy_dir, tmp_path, capsys):
    # A collapse: val/mel 97 untrained, then ~265 at every validation. It printed "best
    # val/mel 265 at step 4" and nothing else, as if the run had worked.
    config = tmp_path / "hot.yaml"
    config.write_text("preset: micro\ntrain: {learning_rate: 0.3, eval_interval: 4}\n")
    argv = [str(config), "--data", str(toy_dir), "--out", str(tmp_path / "run"), "--threads", "1"]
    assert _train.run(_parse([*argv, "--no-progress", "--max-steps", "8"])) == 0  # docs: why
    err = capsys.readouterr().err
    assert "val/mel never got below its step-0 value" in err
    assert "fix: a lower train.learning_rate (this run: 0.3" in err


def test_a_healthy_run_gets_no_collapse_line(toy_dir, tmp_path, capsys):
    argv = ["micro", "--data", str(toy_dir), "--out", str(tmp_path / "run"), "--threads", "1"]
    assert _train.run(_parse([*argv, "--no-progress", "--max-steps", "4"])) == 0
    assert "never got below" not in capsys.readouterr().err


def test_max_steps_0_says_no_step_ran(toy_dir, tmp_path, capsys):
    # It said "no finite val/mel at any step", as a run that blew up would.
    argv = ["micro", "--data", str(toy_dir), "--out", str(tmp_path / "run"), "--threads", "1"]
    assert _train.run(_parse([*argv, "--no-progress", "--max-steps", "0"])) == 0
    out = capsys.readouterr().out
    assert "no training step ran" in out and "no finite" not in out


def test_ctrl_c_says_the_step_and_the_checkpoint_a_rerun_resumes_from(
    toy_dir, tmp_path, capsys, monkeypatch
):
    """Until 2026-12-07 a Ctrl-C said only "interrupted": the steps since the newest pair,
    trained again on resume, were lost without a word."""
    from sweeper import cli
    from sweeper.trainers.reference import training

    config = tmp_path / "often.yaml"
    config.write_text("preset: micro\ntrain: {log_interval: 1, eval_interval: 2}\n")
    real_train = training.train

    def ctrl_c_at_step(stop_at):
        def report(step, metrics, checkpoint_dir=None):
            if step == stop_at:  # a Ctrl-C right after this step's report
                raise KeyboardInterrupt

        def train(*args, **kwargs):
            return real_train(*args, **kwargs, report=report)

        monkeypatch.setattr(training, "train", train)

    out = tmp_path / "run"
    argv = ["train", str(config), "--data", str(toy_dir), "--out", str(out), "--no-progress"]
    ctrl_c_at_step(3)
    assert cli.main(argv) == cli.INTERRUPTED
    line = capsys.readouterr().err.splitlines()[-1]
    assert line == (
        f"sweeper train: interrupted at step 3; the newest checkpoint is G_2.pth: the same "
        f"command resumes {out} from step 2 (1 step(s) to train again)"
    )
    assert line.removeprefix("sweeper train: interrupted ") in (out / "train.log").read_text()
    ctrl_c_at_step(4)  # resumed from step 2, as said; step 4 is a checkpoint step
    assert cli.main(argv) == cli.INTERRUPTED
    err = capsys.readouterr().err
    assert f"resuming {out} at step 2" in err
    assert err.splitlines()[-1].endswith(
        f"the newest checkpoint is G_4.pth: the same command resumes {out} from step 4"
    )
    ctrl_c_at_step(0)  # the untrained model's report, on a new folder: nothing kept yet
    fresh = tmp_path / "fresh"
    argv[argv.index(str(out))] = str(fresh)
    assert cli.main(argv) == cli.INTERRUPTED
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"sweeper train: interrupted at step 0, before the first checkpoint: nothing of this "
        f"run was kept, the same command starts {fresh} again from step 0"
    )
