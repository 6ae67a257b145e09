"""export-best onto a user's so-vits-svc 4.1 config, and what --out may not overwrite (a probe,
2026-12-07: a winner's 6400-sample segment went onto a hop-512 base as 12.5 frames, its
n_speakers 2 under a 3-speaker map, and --out overwrote the sweep's journal)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from sweeper.errors import InputError
from sweeper.summarize import summarize
from sweeper.summarize.export import export_best
from sweeper.trainers.sovits_svc.keys import SOVITS_KEYS


def _base_41(path, hop: int = 512, speakers: int = 3):
    """A 44.1 kHz so-vits-svc 4.1 config.json, preprocessed for ``speakers`` speakers."""
    raw = {section: {key: 1 for key in keys} for section, keys in SOVITS_KEYS.items()}
    raw["train"].update(segment_size=10240, learning_rate=1e-4, batch_size=6)
    raw["data"].update(sampling_rate=44100, hop_length=hop)
    raw["model"].update(n_speakers=speakers, ssl_dim=768, speech_encoder="vec768l12")
    raw["spk"] = {f"singer{i}": i for i in range(speakers)}
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.fixture
def searched(sweep_copy):
    """The sweep's summary, its winner as if it had searched segment_size and n_speakers."""
    s = summarize(sweep_copy)
    at = s.data.trials.index(s.winner)
    extra = {"train.segment_size": 6400, "model.n_speakers": 2, "data.sampling_rate": 16000}
    win = s.data.trials[at]
    s.data.trials[at] = dataclasses.replace(win, params={**win.params, **extra})
    return s


def test_preprocessing_keys_stay_the_bases_and_segments_keep_their_frames(searched, tmp_path):
    base = _base_41(tmp_path / "base.json")
    done = export_best(searched, tmp_path / "config.json", base=base)
    raw = json.loads((tmp_path / "config.json").read_text())
    # 6400 samples at the micro preset's hop 320 are 20 frames: 10240 at the base's hop 512.
    assert raw["train"]["segment_size"] == 10240 and raw["data"]["hop_length"] == 512
    assert any("segment_size 6400 is written as 10240" in c for c in done.cautions)
    assert raw["model"]["n_speakers"] == 3 and raw["data"]["sampling_rate"] == 44100
    assert "preprocessed" in done.dropped["model.n_speakers"]
    assert "preprocessed" in done.dropped["data.sampling_rate"]
    assert raw["train"]["learning_rate"] == searched.winner.params["train.learning_rate"]


def test_a_base_whose_own_values_disagree_is_refused(sweep_copy, tmp_path):
    s = summarize(sweep_copy)
    odd = _base_41(tmp_path / "odd.json", hop=500)  # 10240 is not a multiple of 500
    with pytest.raises(InputError, match=r"not a multiple of data\.hop_length 500"):
        export_best(s, tmp_path / "a.json", base=odd)
    few = json.loads(_base_41(tmp_path / "few.json").read_text())
    few["model"]["n_speakers"] = 2  # under its own 3-speaker map
    (tmp_path / "few.json").write_text(json.dumps(few))
    with pytest.raises(InputError, match="n_speakers 2 is below the 3 speakers"):
        export_best(s, tmp_path / "b.json", base=tmp_path / "few.json")
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "b.json").exists()



@pytest.mark.parametrize(("spk", "refused"), [
    ({"alice": 0, "bob": 1, "carol": 7}, "spk 'carol': 7 is outside 0..2"),
    ({"alice": -1, "bob": 1, "carol": 2}, "spk 'alice': -1 is outside 0..2"),
    ({"alice": 0, "bob": 0, "carol": 2}, None),
])
def test_speaker_ids_outside_the_speaker_table_are_refused_and_shared_ones_noted(
    sweep_copy, tmp_path, spk, refused
):
    # Written as given, they failed in train.py at its first batch (a probe, 2026-12-08).
    raw = json.loads(_base_41(tmp_path / "base.json").read_text())
    raw["spk"] = spk
    (tmp_path / "base.json").write_text(json.dumps(raw))
    s = summarize(sweep_copy)
    if refused is not None:
        with pytest.raises(InputError, match=refused + r".*fix: number spk from 0"):
            export_best(s, tmp_path / "c.json", base=tmp_path / "base.json")
        assert not (tmp_path / "c.json").exists()
        return
    done = export_best(s, tmp_path / "c.json", base=tmp_path / "base.json")
    assert any("spk gives 'alice', 'bob' one id (0)" in c for c in done.cautions), done.cautions


def test_out_may_not_destroy_the_sweep_the_base_or_a_non_json_file(sweep_copy, tmp_path):
    s = summarize(sweep_copy)
    journal = sweep_copy / "study.journal"
    before = journal.read_bytes()
    with pytest.raises(InputError, match="inside the sweep folder"):
        export_best(s, journal)
    assert journal.read_bytes() == before
    # Another sweep's folder is as much off limits (its sweep.json was overwritten).
    other_sweep = tmp_path / "sweeps" / "other"
    (other_sweep / "trial_x").mkdir(parents=True)
    (other_sweep / "sweep.yaml").write_text("name: other\n")
    (other_sweep / "sweep.json").write_text("{}")
    for victim in (other_sweep / "sweep.json", other_sweep / "trial_x" / "params.json"):
        with pytest.raises(InputError, match=f"inside the sweep folder '{other_sweep}'"):
            export_best(s, victim)
    assert (other_sweep / "sweep.json").read_text() == "{}"
    assert not (other_sweep / "trial_x" / "params.json").exists()
    export_best(s, other_sweep / "summary" / "config.json")
    base = _base_41(tmp_path / "base.json")
    with pytest.raises(InputError, match="is the --base file"):
        export_best(s, base, base=base)
    other = tmp_path / "notes.txt"
    other.write_text("my notes\n")
    with pytest.raises(InputError, match="not a JSON config"):
        export_best(s, other)
    assert other.read_text() == "my notes\n"
    # Allowed: the sweep's own summary/ folder, and replacing an earlier export.
    export_best(s, sweep_copy / "summary" / "config.json")
    again = export_best(s, sweep_copy / "summary" / "config.json")
    assert json.loads(again.path.read_text())["train"]
    assert [p.name for p in again.path.parent.iterdir() if p.name.startswith(".")] == []


def test_a_40_base_lacking_41_keys_is_written_with_a_caution_naming_them(sweep_copy, tmp_path):
    """A so-vits-svc 4.0 config lacks keys 4.1 added: still a so-vits-svc config (a base
    lacking keys every version has is refused: test_export_base_checks.py)."""
    from sweeper.summarize.export_base import NEW_IN_41

    raw = json.loads(_base_41(tmp_path / "v40.json").read_text())
    for section, keys in NEW_IN_41.items():
        for key in keys:
            raw[section].pop(key)
    (tmp_path / "v40.json").write_text(json.dumps(raw))
    done = export_best(summarize(sweep_copy), tmp_path / "c.json", base=tmp_path / "v40.json")
    (caution,) = [c for c in done.cautions if "your base lacks" in c]
    written = json.loads((tmp_path / "c.json").read_text())
    lacking = sum(len(set(keys) - set(written[sec])) for sec, keys in SOVITS_KEYS.items())
    assert lacking == sum(len(k) for k in NEW_IN_41.values())
    assert f"lacks {lacking} so-vits-svc 4.1 key(s)" in caution and "learning_rate" not in caution
