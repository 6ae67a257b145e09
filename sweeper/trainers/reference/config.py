"""Typed so-vits-svc configuration: the sections and key names of its ``config.json``.

Loading is strict: an unknown key is an :class:`~sweeper.errors.InputError` naming the key.
Keys so-vits-svc reads but ignores are accepted (so real config files load) and documented
as unused. A few keys this trainer adds are marked "(reference trainer)"; so-vits-svc hard-codes
those values, and the defaults here are the ones it hard-codes.

Example:
    >>> cfg = load_config("tiny")
    >>> cfg.data.sampling_rate, cfg.data.hop_length
    (16000, 320)
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sweeper.errors import InputError
from sweeper.trainers.reference import checks
from sweeper.trainers.reference.fieldtypes import check_types
from sweeper.trainers.reference.presets import PRESETS, PRESETS_RAW


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise InputError(message)


@dataclass
class TrainConfig:
    log_interval: int = 200  # steps between loss/* scalars (so-vits-svc: log_interval)
    eval_interval: int = 800  # steps between validation + checkpoints
    seed: int = 1234  # torch/numpy seed; data order is derived from it
    epochs: int = 10000  # stop after this many epochs (max_steps may stop earlier)
    learning_rate: float = 1e-4  # AdamW lr for G and D
    betas: list[float] = field(default_factory=lambda: [0.8, 0.99])  # AdamW betas
    eps: float = 1e-9  # AdamW eps
    batch_size: int = 6  # clips per step
    fp16_run: bool = False  # autocast on CUDA (ignored on CPU)
    half_type: str = "fp16"  # "fp16" (with GradScaler) or "bf16"
    lr_decay: float = 0.999875  # ExponentialLR gamma
    segment_size: int = 10240  # samples the decoder sees per clip (multiple of hop_length)
    init_lr_ratio: float = 1.0  # unused by so-vits-svc 4.1; accepted for compatibility
    warmup_epochs: int = 0  # linear lr warm-up epochs
    c_mel: float = 45.0  # weight of the mel L1 term
    c_kl: float = 1.0  # weight of the KL term
    use_sr: bool = True  # unused by so-vits-svc 4.1; accepted for compatibility
    max_speclen: int = 512  # unused by so-vits-svc 4.1; accepted for compatibility
    port: str = "8001"  # DDP port in so-vits-svc; unused here (single process)
    keep_ckpts: int = 3  # G_/D_ pairs kept (0 = all); the best pair is kept apart
    all_in_mem: bool = False  # accepted; this trainer always caches decoded items
    vol_aug: bool = False  # volume augmentation: not implemented, must stay false
    lr_decay_unit: str = "epoch"  # (reference trainer) "epoch" as so-vits-svc, or "step"
    use_gan: bool = True  # (reference trainer) false = mel+KL(+lf0) only, no discriminator
    max_crop_frames: int = 800  # (reference trainer) clips longer than this are cropped

    def __post_init__(self) -> None:
        check_types("train", self)
        checks.train_values(self)


@dataclass
class DataConfig:
    training_files: str = "filelists/train.txt"  # one wav path per line, relative to --data
    validation_files: str = "filelists/val.txt"  # held-out wavs for val/* metrics
    max_wav_value: float = 32768.0  # int16 full scale
    sampling_rate: int = 44100  # every wav must have this rate
    filter_length: int = 2048  # n_fft of the linear spectrogram (filter_length//2+1 bins)
    hop_length: int = 512  # samples per frame; equals prod(model.upsample_rates)
    win_length: int = 2048  # STFT window
    n_mel_channels: int = 80  # mel bins of the mel loss
    mel_fmin: float = 0.0  # mel filterbank low edge (Hz)
    mel_fmax: float | None = 22050  # mel filterbank high edge (Hz); null = Nyquist
    unit_interpolate_mode: str = "nearest"  # how *.soft.pt frames are stretched to f0 frames
    content_encoder: str = "mel"  # (reference trainer) mel | torchscript:PATH | export:PATH

    def __post_init__(self) -> None:
        check_types("data", self)
        checks.data_values(self)


@dataclass
class ModelConfig:
    inter_channels: int = 192  # latent z channels
    hidden_channels: int = 192  # encoder width
    filter_channels: int = 768  # attention feed-forward width
    n_heads: int = 2  # attention heads
    n_layers: int = 6  # content-encoder attention layers
    kernel_size: int = 3  # feed-forward conv kernel
    p_dropout: float = 0.1  # dropout in the encoders
    resblock: str = "1"  # HiFiGAN resblock type (only "1")
    resblock_kernel_sizes: list[int] = field(default_factory=lambda: [3, 7, 11])  # MRF kernels
    resblock_dilation_sizes: list[list[int]] = field(
        default_factory=lambda: [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
    )  # MRF dilations, one list per kernel
    upsample_rates: list[int] = field(default_factory=lambda: [8, 8, 2, 2, 2])  # prod == hop
    upsample_initial_channel: int = 512  # decoder width before the first upsample
    upsample_kernel_sizes: list[int] = field(default_factory=lambda: [16, 16, 4, 4, 4])
    n_layers_q: int = 3  # unused by so-vits-svc 4.1; accepted for compatibility
    n_layers_trans_flow: int = 3  # transformer flow: not implemented (use_transformer_flow)
    n_flow_layer: int = 4  # WaveNet layers inside each coupling layer
    use_spectral_norm: bool = False  # discriminator S normalisation
    gin_channels: int = 768  # speaker embedding width
    ssl_dim: int = 768  # content-feature dimension (80 for the built-in mel front end)
    n_speakers: int = 200  # size of the speaker table
    vocoder_name: str = "nsf-hifigan"  # only nsf-hifigan
    speech_encoder: str = "vec768l12"  # recorded for so-vits-svc; see data.content_encoder
    speaker_embedding: bool = False  # unused by so-vits-svc 4.1; accepted for compatibility
    vol_embedding: bool = False  # volume embedding: not implemented, must stay false
    use_depthwise_conv: bool = False  # not implemented, must stay false
    flow_share_parameter: bool = False  # not implemented, must stay false
    use_automatic_f0_prediction: bool = True  # train the f0 decoder (adds loss/g/lf0)
    use_transformer_flow: bool = False  # not implemented, must stay false
    posterior_layers: int = 16  # (reference trainer) WaveNet layers of enc_q
    n_flows: int = 4  # (reference trainer) coupling layers in the flow
    f0_decoder_layers: int = 6  # (reference trainer) attention layers of the f0 decoder
    harmonic_num: int = 8  # (reference trainer) NSF source overtones
    disc_periods: list[int] = field(default_factory=lambda: [2, 3, 5, 7, 11])  # (ref.) MPD
    disc_channel_div: int = 1  # (reference trainer) divide discriminator widths by this
    use_scale_discriminator: bool = True  # (reference trainer) include DiscriminatorS

    def __post_init__(self) -> None:
        check_types("model", self)
        checks.model_values(self)


@dataclass
class SovitsConfig:
    train: TrainConfig = field(default_factory=TrainConfig)  # optimisation and logging
    data: DataConfig = field(default_factory=DataConfig)  # audio and feature layout
    model: ModelConfig = field(default_factory=ModelConfig)  # network sizes
    spk: dict[str, int] = field(default_factory=dict)  # speaker name -> id; {} = from data

    def __post_init__(self) -> None:
        hop, rates = self.data.hop_length, self.model.upsample_rates
        _check(
            math.prod(rates) == hop,
            f"prod(upsample_rates) must equal data.hop_length={hop}, got upsample_rates={rates!r} "
            f"(product {math.prod(rates)}); fix: rates whose product is {hop}, or another hop",
        )
        seg = self.train.segment_size
        _check(
            seg % hop == 0,
            f"train.segment_size must be a multiple of data.hop_length={hop}, got segment_size="
            f"{seg!r}; fix: e.g. {max(1, round(seg / hop)) * hop}",
        )
        for name, sid in self.spk.items():
            n = self.model.n_speakers
            _check(
                0 <= sid < n,
                f"spk[{name!r}]={sid} is outside [0, model.n_speakers={n}); fix: ids from 0"
                + (", or raise model.n_speakers" if sid >= n else ""),
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SECTIONS = {"train": TrainConfig, "data": DataConfig, "model": ModelConfig}


def from_dict(raw: dict[str, Any], source: str = "config") -> SovitsConfig:
    """Build a config from a so-vits-svc style dict; unknown keys raise InputError."""
    if not isinstance(raw, dict):
        raise InputError(f"{source}: top level must be a mapping, got {type(raw).__name__}")
    raw = copy.deepcopy(raw)
    base: dict[str, Any] = {}
    preset = raw.pop("preset", None)
    if preset is not None:
        base = PRESETS_RAW.get(preset)
        if base is None:
            raise InputError(f"{source}: unknown preset {preset!r}; fix: one of {sorted(PRESETS)}")
        base = copy.deepcopy(base)
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "spk":
            base["spk"] = checks.spk_map(value, source)
            continue
        if key not in _SECTIONS:
            raise InputError(f"{source}: unknown key {key!r}; fix: use train/data/model/spk")
        if not isinstance(value, dict):
            raise InputError(
                f"{source}: section {key!r} must be a mapping (got {value!r}); fix: indent its "
                "keys under it"
            )
        known = {f.name for f in dataclasses.fields(_SECTIONS[key])}
        for sub in value:
            if sub not in known:
                from sweeper.space._fields import closest

                near = closest(str(sub), known, n=1)
                fix = f"did you mean '{key}.{near[0]}'?" if near else "remove or rename it"
                raise InputError(f"{source}: unknown key '{key}.{sub}'; fix: {fix}")
        sections[key] = {**base.get(key, {}), **value}
    for key in _SECTIONS:
        sections.setdefault(key, base.get(key, {}))
    try:
        built = {k: cls(**sections[k]) for k, cls in _SECTIONS.items()}
    except TypeError as err:  # a wrongly typed value that the constructor could not take
        raise InputError(f"{source}: {err}") from err
    spk = base.get("spk", {})
    return SovitsConfig(spk={str(k): int(v) for k, v in spk.items()}, **built)


def load_config(path_or_preset: str | Path) -> SovitsConfig:
    """Load a preset name, a so-vits-svc ``config.json`` or a YAML file (``preset:`` allowed)."""
    name = str(path_or_preset)
    if name in PRESETS_RAW:
        return from_dict(copy.deepcopy(PRESETS_RAW[name]), source=f"preset {name}")
    path = Path(name)
    if not path.is_file():
        from sweeper.space._fields import closest

        near = closest(name, PRESETS_RAW, n=1)
        hint = f"did you mean preset {near[0]!r}? or" if near else "name a preset, or"
        raise InputError(
            f"config {name!r} is neither a file nor a preset {sorted(PRESETS_RAW)}; fix: "
            f"{hint} give the path of a so-vits-svc config.json or a YAML config"
        )
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        warnings.warn(
            f"{name} is empty: so-vits-svc 4.1's full-size defaults (44.1 kHz, 200 speakers) are "
            "used; fix: name a preset (preset: tiny) or the keys to set",
            stacklevel=2,
        )
    if path.suffix.lower() in (".yaml", ".yml"):
        from sweeper.config._yaml import safe_load

        raw = safe_load(text, name)
    else:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(
                f"{name}: not valid JSON ({err}); fix: check the syntax (a YAML file needs a "
                ".yaml or .yml suffix)"
            ) from err
        cfg = from_dict(raw if raw is not None else {}, source=name)
        _warn_absent(name, raw, cfg)
        return cfg
    return from_dict(raw if raw is not None else {}, source=name)


def _warn_absent(name: str, raw: Any, cfg: SovitsConfig) -> None:
    """A so-vits-svc config.json without some of 4.1's template keys (a 4.0 config lacks
    several) gets this trainer's defaults, which are 4.1's: say which, once per file."""
    from sweeper.trainers.sovits_svc.keys import SOVITS_KEYS

    if not isinstance(raw, dict) or "preset" in raw:
        return  # a preset-based file names only what it changes
    full = cfg.to_dict()
    absent = [
        f"{section}.{key}={full[section][key]!r}"
        for section in _SECTIONS
        for key in sorted(SOVITS_KEYS[section])
        if key in full[section] and key not in (raw.get(section) or {})
    ]
    if absent:
        shown = ", ".join(absent[:6]) + (f" and {len(absent) - 6} more" if len(absent) > 6 else "")
        warnings.warn(
            f"{name}: {len(absent)} so-vits-svc 4.1 key(s) absent, their 4.1 defaults used: "
            f"{shown}; fix: add them to the file to train with other values",
            stacklevel=3,
        )
