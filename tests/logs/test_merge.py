"""A folder whose train.log goes on past its event files (TensorBoard flushes every 2 min):
the text log's later points extend the tags both logs agree on, and a note says so."""

from __future__ import annotations

from sweeper.logs import read_run

LINE = "2023-02-18 17:28:03,219\t44k\tINFO\t[2.5, 2.2, 9.0, {mel!r}, 1.5, {step}, 0.0001]\n"
STEPS = range(0, 4001, 200)


def mel(step: int) -> float:
    return 40.0 - step / 400  # exact in float32 too, as TensorBoard stores it


def write(folder, events, *, log_scale: float = 1.0, events_to: int = 3000):
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(LINE.format(mel=mel(s) * log_scale, step=s) for s in STEPS)
    (folder / "train.log").write_text(text)
    points = [(s, {"loss/g/mel": mel(s), "loss/g/total": mel(s) + 20.0}) for s in STEPS]
    events(folder, [p for p in points if p[0] <= events_to])


def test_a_newer_train_log_extends_the_event_files_where_they_agree(tmp_path, events):
    # Before 2026-12-07 the event files' end (3000) was the run's end, with no word said.
    write(tmp_path / "44k", events)
    run = read_run(tmp_path / "44k")
    assert run.series["loss/g/mel"].steps.tolist() == list(STEPS)  # 3000, then 3200..4000
    assert run.series["loss/g/mel"].values[-1] == mel(4000)
    # The event files' total holds lf0 (here: +20 off the text log's): not extended.
    assert int(run.series["loss/g/total"].steps[-1]) == 3000
    note = next(n for n in run.notes if n.startswith("TensorBoard scalars used"))
    assert "train.log goes on to step 4000, the event files end at step 3000" in note
    assert "later points were added to learning_rate, loss/d/total" not in note  # not in TB
    assert "added to loss/g/mel" in note and "not to loss/g/total" in note


def test_a_train_log_that_disagrees_is_not_appended_and_flagged(tmp_path, events):
    write(tmp_path / "44k", events, log_scale=1.3)  # another run appended to train.log
    run = read_run(tmp_path / "44k")
    assert int(run.series["loss/g/mel"].steps[-1]) == 3000
    assert any("they may be different runs" in n for n in run.notes)
