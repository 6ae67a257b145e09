"""export-best onto a so-vits-svc 4.0 --base (a probe, 2026-12-07: both real users' 4.0
configs were told "your base lacks 15 so-vits-svc 4.1 key(s) ...: train.py reads them; start
--base from the configs/config.json preprocessing wrote", which is what they are)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sweeper.summarize import summarize
from sweeper.summarize.export import export_best
from tests.summarize.test_export_onto_a_base import _base_41

REAL_CONFIGS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sovits-logs"


def _base_40(path: Path) -> Path:
    """A 4.0 config: the 4.1 table less the keys 4.1 added (and keep_ckpts, as early 4.0)."""
    from sweeper.summarize.export_base import NEW_IN_41

    raw = json.loads(_base_41(path).read_text())
    for section, keys in NEW_IN_41.items():
        for key in keys:
            raw[section].pop(key)
    raw["train"].pop("keep_ckpts")
    path.write_text(json.dumps(raw))
    return path


def test_the_real_40_configs_are_not_told_to_start_over(sweep_copy, tmp_path):
    reals = sorted(REAL_CONFIGS.glob("*.config.json"))
    if len(reals) != 2:
        pytest.skip(f"the real users' configs are not in {REAL_CONFIGS}")
    for real in reals:
        done = export_best(summarize(sweep_copy), tmp_path / real.name, base=real)
        assert json.loads(done.path.read_text())["spk"] == json.loads(real.read_text())["spk"]
        said = " ".join(done.cautions)
        assert "train.py reads them" not in said, said
        assert "written as a 4.0 config, for 4.0's train.py" in said
        assert "lacks 15 so-vits-svc 4.1 key(s) (train.keep_ckpts (later 4.0" in said


def test_a_40_base_gets_no_41_only_parameter(sweep_copy, tmp_path):
    """A searched 4.1-only key would do nothing under 4.0's train.py: left out, with why."""
    s = summarize(sweep_copy)
    at = s.data.trials.index(s.winner)
    win = s.data.trials[at]
    extra = {"model.use_depthwise_conv": True, "train.c_kl": 0.5}
    s.data.trials[at] = dataclasses.replace(win, params={**win.params, **extra})
    done = export_best(s, tmp_path / "c.json", base=_base_40(tmp_path / "v40.json"))
    written = json.loads(done.path.read_text())
    assert "use_depthwise_conv" not in written["model"] and written["train"]["c_kl"] == 0.5
    assert "4.0's train.py does not read it" in done.dropped["model.use_depthwise_conv"]


def test_a_40_base_lacking_a_40_key_and_a_41_base_lacking_a_41_key_are_told(
    sweep_copy, tmp_path
):
    raw = json.loads(_base_40(tmp_path / "v40.json").read_text())
    raw["train"].pop("c_kl")
    (tmp_path / "v40.json").write_text(json.dumps(raw))
    done = export_best(summarize(sweep_copy), tmp_path / "a.json", base=tmp_path / "v40.json")
    (told,) = [c for c in done.cautions if "4.0's train.py reads them" in c]
    assert "lacks 1 so-vits-svc 4.0 key(s) (train.c_kl)" in told
    raw = json.loads(_base_41(tmp_path / "v41.json").read_text())
    raw["train"].pop("vol_aug")
    (tmp_path / "v41.json").write_text(json.dumps(raw))
    done = export_best(summarize(sweep_copy), tmp_path / "b.json", base=tmp_path / "v41.json")
    assert any(
        "lacks 1 so-vits-svc 4.1 key(s) (train.vol_aug): 4.1's train.py reads them" in c
        for c in done.cautions
    )
