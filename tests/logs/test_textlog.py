"""train.log reading: the two real logs, 4.0/4.1 lines, restarts and every kind of bad input."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest

from sweeper.errors import InputError
from sweeper.logs import read_train_log

PREFIX = "2023-02-18 17:28:03,219\t44k\tINFO\t"
HPARAMS = PREFIX + "{'train': {'log_interval': 200, 'c_mel': 45}, 'model_dir': './logs\\\\44k'}"


def line40(step: int, mel: float = 20.0, *, lr: float = 1e-4) -> str:
    return PREFIX + f"[2.5, 2.2, 9.0, {mel!r}, 1.5, {step}, {lr!r}]"


def line41(step: int, mel: float = 20.0, *, lr: float = 1e-4) -> str:
    losses = [2.5, 2.2, 9.0, mel, 1.5]
    return (
        PREFIX + f"Losses: [{', '.join(map(repr, losses))}], step: {step}, lr: {lr!r}, "
        f"reference_loss: {sum(losses)!r}"
    )


def write(tmp_path, lines, *, newline_at_end=True):
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + ("\n" if newline_at_end else ""))
    return path


def test_skwths_real_log_has_six_restarts_and_a_clean_timeline(real_log):
    run = read_train_log(real_log("SKwths+so-vits-svc-dodo.train.log"))
    mel = run.series["loss/g/mel"]
    assert len(mel) == 101
    assert (int(mel.steps[0]), int(mel.steps[-1])) == (0, 20000)
    np.testing.assert_array_equal(mel.steps, np.arange(0, 20001, 200))
    assert run.restarts == 6
    assert run.overwritten == 6
    assert mel.values[-1] == pytest.approx(18.21904754638672)
    assert any("6 restart(s)" in note for note in run.notes)
    assert run.logged_checkpoints[:3] == (0, 1000, 2000)
    assert run.logged_checkpoints[-1] == 20000


def test_skwths_restart_keeps_the_later_segment_values(real_log):
    path = real_log("SKwths+so-vits-svc-dodo.train.log")
    lists = [ln for ln in path.read_text().splitlines() if "\tINFO\t[" in ln]
    at_6000 = [
        float(ln.split("\t")[3].strip("[]").split(",")[3]) for ln in lists if ", 6000, " in ln
    ]
    run = read_train_log(path)
    mel = run.series["loss/g/mel"]
    assert len(at_6000) == 2
    assert mel.values[mel.steps == 6000][0] == at_6000[1]


def test_catgpt_real_log_reads_every_20_steps(real_log):
    run = read_train_log(real_log("AustingDong+CatGPT.train.log"))
    mel = run.series["loss/g/mel"]
    assert len(mel) == 233
    assert (int(mel.steps[0]), int(mel.steps[-1])) == (0, 4640)
    assert run.restarts == 0
    assert set(run.series) == {
        "loss/d/total", "loss/g/gen", "loss/g/fm", "loss/g/mel", "loss/g/kl",
        "loss/g/total", "learning_rate",
    }  # fmt: skip


def test_40_line_maps_to_tensorboard_tags_and_derives_the_total(tmp_path):
    run = read_train_log(
        write(tmp_path, [HPARAMS, PREFIX + "[1.0, 2.0, 3.0, 40.0, 0.5, 200, 0.0001]"])
    )
    value = {tag: float(s.values[0]) for tag, s in run.series.items()}
    assert value == {
        "loss/d/total": 1.0, "loss/g/gen": 2.0, "loss/g/fm": 3.0, "loss/g/mel": 40.0,
        "loss/g/kl": 0.5, "loss/g/total": 45.5, "learning_rate": 0.0001,
    }  # fmt: skip
    assert int(run.series["loss/g/mel"].steps[0]) == 200


def test_41_losses_line_is_read(tmp_path):
    run = read_train_log(write(tmp_path, [HPARAMS, line41(200, 31.5), line41(400, 30.25)]))
    mel = run.series["loss/g/mel"]
    assert mel.steps.tolist() == [200, 400]
    assert mel.values.tolist() == [31.5, 30.25]
    assert run.series["learning_rate"].values[0] == 1e-4
    assert any("4.1" in note for note in run.notes)


def test_mixed_40_and_41_lines_form_one_series(tmp_path):
    run = read_train_log(write(tmp_path, [line40(0, 40.0), line41(200, 30.0), line40(400, 25.0)]))
    assert run.series["loss/g/mel"].values.tolist() == [40.0, 30.0, 25.0]
    assert any("4.0 and 4.1" in note for note in run.notes)


def test_stdout_mirror_lines_are_read(tmp_path):
    run = read_train_log(write(tmp_path, ["INFO:44k:[2.5, 2.2, 9.0, 20.0, 1.5, 200, 0.0001]"]))
    assert run.series["loss/g/mel"].steps.tolist() == [200]


def test_partial_last_line_is_ignored_with_a_note(tmp_path):
    lines = [line41(200), line41(400), line41(600)[:-25]]  # cut inside "lr: ..."
    run = read_train_log(write(tmp_path, lines, newline_at_end=False))
    assert run.series["loss/g/mel"].steps.tolist() == [200, 400]
    assert any("last line (3) is incomplete" in note for note in run.notes)
    assert not any("skipped" in note for note in run.notes)


def test_complete_last_line_without_newline_is_kept(tmp_path):
    run = read_train_log(write(tmp_path, [line40(200), line40(400)], newline_at_end=False))
    assert run.series["loss/g/mel"].steps.tolist() == [200, 400]


def test_garbage_lines_are_counted_and_quoted(tmp_path):
    lines = [line40(0), "garbage one", PREFIX + "[1.0, oops, 3, 4, 5, 200, 1e-4]",
             "\x00\x01binary", line40(400), "more garbage", "even more"]  # fmt: skip
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 400]
    (note,) = [n for n in run.notes if "skipped" in n]
    assert note.startswith("5 line(s) skipped")
    assert "line 2: 'garbage one'" in note and "line 3:" in note and "(first 3 shown)" in note


def test_nan_and_inf_values_are_kept_and_noted(tmp_path):
    lines = [
        line40(0, 30.0),
        PREFIX + "[2.5, 2.2, 9.0, nan, inf, 200, 0.0001]",
        line40(400, -math.inf),
    ]
    run = read_train_log(write(tmp_path, lines))
    mel = run.series["loss/g/mel"].values
    assert math.isnan(mel[1]) and mel[2] == -math.inf
    assert math.isinf(run.series["loss/g/kl"].values[1])
    assert any(n.startswith("loss/g/mel: 2 non-finite value(s)") for n in run.notes)


def test_a_fresh_run_from_step_0_in_the_same_log_says_the_earlier_run_is_ignored(tmp_path):
    # Before 2026-12-07: "5 logged point(s) were superseded by later values at the same
    # steps", though steps 600 and 800 were never logged again.
    old = [line41(step, 30.0) for step in (0, 200, 400, 600, 800)]
    new = [line41(step, 40.0) for step in (0, 200, 400)]
    run = read_train_log(write(tmp_path, [HPARAMS, *old, HPARAMS, *new]))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200, 400]
    (note,) = [n for n in run.notes if n.startswith("1 restart(s)")]
    assert "training started over from step 0, so the earlier run (steps 0..800) is ign" in note
    assert "superseded" not in note


def test_one_point_is_a_series_of_one(tmp_path):
    run = read_train_log(write(tmp_path, [HPARAMS, line40(0)]))
    assert len(run.series["loss/g/mel"]) == 1


def test_steps_going_back_without_hparams_count_as_a_restart(tmp_path):
    lines = [
        line40(0, 40.0),
        line40(200, 30.0),
        line40(400, 25.0),
        line40(600, 22.0),
        line40(400, 29.0),  # past the second step: resumed (at or before it: started over)
        line40(600, 24.0),
    ]
    run = read_train_log(write(tmp_path, lines))
    mel = run.series["loss/g/mel"]
    assert mel.steps.tolist() == [0, 200, 400, 600]
    assert mel.values.tolist() == [40.0, 30.0, 29.0, 24.0]
    assert (run.restarts, run.overwritten) == (1, 2)
    assert any("without a restart being logged" in note for note in run.notes)


def test_deleted_checkpoints_are_not_listed(tmp_path):
    lines = [
        line40(0),
        PREFIX + "Saving model and optimizer state at iteration 1 to ./logs\\44k\\G_0.pth",
        PREFIX + "Saving model and optimizer state at iteration 9 to ./logs\\44k\\G_800.pth",
        PREFIX + "Saving model and optimizer state at iteration 17 to ./logs/44k/G_1600.pth",
        PREFIX + ".. Free up space by deleting ckpt ./logs/44k/G_800.pth",
    ]
    assert read_train_log(write(tmp_path, lines)).logged_checkpoints == (0, 1600)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "is empty"),
        ("\n\n  \n", "is empty"),
        # A run that has only started (before 2026-12-07: "no loss lines found ...; expected
        # a so-vits-svc train.log", which it is).
        (HPARAMS + "\nhello\n", r"has logged no loss line yet: .* \(200 in its config\)"),
        (
            HPARAMS + "\n" + PREFIX + "Loaded checkpoint './logs/44k/G_0.pth' (iteration 1)\n",
            "has logged no loss line yet",
        ),
        (HPARAMS + "\nLosses: [1.0, 2.0], step: x\n", "no loss lines found in"),
        (PREFIX + "[1.0, 2.0]\n", "no loss lines found in"),
    ],
)
def test_unusable_files_raise_one_line_input_errors(tmp_path, content, expected):
    path = tmp_path / "train.log"
    path.write_text(content)
    with pytest.raises(InputError, match=expected) as info:
        read_train_log(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(InputError, match=r"no such file: .*nope\.log; pass a so-vits-svc"):
        read_train_log(tmp_path / "nope.log")


def test_forks_that_log_more_losses_keep_the_five_and_say_so(tmp_path):
    lines = [
        PREFIX + "Losses: [2.5, 2.2, 9.0, 21.0, 1.5, 0.3], step: 200, lr: 0.0001, "
        "reference_loss: 36.5",
        PREFIX + "[2.5, 2.2, 9.0, 20.0, 1.5, 0.3, 400, 0.0001]",  # extra before step and lr
    ]
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].values.tolist() == [21.0, 20.0]
    assert run.series["loss/g/mel"].steps.tolist() == [200, 400]
    assert run.series["learning_rate"].values.tolist() == [1e-4, 1e-4]
    assert any(n.startswith("1 loss line(s) held more than the five") for n in run.notes)
    # The 4.0 list's extra value may sit before kl (Nyaru-SVC): kl is not named from it.
    assert run.series["loss/g/kl"].steps.tolist() == [200]
    assert any(n.startswith("1 loss list(s) held more than 4.0's 7") for n in run.notes)


def test_logged_tensors_are_read_as_their_values(tmp_path):
    line = (
        PREFIX + "Losses: [tensor(2.5, device='cuda:0'), tensor(2.2), 9.0, "
        "tensor(19.5, device='cuda:0', grad_fn=<MulBackward0>), 1.5], step: 600, lr: 0.0001"
    )
    run = read_train_log(write(tmp_path, [line]))
    assert run.series["loss/g/mel"].values.tolist() == [19.5]
    assert run.series["loss/d/total"].values.tolist() == [2.5]


def test_a_file_of_unreadable_loss_lines_quotes_the_first_in_its_error(tmp_path):
    path = write(tmp_path, [HPARAMS, PREFIX + "Losses: [2.5, 2.2], step: 200, lr: 0.0001"])
    with pytest.raises(InputError, match=r"1 line\(s\) do not parse, e.g. line 2: ") as info:
        read_train_log(path)
    assert "\n" not in str(info.value) and "Losses: [...], step: S" in str(info.value)
    assert "line 2 looks like a loss line but: 2 losses where so-vits-svc logs 5" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (PREFIX + "[2.5, 2.2, 9.0, 20.0, 200, 0.0001]", "6 values where a so-vits-svc 4.0 line"),
        (PREFIX + "[2.5, 2.2, 9.0, 20.0, 1.5, 200.5, 0.0001]", "step 200.5 is not a whole"),
        (PREFIX + "Losses: [2.5, x, 9.0, 20.0, 1.5], step: 2, lr: 1", "'x' is not a number"),
        (PREFIX + "Losses: [2.5, 2.2, 9.0, 20.0, 1.5] at step 2", "not 'Losses: [...], step"),
    ],
)
def test_a_broken_loss_line_says_what_is_wrong_with_it(tmp_path, line, why):
    run = read_train_log(write(tmp_path, [line, line41(400)]))
    assert any(note.startswith("line 1 looks like a loss line but: " + why) for note in run.notes)


def encoded(tmp_path, data: bytes):
    path = tmp_path / "train.log"
    path.write_bytes(data)
    return path


TEXT = "\n".join([HPARAMS, line41(200, 21.0), line40(400, 20.0)]) + "\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-16"),  # PowerShell 5's '>' and Tee-Object: UTF-16 with a BOM
        TEXT.encode("utf-16-le"),  # without one
        TEXT.encode("utf-16-be"),
        gzip.compress(TEXT.encode()),  # train.log.gz, as archived
        TEXT.replace("\n", "\r\n").encode("utf-8-sig"),  # Notepad: CRLF and a UTF-8 BOM
    ],
    ids=["utf16-bom", "utf16le", "utf16be", "gzip", "crlf-bom"],
)
def test_encodings_and_compression_of_the_same_log_read_the_same(tmp_path, data):
    run = read_train_log(encoded(tmp_path, data))
    assert run.series["loss/g/mel"].values.tolist() == [21.0, 20.0]
    assert run.series["loss/g/mel"].steps.tolist() == [200, 400]


def test_a_console_capture_with_progress_bars_before_records_is_read(tmp_path):
    bar = "100%|##########| 10/10 [00:01<00:00, 9.1it/s]\r"
    lines = [bar + "INFO:44k:" + line41(200).removeprefix(PREFIX), bar + "INFO:44k:Saving"]
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].steps.tolist() == [200]


def test_numpy_scalars_and_extra_trailing_fields_are_read(tmp_path):
    line = (
        PREFIX + "Losses: [np.float32(2.5), np.float64(2.2), 9.0, numpy.float32(19.5), 1.5], "
        "step: 600, lr: 0.0001, reference_loss: 34.7, time: 12.3s"
    )
    run = read_train_log(write(tmp_path, [line]))
    assert run.series["loss/g/mel"].values.tolist() == [19.5]
    assert run.series["loss/g/gen"].values.tolist() == [2.2]


def test_a_record_logged_twice_by_two_handlers_is_read_once_not_as_a_restart(tmp_path):
    lines = [HPARAMS] + [line for step in (0, 200, 400) for line in (line41(step),) * 2]
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200, 400]
    assert run.restarts == 0
    assert any(note.startswith("3 loss line(s) repeated the line before") for note in run.notes)

