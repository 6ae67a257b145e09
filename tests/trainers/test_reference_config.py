"""Config: presets, so-vits-svc's config.json keys, strict loading, validation messages."""

from __future__ import annotations

import json

import pytest

from sweeper.errors import InputError
from sweeper.trainers.reference.config import PRESETS, from_dict, load_config

# so-vits-svc 4.1's config template keys (values from its config_template.json).
SOVITS_TEMPLATE = {
    "train": {
        "log_interval": 200,
        "eval_interval": 800,
        "seed": 1234,
        "epochs": 10000,
        "learning_rate": 0.0001,
        "betas": [0.8, 0.99],
        "eps": 1e-09,
        "batch_size": 6,
        "fp16_run": False,
        "half_type": "fp16",
        "lr_decay": 0.999875,
        "segment_size": 10240,
        "init_lr_ratio": 1,
        "warmup_epochs": 0,
        "c_mel": 45,
        "c_kl": 1.0,
        "use_sr": True,
        "max_speclen": 512,
        "port": "8001",
        "keep_ckpts": 3,
        "all_in_mem": False,
        "vol_aug": False,
    },
    "data": {
        "training_files": "filelists/train.txt",
        "validation_files": "filelists/val.txt",
        "max_wav_value": 32768.0,
        "sampling_rate": 44100,
        "filter_length": 2048,
        "hop_length": 512,
        "win_length": 2048,
        "n_mel_channels": 80,
        "mel_fmin": 0.0,
        "mel_fmax": 22050,
        "unit_interpolate_mode": "nearest",
    },
    "model": {
        "inter_channels": 192,
        "hidden_channels": 192,
        "filter_channels": 768,
        "n_heads": 2,
        "n_layers": 6,
        "kernel_size": 3,
        "p_dropout": 0.1,
        "resblock": "1",
        "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "upsample_rates": [8, 8, 2, 2, 2],
        "upsample_initial_channel": 512,
        "upsample_kernel_sizes": [16, 16, 4, 4, 4],
        "n_layers_q": 3,
        "n_layers_trans_flow": 3,
        "n_flow_layer": 4,
        "use_spectral_norm": False,
        "gin_channels": 768,
        "ssl_dim": 768,
        "n_speakers": 200,
        "vocoder_name": "nsf-hifigan",
        "speech_encoder": "vec768l12",
        "speaker_embedding": False,
        "vol_embedding": False,
        "use_depthwise_conv": False,
        "flow_share_parameter": False,
        "use_automatic_f0_prediction": True,
        "use_transformer_flow": False,
    },
    "spk": {"nyaru": 0},
}


def test_sovits_template_json_loads_with_its_values(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(SOVITS_TEMPLATE))
    cfg = load_config(path)
    assert cfg.train.c_mel == 45 and cfg.train.betas == [0.8, 0.99]
    assert cfg.data.hop_length == 512 and cfg.model.upsample_rates == [8, 8, 2, 2, 2]
    assert cfg.spk == {"nyaru": 0}
    assert cfg.to_dict()["model"]["hidden_channels"] == 192


def test_sovits_preset_equals_the_template():
    template = from_dict(SOVITS_TEMPLATE)
    preset = load_config("sovits-4.1")
    for section in ("train", "data", "model"):
        assert getattr(preset, section) == getattr(template, section)


@pytest.mark.parametrize("section,key", [("train", "learning_rat"), ("model", "hidden")])
def test_unknown_key_is_named(section, key):
    with pytest.raises(InputError, match=f"{section}.{key}"):
        from_dict({section: {key: 1}})


def test_a_misspelt_key_gets_a_suggestion():
    with pytest.raises(InputError, match=r"fix: did you mean 'train\.learning_rate'\?"):
        from_dict({"train": {"learning_rat": 1e-4}})


def test_unknown_section_is_named():
    with pytest.raises(InputError, match="'trian'"):
        from_dict({"trian": {}})


