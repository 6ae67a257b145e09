"""Following train.log and event files while they are written: chunks, partial lines,
restarts, truncation and rotation; the real so-vits-svc logs are read where they lie."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sweeper.logs import read_tfevents, read_train_log
from sweeper.trainers.sovits_svc.follow import (
    EventsFollower,
    LossPoint,
    Restart,
    Saved,
    TextFollower,
)

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "sovits-logs"


def _real(name: str) -> Path:
    path = (REAL / name).resolve()
    if not path.is_file():
        pytest.skip(f"real so-vits-svc log {name} not found under {REAL} (outside the repo)")
    return path


def _line(message: str) -> str:
    return f"2026-11-23 10:00:00,000\t44k\tINFO\t{message}\n"


def _losses(step: int, mel: float = 20.0) -> str:
    return _line(
        f"Losses: [2.1, 2.4, 9.5, {mel}, 1.2], step: {step}, lr: 9.99875e-05, "
        f"reference_loss: {2.1 + 2.4 + 9.5 + mel + 1.2}"
    )


def _points(events) -> list[tuple[int, float]]:
    return [(e.step, e.values["loss/g/mel"]) for e in events if isinstance(e, LossPoint)]


@pytest.mark.parametrize(
    ("name", "restarts"),
    [("SKwths+so-vits-svc-dodo.train.log", 7), ("AustingDong+CatGPT.train.log", 1)],
)
def test_real_logs_read_in_random_chunks_match_the_whole_file_reader(tmp_path, name, restarts):
    source = _real(name)
    data = source.read_bytes()
    growing = tmp_path / "train.log"  # a temporary copy that grows, as train.py writes it
    follower = TextFollower(growing)
    rng = random.Random(0)
    events: list = []
    pos = 0
    with growing.open("wb") as out:
        while pos < len(data):
            step = rng.randint(1, 400)  # cuts lines, and sometimes UTF-8 characters, in two
            out.write(data[pos : pos + step])
            out.flush()
            pos += step
            events += follower.poll()
    latest: dict[int, float] = {}
    for step, mel in _points(events):
        latest[step] = mel  # a restart repeats steps: the later value wins
    whole = read_train_log(source).series["loss/g/mel"]
    assert sorted(latest) == [int(s) for s in whole.steps]
    assert [latest[int(s)] for s in whole.steps] == pytest.approx(list(whole.values))
    assert sum(isinstance(e, Restart) for e in events) == restarts
    assert any(isinstance(e, Saved) and e.path.endswith(".pth") for e in events)


def test_41_lines_partial_then_completed(tmp_path):
    log = tmp_path / "train.log"
    follower = TextFollower(log)
    assert follower.poll() == []  # no file yet
    full = _losses(200, mel=18.25)
    log.write_text(_line("{'train': {'log_interval': 200}}") + full[:40])
    assert _points(follower.poll()) == []
    with log.open("a") as out:
        out.write(full[40:-25])  # cut inside "reference_loss": still not a whole line
    assert _points(follower.poll()) == []
    with log.open("a") as out:
        out.write(full[-25:])
    events = follower.poll()
    assert _points(events) == [(200, 18.25)]
    assert events[0].values["loss/d/total"] == 2.1 and events[0].values["learning_rate"] > 0


def test_restart_repeats_steps_in_order(tmp_path):
    log = tmp_path / "train.log"
    hparams = _line("{'train': {'log_interval': 200}, 'data': {}}")
    log.write_text(hparams + _losses(200, 30.0) + _losses(400, 25.0))
    follower = TextFollower(log)
    first = follower.poll()
    with log.open("a") as out:
        out.write(hparams + _line("Loaded checkpoint './logs/44k/G_200.pth' (iteration 3)"))
        out.write(_losses(400, 24.0))
    second = follower.poll()
    assert _points(first) == [(200, 30.0), (400, 25.0)]
    assert [type(e).__name__ for e in second] == ["Restart", "LossPoint"]
    assert _points(second) == [(400, 24.0)]


def test_truncated_file_is_read_again_from_its_start(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(_losses(200) + _losses(400) + _losses(600))
    follower = TextFollower(log)
    assert len(_points(follower.poll())) == 3
    log.write_text(_losses(800, 17.0))  # truncated in place, then shorter content
    assert _points(follower.poll()) == [(800, 17.0)]
    assert follower._tail.truncations == 1


def test_rotated_file_is_drained_then_the_new_one_read(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(_losses(200))
    follower = TextFollower(log)
    assert _points(follower.poll()) == [(200, 20.0)]
    with log.open("a") as out:
        out.write(_losses(400) + _losses(600)[:30])  # unread, and a line never finished
    log.rename(tmp_path / "train.log.1")
    log.write_text(_losses(800) + _losses(1000))
    assert [s for s, _ in _points(follower.poll())] == [400, 800, 1000]


def test_start_at_end_skips_only_what_was_there(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(_losses(200))
    follower = TextFollower(log, start_at_end=True)
    with log.open("a") as out:
        out.write(_losses(400))
    assert [s for s, _ in _points(follower.poll())] == [400]
    later = TextFollower(tmp_path / "new.log", start_at_end=True)
    (tmp_path / "new.log").write_text(_losses(0))
    assert [s for s, _ in _points(later.poll())] == [0]


def test_events_follower_reads_whole_records_only(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    source = tmp_path / "written"
    writer = SummaryWriter(log_dir=str(source))
    for step in range(0, 1000, 100):
        writer.add_scalar("loss/g/total", 30.0 - step / 100, step)
        writer.add_scalar("loss/g/lf0", 0.1, step)
    writer.close()
    (written,) = source.glob("events.out.tfevents.*")
    data = written.read_bytes()
    live = tmp_path / "live"
    live.mkdir()
    follower = EventsFollower(live)
    target = live / written.name
    rng = random.Random(1)
    got = []
    pos = 0
    with target.open("wb") as out:
        while pos < len(data):
            step = rng.randint(1, 60)  # cuts records in the middle
            out.write(data[pos : pos + step])
            out.flush()
            pos += step
            got += follower.poll()
    whole = read_tfevents(written).series["loss/g/total"]
    mine = [(s.step, s.value) for s in got if s.tag == "loss/g/total"]
    assert mine == list(zip([int(s) for s in whole.steps], whole.values, strict=True))
    assert sum(s.tag == "loss/g/lf0" for s in got) == 10
    # A second file (train.py restarted) is picked up; the first is not read twice.
    writer = SummaryWriter(log_dir=str(live))
    writer.add_scalar("loss/g/total", 5.0, 1100)
    writer.close()
    assert [(s.tag, s.step) for s in follower.poll()] == [("loss/g/total", 1100)]
