"""Loss lines as edited trainers, old forks and hand-cut logs write them (probe R, 2026-12-07):
extra fields holding commas, bare 'Losses:' lines, Nyaru-SVC's 8-value lists, and a restart
from G_0 whose first logged step is the earlier run's second."""

from __future__ import annotations

import pytest
from test_textlog import HPARAMS, PREFIX, line40, line41, write

from sweeper.errors import InputError
from sweeper.logs import read_train_log


@pytest.mark.parametrize(
    "extra",
    [", grad_norm: [12.5, 230.1]", ", losses_more: {'lf0': 0.01, 'dur': 0.2}"],
)
def test_an_extra_field_holding_commas_after_reference_loss_is_ignored(tmp_path, extra):
    # Before: "no loss lines found" for the whole log.
    lines = [line41(s, 30.0 - s / 100) + extra for s in (0, 200, 400)]
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200, 400]
    assert run.series["loss/g/mel"].values.tolist() == [30.0, 28.0, 26.0]
    assert run.series["learning_rate"].values.tolist() == [1e-4] * 3


def test_bare_losses_lines_cut_from_a_log_are_read_with_a_note(tmp_path):
    # Before: the error quoted the line as not parsing, then said it expected that format.
    lines = [line41(s).removeprefix(PREFIX) for s in (0, 200, 400)]
    run = read_train_log(write(tmp_path, lines))
    assert run.series["loss/g/mel"].steps.tolist() == [0, 200, 400]
    assert any("3 'Losses:' line(s) had no logging prefix" in n for n in run.notes)


def test_bare_4_0_lists_are_refused_naming_the_missing_prefix(tmp_path):
    lines = [line40(s).removeprefix(PREFIX) for s in (0, 200)]  # a bare list could be anything
    with pytest.raises(InputError, match=r"lack the logging prefix .*pass train\.log itself"):
        read_train_log(write(tmp_path, lines))


def test_nyaru_svc_lists_never_name_the_dur_value_kl(tmp_path):
    # [disc, gen, fm, mel, dur, kl, step, lr]: kl was read from dur (0.05 here).
    row = "[2.5, 2.2, 9.0, {mel!r}, 0.05, 1.5, {step}, 0.0001]"
    lines = [PREFIX + row.format(mel=20.0 - s / 100, step=s) for s in (0, 200)]
    run = read_train_log(write(tmp_path, lines))
    assert "loss/g/kl" not in run.series
    assert run.series["loss/g/mel"].values.tolist() == [20.0, 18.0]
    assert run.series["loss/g/total"].values.tolist() == pytest.approx([32.75, 30.75])
    assert any("loss/g/kl was not read" in n for n in run.notes)


def test_a_restart_at_the_earlier_runs_second_step_is_a_start_over(tmp_path):
    # so-vits-svc from G_0 logs first at step log_interval: run 1's step-0 point was kept and
    # the note said its points "were replaced by a restart's values from where it resumed".
    first = [line41(s, 30.0) for s in range(0, 2001, 200)]
    second = [line41(s, 40.0) for s in range(200, 1001, 200)]
    run = read_train_log(write(tmp_path, [HPARAMS, *first, HPARAMS, *second]))
    assert run.series["loss/g/mel"].steps.tolist() == list(range(200, 1001, 200))
    assert any("training started over from step 200" in n for n in run.notes)


def test_a_resume_from_the_first_checkpoint_is_not_a_start_over(tmp_path):
    # log_interval == eval_interval, killed between the loss line at step 400 and its save:
    # the restart loads G_200 and logs 400 again. Read as a start-over, step 200 was dropped.
    first = [line41(s, 30.0) for s in (200, 400)]
    second = [line41(s, 29.0) for s in range(400, 1201, 200)]
    run = read_train_log(write(tmp_path, [HPARAMS, *first, HPARAMS, *second]))
    assert run.series["loss/g/mel"].steps.tolist() == list(range(200, 1201, 200))
    assert not any("started over" in n for n in run.notes)
    assert any("1 logged point(s) were replaced" in n for n in run.notes)