def test_yaml_preset_with_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preset: tiny\ntrain:\n  learning_rate: 0.0003\n")
    cfg = load_config(path)
    assert cfg.train.learning_rate == 0.0003
    assert cfg.train.batch_size == load_config("tiny").train.batch_size
    # docs/trainer.md's form: 3e-4 is a number here as in sweep files (YAML 1.1 said str).
    path.write_text("preset: tiny\ntrain: {learning_rate: 3e-4}\n")
    assert load_config(path).train.learning_rate == 0.0003
    path.write_text("preset: tiny\ntrain: {learning_rate: [\n")
    with pytest.raises(InputError, match=r"c\.yaml:\d+: invalid YAML"):
        load_config(path)


@pytest.mark.parametrize(
    "raw,fragment",
    [
        ({"train": {"learning_rate": -1.0}}, "learning_rate=-1.0"),
        ({"train": {"betas": [0.8]}}, "betas=[0.8]"),
        ({"train": {"lr_decay_unit": "batch"}}, "lr_decay_unit='batch'"),
        ({"data": {"hop_length": 500}}, "prod(upsample_rates)"),
        ({"model": {"vol_embedding": True}}, "vol_embedding"),
    ],
)
def test_invalid_values_echo_the_value(raw, fragment):
    with pytest.raises(InputError) as info:
        from_dict(raw)
    assert fragment in str(info.value)


def test_unknown_preset_and_missing_file():
    with pytest.raises(InputError, match="'huge'"):
        from_dict({"preset": "huge"})
    with pytest.raises(InputError, match=r"nope\.json"):
        load_config("nope.json")
    with pytest.raises(InputError, match=r"did you mean preset 'tiny'\?"):
        load_config("tinyy")


def test_presets_are_listed():
    assert {"tiny", "micro", "sovits-4.1"} <= set(PRESETS)
    assert load_config("tiny").data.sampling_rate == 16000


@pytest.mark.parametrize(
    ("section", "key", "value", "words"),
    [
        ("train", "use_gan", "false", "must be a bool"),
        ("train", "batch_size", 4.0, "must be an int"),
        ("train", "batch_size", True, "must be an int"),
        ("data", "sampling_rate", "44100", "must be an int"),
        ("model", "p_dropout", False, "must be a float"),
        ("data", "content_encoder", 1, "must be a str"),
    ],
)
def test_values_of_the_wrong_type_are_refused_naming_the_key(section, key, value, words):
    with pytest.raises(InputError, match=f"{section}.{key} {words}.*fix:"):
        from_dict({"preset": "micro", section: {key: value}})


def test_an_int_where_a_float_belongs_is_a_float():
    cfg = from_dict({"preset": "micro", "train": {"learning_rate": 1}, "data": {"mel_fmax": None}})
    assert cfg.train.learning_rate == 1.0 and type(cfg.train.learning_rate) is float


def _load_warnings(path):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = load_config(path)
    return cfg, [str(w.message) for w in caught]


def test_keys_a_config_json_lacks_are_named_with_the_defaults_used(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(SOVITS_TEMPLATE))
    assert _load_warnings(path)[1] == []  # the whole 4.1 template: nothing to say
    partial = json.loads(json.dumps(SOVITS_TEMPLATE))
    del partial["train"]["c_kl"], partial["model"]["speech_encoder"]
    path.write_text(json.dumps(partial))
    cfg, said = _load_warnings(path)
    assert cfg.train.c_kl == 1.0 and len(said) == 1
    assert "2 so-vits-svc 4.1 key(s) absent" in said[0] and "train.c_kl=1.0" in said[0]
    assert "model.speech_encoder='vec768l12'" in said[0] and str(path) in said[0]
    yaml_file = tmp_path / "base.yaml"
    yaml_file.write_text("preset: tiny\ntrain: {c_kl: 0.5}\n")
    assert _load_warnings(yaml_file)[1] == []  # a preset file names only what it changes
