"""Config values that used to train silently wrong or end in "internal error" are refused at
construction, in one line naming the key, the value and the fix."""

from __future__ import annotations

import pytest

from sweeper.errors import InputError
from sweeper.trainers.reference.config import from_dict


def _refused(raw):
    with pytest.raises(InputError) as info:
        from_dict({"preset": "tiny", **raw})
    message = str(info.value)
    assert "\n" not in message and "fix:" in message, message
    return message


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        # Until 2026-12-06 these gave an all-zero mel filterbank: val/mel exactly 0.0000.
        ({"mel_fmin": 9000, "mel_fmax": 8000}, ["data.mel_fmin", "mel_fmin=9000.0"]),
        ({"mel_fmin": 7999, "mel_fmax": 8000}, ["80 mel band(s) without an FFT bin"]),
        ({"n_mel_channels": 0}, ["data.n_mel_channels", "n_mel_channels=0"]),
        ({"n_mel_channels": 400}, ["n_mel_channels=400", "mel band(s) without an FFT bin"]),
        ({"mel_fmin": -1.0}, ["mel_fmin=-1.0"]),
    ],
)
def test_settings_that_leave_mel_bands_empty_are_refused(data, fragments):
    message = _refused({"data": data})
    for fragment in fragments:
        assert fragment in message


def test_mel_settings_of_the_presets_and_a_narrow_valid_band_load():
    cfg = from_dict({"preset": "tiny", "data": {"mel_fmin": 7000.0}})
    assert cfg.data.mel_fmin == 7000.0


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        # Until 2026-12-06 each ended in "internal error: ..." (some after data loading).
        ({"model": {"n_heads": 0}}, "model.n_heads must be >= 1, got n_heads=0"),
        ({"model": {"hidden_channels": 0}}, "hidden_channels=0"),
        ({"model": {"gin_channels": 0}}, "gin_channels=0"),
        ({"model": {"kernel_size": 4}}, "model.kernel_size must be odd"),
        ({"model": {"disc_periods": [0]}}, "disc_periods=[0]"),
        ({"model": {"disc_periods": [], "use_scale_discriminator": False}}, "no discriminator"),
        ({"model": {"upsample_kernel_sizes": [19, 16, 8]}}, "upsample_kernel_sizes=[19, 16, 8]"),
        (
            {"model": {"resblock_kernel_sizes": [4], "resblock_dilation_sizes": [[1]]}},
            "resblock_kernel_sizes=[4]",
        ),
        (
            {"model": {"resblock_kernel_sizes": [3], "resblock_dilation_sizes": 3}},
            "resblock_dilation_sizes=3",
        ),
        ({"spk": {"alice": "zero"}}, "spk['alice'] must be a whole-number id, got 'zero'"),
        ({"spk": ["alice", "bob"]}, "spk=['alice', 'bob']"),
        ({"train": {"seed": 99999999999999999999}}, "seed=99999999999999999999"),
        ({"train": {"betas": 0.8}}, "train.betas must be a list of two numbers, got betas=0.8"),
        ({"train": {"betas": [0.8, "0.99"]}}, "betas=[0.8, '0.99']"),
    ],
)
def test_values_the_model_cannot_take_name_the_key(raw, fragment):
    assert fragment in _refused(raw)


def test_every_preset_passes_the_value_checks():
    from sweeper.trainers.reference.config import PRESETS, load_config

    for name in PRESETS:
        load_config(name)
    from_dict({"preset": "tiny", "model": {"n_layers": 0, "kernel_size": 5}, "spk": {"a": 1}})
    # A sweep draws YAML list choices as tuples.
    assert from_dict({"preset": "tiny", "train": {"betas": (0.5, 0.9)}}).train.betas == (0.5, 0.9)


@pytest.mark.parametrize(
    ("device", "fragment"),
    [("gpu", "device='gpu' is not a torch device"), ("", "device=''")],
)
def test_a_device_name_torch_does_not_know_is_refused_before_the_data(tmp_path, device, fragment):
    from sweeper.trainers.reference.training import train

    # No data at all: the device is checked first (it used to fail after ~10 s of loading).
    with pytest.raises(InputError, match="fix: cpu") as info:
        train("micro", tmp_path / "no-data", tmp_path / "run", max_steps=1, device=device)
    assert fragment in str(info.value)


def test_a_device_this_torch_cannot_use_is_refused(tmp_path):
    import torch

    from sweeper.trainers.reference.training import torch_device

    if not torch.cuda.is_available():
        with pytest.raises(InputError, match=r"device='cuda'.*fix: --device cpu"):
            torch_device("cuda")
    count = torch.cuda.device_count()
    with pytest.raises(InputError, match=f"device='cuda:{count}'"):
        torch_device(f"cuda:{count}")
    assert torch_device("cpu").type == "cpu"


def test_a_mel_fmax_above_nyquist_says_where_22050_comes_from():
    message = _refused({"data": {"mel_fmax": 22050.0}})
    assert "mel_fmax=22050.0" in message and "4.1's default" in message and "8000" in message


def test_an_empty_yaml_warns_and_json_errors_mention_the_yaml_suffix(tmp_path):
    from sweeper.trainers.reference.config import load_config

    (tmp_path / "empty.yaml").write_text("\n")
    with pytest.warns(UserWarning, match=r"empty\.yaml is empty: .*fix: name a preset"):
        assert load_config(tmp_path / "empty.yaml").data.sampling_rate == 44100
    (tmp_path / "c.yaml.bak").write_text("preset: micro\n")
    with pytest.raises(InputError, match=r"not valid JSON .*\.yaml or \.yml suffix"):
        load_config(tmp_path / "c.yaml.bak")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        # Until 2026-12-06 these named no fix, or echoed Python's `self.x=` / `lr=`.
        ({"train": {"learning_rate": 0.0}}, "learning_rate=0.0"),
        ({"train": {"learning_rate": float("nan")}}, "learning_rate=nan"),
        ({"train": {"eps": 0.0}}, "eps=0.0"),
        ({"train": {"lr_decay": 0.0}}, "lr_decay=0.0"),
        ({"train": {"c_mel": float("inf")}}, "c_mel=inf"),
        ({"train": {"c_kl": -1.0}}, "c_kl=-1.0"),
        ({"train": {"keep_ckpts": -1}}, "keep_ckpts=-1"),
        ({"train": {"half_type": "fp8"}}, "half_type='fp8'"),
        ({"train": {"max_crop_frames": 5}}, "max_crop_frames=5"),
        ({"train": {"segment_size": 1000}}, "segment_size=1000"),
        ({"data": {"win_length": 0}}, "win_length=0"),
        ({"data": {"unit_interpolate_mode": "linear"}}, "unit_interpolate_mode='linear'"),
        ({"data": {"content_encoder": "hubert"}}, "content_encoder='hubert'"),
        ({"data": {"hop_length": 500}}, "upsample_rates=[10, 8, 4]"),
        ({"model": {"p_dropout": 1.0}}, "p_dropout=1.0"),
        ({"model": {"disc_channel_div": 0}}, "disc_channel_div=0"),
        ({"model": {"hidden_channels": 63}}, "hidden_channels=63"),
        ({"spk": {"alice": -1}}, "spk['alice']=-1"),
    ],
)
def test_every_value_error_echoes_the_key_and_names_a_fix(raw, fragment):
    assert fragment in _refused(raw)
