"""`sweeper check SPACE.yaml`: run's checks without Ray, and draws that are the sweep's own;
a data.dir this machine lacks is refused by `run` on its embedded Ray before anything is
written (every trial failed on it, one after the other)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sweep_tools import BASE_SWEEP, write_sweep

from sweeper.cli import main
from sweeper.config import load_sweep
from sweeper.tune._checks import missing_data
from sweeper.tune._preview import first_draws
from sweeper.tune._study import SweepStudy

QUICK = Path(__file__).resolve().parents[2] / "search_spaces" / "quick.yaml"

SEARCHED = {
    "train.learning_rate": {"type": "float", "low": 1.0e-3, "high": 1.0e-2, "log": True},
    "train.batch_size": {"type": "categorical", "choices": [2, 4, 8]},
    "train.c_kl": {"type": "float", "low": 0.5, "high": 2.0, "step": 0.5},
}


@pytest.mark.parametrize(
    ("kind", "params"),
    [("tpe", SEARCHED), ("random", SEARCHED),
     ("grid", {k: v for k, v in SEARCHED.items() if k != "train.learning_rate"})],
)  # fmt: skip
def test_the_draws_are_the_sweeps_own(tmp_path, kind, params):
    """The preview asks a study set up as `sweeper run` sets it up; compared here with the
    sweep's SweepStudy on its own journal, asked trial after trial as Ray asks."""
    space = write_sweep(
        tmp_path,
        parameters=params,
        sampler={"kind": kind, "seed": 7},
        budget={"max_steps": 30, "num_trials": 8, "concurrency": 2},
    )
    cfg = load_sweep(space)
    sweep = SweepStudy.for_sweep(cfg, tmp_path / "sweeps" / "t", name="t")
    real = [sweep.ask(f"ray_{i}") for i in range(6)]
    assert first_draws(cfg, 6) == real
    assert len({tuple(sorted(d.items())) for d in real}) > 1  # they do vary


