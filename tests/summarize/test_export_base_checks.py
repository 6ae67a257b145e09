"""export-best and the file so-vits-svc will train with (a probe, 2026-12-07): without --base
the proxy's 16 kHz / mel-encoder config was called trainable; the sweep's fixed values
overwrote the base's (lr_decay 0.999875 became 0.999); a base without spk, or with empty
sections, was written; a hop_length of 512.0 or "512" skipped the segment checks."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import sweeper.summarize as summarize_pkg
from sweeper.cli import main
from sweeper.errors import InputError
from sweeper.space import FixedParam
from sweeper.summarize import summarize
from sweeper.summarize.export import export_best
from tests.summarize.test_export_onto_a_base import _base_41

REAL_CONFIGS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sovits-logs"


def _edit(path, change):
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))
    return path


def test_without_base_the_proxy_config_is_said_not_to_be_trainable(sweep_copy, tmp_path):
    s = summarize(sweep_copy)
    done = export_best(s, tmp_path / "proxy.json")
    text = " | ".join(done.cautions)
    assert "without --base this file is the reference trainer's proxy config" in text
    assert "so-vits-svc 4.1 cannot train with it" in text and "as --base" in text
    assert "train so-vits-svc itself with this config.json" not in text
    onto = export_best(s, tmp_path / "real.json", base=_base_41(tmp_path / "base.json"))
    assert not any("proxy config" in c for c in onto.cautions)


@pytest.fixture
def with_fixed(sweep_copy):
    """The summary as if the sweep had fixed lr_decay 0.999 and p_dropout 0.0 (quick.yaml)."""
    s = summarize(sweep_copy)
    cfg = s.data.cfg
    fixed = {"train.lr_decay": 0.999, "model.p_dropout": 0.0}
    params = {**cfg.parameters.params, **{k: FixedParam(v) for k, v in fixed.items()}}
    s.data.cfg = dataclasses.replace(
        cfg, parameters=dataclasses.replace(cfg.parameters, params=params)
    )
    for t in s.data.trials:
        t.params = {**t.params, **fixed}
    return s


def test_fixed_sweep_values_do_not_overwrite_the_base(with_fixed, tmp_path):
    base = _edit(_base_41(tmp_path / "base.json"), lambda r: (
        r["train"].update(lr_decay=0.999875), r["model"].update(p_dropout=0.1)))  # fmt: skip
    done = export_best(with_fixed, tmp_path / "c.json", base=base)
    raw = json.loads((tmp_path / "c.json").read_text())
    assert raw["train"]["lr_decay"] == 0.999875 and raw["model"]["p_dropout"] == 0.1
    assert "fixed in the sweep (not searched)" in done.dropped["train.lr_decay"]
    assert done.dropped["model.p_dropout"] == done.dropped["train.lr_decay"]
    searched = with_fixed.winner.params["train.learning_rate"]
    assert raw["train"]["learning_rate"] == done.applied["train.learning_rate"] == searched
    # Without --base the file is the trial's own config: what it trained with.
    export_best(with_fixed, tmp_path / "own.json")
    own = json.loads((tmp_path / "own.json").read_text())
    assert own["train"]["lr_decay"] == 0.999 and own["model"]["p_dropout"] == 0.0


def test_the_fixed_values_left_out_are_one_line(with_fixed, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(summarize_pkg, "summarize", lambda *a, **k: with_fixed)
    base = _base_41(tmp_path / "base.json")
    folder = str(with_fixed.data.folder)
    argv = ["export-best", folder, "--out", str(tmp_path / "c.json"), "--base", str(base)]
    assert main(argv) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "fixed in the sweep" in ln]
    assert len(lines) == 1 and "train.lr_decay" in lines[0] and "model.p_dropout" in lines[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("spk"), "lacks so-vits-svc key(s) spk (train.py reads them)"),
        (lambda r: r.update(train={}, data={}, model={}),
         "lacks so-vits-svc key(s) data.hop_length, train.segment_size"),
        (lambda r: r["model"].pop("n_speakers"), "lacks so-vits-svc key(s) model.n_speakers"),
        (lambda r: r.update(spk=["singer0", "singer1"]), "not a map of speaker name to id"),
        (lambda r: r["data"].update(hop_length="512"), "data.hop_length '512', not a whole"),
        (lambda r: r["data"].update(hop_length=512.5), "data.hop_length 512.5, not a whole"),
        (lambda r: r["train"].update(segment_size="10240"), "train.segment_size '10240'"),
    ],
)  # fmt: skip
def test_a_base_so_vits_svc_cannot_train_with_is_refused(sweep_copy, tmp_path, change, message):
    base = _edit(_base_41(tmp_path / "base.json"), change)
    with pytest.raises(InputError) as err:
        export_best(summarize(sweep_copy), tmp_path / "c.json", base=base)
    text = str(err.value)
    assert message in text and "\n" not in text and "fix:" in text
    assert not (tmp_path / "c.json").exists()


def test_a_whole_float_hop_length_is_checked_and_written_as_an_int(sweep_copy, tmp_path):
    s = summarize(sweep_copy)
    at = s.data.trials.index(s.winner)
    s.data.trials[at] = dataclasses.replace(
        s.winner, params={**s.winner.params, "train.segment_size": 6400}
    )
    base = _edit(_base_41(tmp_path / "base.json"), lambda r: r["data"].update(hop_length=512.0))
    done = export_best(s, tmp_path / "c.json", base=base)
    text = (tmp_path / "c.json").read_text()
    raw = json.loads(text)
    # 6400 samples at the micro preset's hop 320 are 20 frames: 10240 at 512 (not 6400).
    # The key's place in the file follows the base's frozenset order: last in data or not.
    assert raw["train"]["segment_size"] == 10240 and re.search(r'"hop_length": 512\s*[,}]', text)
    assert any("data.hop_length 512.0 of your base is written as 512" in c for c in done.cautions)


def test_the_real_users_configs_are_bases(sweep_copy, tmp_path):
    """Both real configs (early 4.0 checkouts) lack train.keep_ckpts, which later 4.0
    configs have: refusing every 4.0 key refused them; they are written, with a caution."""
    reals = sorted(REAL_CONFIGS.glob("*.config.json"))
    assert len(reals) == 2, REAL_CONFIGS
    for real in reals:
        done = export_best(summarize(sweep_copy), tmp_path / real.name, base=real)
        written = json.loads(done.path.read_text())
        assert written["spk"] == json.loads(real.read_text())["spk"]
        assert any("keep_ckpts" in c for c in done.cautions)
