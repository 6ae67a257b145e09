"""The decoded-size warning: data sets are held whole in memory (about 2.9 GB per hour at
44.1 kHz), and a run killed for memory leaves no message, so the estimate is said first."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweeper.trainers.reference import memory
from sweeper.trainers.reference.config import load_config
from sweeper.trainers.reference.data import load_split
from sweeper.trainers.reference.training import train


def test_the_estimate_matches_what_the_loader_holds(toy_dir, micro_cfg):
    clips = load_split(micro_cfg, toy_dir, "train")
    held = sum(
        t.numel() * t.element_size()
        for c in clips
        for t in (c.audio, c.spec, c.content, c.f0, c.uv, c.true_f0)
        if t is not None
    )
    seconds = sum(memory.wav_samples(Path(c.path)) for c in clips) / 16000
    estimate = seconds * memory.bytes_per_second(micro_cfg)
    assert estimate == pytest.approx(held, rel=0.05)


def test_an_hour_of_sovits_4_1_data_is_about_2_9_gb():
    per_hour = memory.bytes_per_second(load_config("sovits-4.1")) * 3600
    assert 2.5e9 < per_hour < 3.2e9


def test_a_large_split_is_said_before_decoding(toy_dir, tmp_path, micro_cfg, monkeypatch, capsys):
    # Until 2026-12-07 nothing was said; a 4-hour 44.1 kHz set needed ~12 GB per trial.
    monkeypatch.setattr(memory, "LARGE_BYTES", 100_000)  # the toy set is ~0.5 MB per split
    order = []
    real_load = load_split

    def load(cfg, data_dir, split):
        logged = (tmp_path / "run" / "train.log").read_text()  # a death in decoding keeps it
        order.append(("load", "memory" in capsys.readouterr().err and "memory" in logged))
        return real_load(cfg, data_dir, split)

    monkeypatch.setattr("sweeper.trainers.reference._trainer.load_split", load)
    train(micro_cfg, toy_dir, tmp_path / "run", max_steps=0)
    assert order[0] == ("load", True)  # on stderr before the first clip is decoded
    log = (tmp_path / "run" / "train.log").read_text()
    assert "the training set (4 clips, 0.0 h) takes about 0.0 GB of memory" in log
    assert "the validation set (2 clips" in log and "fix: a machine with that memory" in log


def test_a_small_set_gets_no_memory_line(toy_dir, tmp_path, micro_cfg, capsys):
    train(micro_cfg, toy_dir, tmp_path / "run", max_steps=0)
    assert "of memory once decoded" not in capsys.readouterr().err


def test_two_splits_under_the_limit_apiece_but_over_it_together_are_said(toy_dir, micro_cfg):
    # A limit per split alone: train 1.9 GB + validation 0.5 GB said nothing.
    from sweeper.trainers.reference.data import read_filelist

    def need(rel):
        wavs = read_filelist(toy_dir, rel)
        seconds = sum(memory.wav_samples(w) for w in wavs) / micro_cfg.data.sampling_rate
        return seconds * memory.bytes_per_second(micro_cfg)

    train_b, val_b = need(micro_cfg.data.training_files), need(micro_cfg.data.validation_files)
    limit = int(max(train_b, val_b)) + 1  # neither passes it alone; both do together
    assert train_b + val_b > limit
    (note,) = memory.memory_notes(micro_cfg, toy_dir, limit=limit)
    assert note.startswith("the training and validation sets (6 clips") and " take about " in note
    assert len(memory.memory_notes(micro_cfg, toy_dir, limit=int(train_b + val_b) + 1)) == 0