def test_check_prints_the_sweep_and_its_first_trials(capsys):
    assert main(["check", str(QUICK), "--draws", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{QUICK}: ok (sweep 'quick')" in out
    assert "budget: 12 trials x 300 steps = 3,600 steps at most; 2 at once" in out
    assert "train.learning_rate: 0.002 to 0.06 (log)" in out
    lines = [ln.split() for ln in out.splitlines() if ln.strip().startswith("#")]
    assert [ln[0] for ln in lines] == ["#0", "#1"]
    assert all(ln[1].startswith("train.learning_rate=") for ln in lines)
    assert f"next: `sweeper run {QUICK}`" in out


def test_check_gives_runs_one_line_error_for_a_bad_space(tmp_path, capsys):
    space = write_sweep(tmp_path, budget={"max_steps": 30, "num_trials": 0, "concurrency": 1})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "num_trials" in err and "0" in err


def _dataset(root: Path, wavs: list[str]) -> None:
    (root / "filelists").mkdir(parents=True)
    for name in ("train", "val"):
        (root / "filelists" / f"{name}.txt").write_text("\n".join(wavs) + "\n")


def test_missing_data_names_the_filelist_or_the_wavs(tmp_path):
    data = tmp_path / "ds"
    space = write_sweep(tmp_path, data={"dir": str(data)})
    assert "missing filelist" in missing_data(load_sweep(space))
    _dataset(data, ["spk/a.wav", "spk/b.wav"])
    (data / "spk").mkdir()
    (data / "spk" / "a.wav").write_bytes(b"RIFF")
    found = missing_data(load_sweep(space))
    assert found.startswith("1 of the 2 wavs in") and "b.wav" in found
    (data / "spk" / "b.wav").write_bytes(b"RIFF")
    assert missing_data(load_sweep(space)) is None
    toy = write_sweep(tmp_path)  # toy data is made by the sweep itself
    assert missing_data(load_sweep(toy)) is None
    # ... also into a data.dir that does not exist yet (a review caught its refusal).
    into = write_sweep(tmp_path, data={"dir": str(tmp_path / "new"), "toy": {"speakers": 2}})
    assert missing_data(load_sweep(into)) is None


def test_run_refuses_a_data_dir_this_machine_lacks_before_writing_anything(tmp_path, capsys):
    space = write_sweep(tmp_path, data={"dir": str(tmp_path / "nowhere")})
    assert main(["run", str(space), "--storage", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err
    assert "data.dir" in err and "nowhere" in err and "fix:" in err
    assert not (tmp_path / "sweeps").exists()
    assert main(["check", str(space)]) == 0  # a cluster's nodes may have it: a warning
    assert "warning: data.dir: missing filelist" in capsys.readouterr().out


def _wavs_at(root: Path, rate: int, n: int) -> None:
    from scipy.io import wavfile

    names = [f"spk/{i}.wav" for i in range(n)]
    _dataset(root, names)
    (root / "spk").mkdir()
    tone = (0.1 * np.sin(np.arange(rate // 5) * 0.05) * 32767).astype(np.int16)
    for name in names:
        wavfile.write(root / name, rate, tone)


def test_check_refuses_a_dataset_the_trials_would_refuse(tmp_path, capsys):
    """A probe (2026-12-07): 44.1 kHz wavs under a 16 kHz preset, and train_clips up to 28
    over 12 clips, passed check; every trial failed on them."""
    data = tmp_path / "ds"
    _wavs_at(data, 44_100, 3)
    base = dict(BASE_SWEEP["parameters"])
    space = write_sweep(tmp_path, data={"dir": str(data)})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "3 of the 3 wavs" in err and "44100 Hz" in err
    assert "not at the trials' data.sampling_rate 16000 Hz" in err
    assert "fix: a fixed data.sampling_rate: 44100" in err
    rate = {"data.sampling_rate": {"type": "fixed", "value": 44_100}}
    clips = {"dataset.train_clips": {"type": "categorical", "choices": [1, 5]}}
    space = write_sweep(tmp_path, data={"dir": str(data)}, parameters={**base, **rate, **clips})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert "parameters[dataset.train_clips] reaches 5" in err and "lists 3 clips" in err
    clips["dataset.train_clips"]["choices"] = [1, 3]
    space = write_sweep(tmp_path, data={"dir": str(data)}, parameters={**base, **rate, **clips})
    assert main(["check", str(space)]) == 0


def test_check_refuses_clips_too_short_and_speakers_the_trials_would_refuse(tmp_path, capsys):
    """A probe (2026-12-07): a 0-sample wav, a 0.04 s one and a speaker folder missing from
    spk passed check; every trial refused them."""
    import json

    from scipy.io import wavfile

    data = tmp_path / "ds"
    _wavs_at(data, 16_000, 3)  # spk/0.wav .. spk/2.wav, 0.2 s each
    wavfile.write(data / "spk" / "1.wav", 16_000, np.zeros(640, dtype=np.int16))  # 0.04 s
    space = write_sweep(tmp_path, data={"dir": str(data)})
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "1 of the 3 wavs" in err and "spk/1.wav', 0.040 s" in err
    assert "shorter than the 0.060 s every trial needs" in err and "fix: remove them" in err
    wavfile.write(data / "spk" / "1.wav", 16_000, np.zeros(960, dtype=np.int16))  # 0.06 s
    assert main(["check", str(space)]) == 0
    capsys.readouterr()

    from sweeper.trainers.reference.config import load_config

    config = load_config("micro").to_dict()
    config["spk"] = {"alice": 0}
    (tmp_path / "config.json").write_text(json.dumps(config))
    base = {"config": str(tmp_path / "config.json")}
    space = write_sweep(tmp_path, data={"dir": str(data)}, base=base)
    assert main(["check", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert "speaker folder(s) 'spk' of data.dir are not in the base config's spk ['alice']" in err
    config["spk"] = {"spk": 3}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert main(["check", str(space)]) == 0
