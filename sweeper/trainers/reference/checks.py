"""Value checks of the config sections that go beyond types: each value the model, the mel
front end or the seeding can take, refused at construction in one line that names the key,
the value and the fix (they used to end in "internal error" after data loading)."""

from __future__ import annotations

import math
from typing import Any

from sweeper.errors import InputError

SEED_LIMIT = 2**32  # numpy.random.seed takes [0, 2**32)


def check(ok: bool, message: str) -> None:
    if not ok:
        raise InputError(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def at_least(section: str, obj: Any, names: tuple[str, ...], minimum: int) -> None:
    for name in names:
        value = getattr(obj, name)
        check(
            value >= minimum,
            f"{section}.{name} must be >= {minimum}, got {name}={value!r}; fix: {minimum} or more",
        )


def int_list(key: str, value: Any, example: str) -> list[int]:
    """A list of whole numbers >= 1."""
    check(
        isinstance(value, (list, tuple)) and all(_is_int(v) and v >= 1 for v in value),
        f"{key} must be a list of whole numbers >= 1, got {key.split('.')[-1]}={value!r}; "
        f"fix: e.g. {example}",
    )
    return value


def _seed_and_betas(t: Any) -> None:
    seed = t.seed
    check(
        0 <= seed < SEED_LIMIT,
        f"train.seed must be in [0, 2**32), got {seed=}; fix: a whole number such as 1234",
    )
    betas = t.betas
    check(
        isinstance(betas, (list, tuple)) and len(betas) == 2 and all(_is_number(b) for b in betas),
        f"train.betas must be a list of two numbers, got {betas=}; fix: e.g. [0.8, 0.99]",
    )


def mel_bands(data: Any) -> None:
    """Every mel band covers at least one FFT bin: an empty band is 0 in both mels, so the
    mel loss ignores it (all bands empty: val/mel exactly 0.0, ranked best by a sweep)."""
    n, fmin, fmax = data.n_mel_channels, data.mel_fmin, data.mel_fmax
    check(n >= 1, f"data.n_mel_channels must be >= 1, got n_mel_channels={n!r}; fix: e.g. 80")
    top = fmax if fmax is not None else data.sampling_rate / 2
    check(
        0 <= fmin < top,
        f"data.mel_fmin must be in [0, mel_fmax), got mel_fmin={fmin!r} mel_fmax={top!r}; "
        "fix: a mel_fmin from 0 up to below mel_fmax (so-vits-svc: 0)",
    )
    n_fft = data.filter_length
    check(n_fft >= 2, f"data.filter_length must be >= 2, got filter_length={n_fft!r}; fix: 2048")
    from sweeper.data.features import mel_filterbank

    empty = int((mel_filterbank(data.sampling_rate, n_fft, n, fmin, top).max(axis=1) <= 0).sum())
    check(
        empty == 0,
        f"data.n_mel_channels={n!r} over mel_fmin={fmin!r}..mel_fmax={top!r} leaves {empty} "
        f"mel band(s) without an FFT bin (filter_length={n_fft} gives one every "
        f"{data.sampling_rate / n_fft:.1f} Hz); fix: widen the band, lower n_mel_channels or "
        "raise filter_length",
    )


_POSITIVE = (
    "inter_channels",
    "hidden_channels",
    "filter_channels",
    "n_heads",
    "upsample_initial_channel",
    "gin_channels",
    "ssl_dim",
    "n_speakers",
    "n_flow_layer",
    "posterior_layers",
)
_COUNTS = ("n_layers", "n_flows", "f0_decoder_layers", "harmonic_num")  # 0 works


def _model_shapes(m: Any) -> None:
    at_least("model", m, _POSITIVE, 1)
    at_least("model", m, _COUNTS, 0)
    k = m.kernel_size
    check(
        k % 2 == 1,
        f"model.kernel_size must be odd (the convolutions keep the frame count), got "
        f"kernel_size={k!r}; fix: 3 (so-vits-svc), 1 or 5",
    )
    for size in int_list("model.resblock_kernel_sizes", m.resblock_kernel_sizes, "[3, 7, 11]"):
        check(
            size % 2 == 1,
            f"model.resblock_kernel_sizes must be odd, got resblock_kernel_sizes="
            f"{m.resblock_kernel_sizes!r}; fix: e.g. [3, 7, 11]",
        )
    dilation_lists = m.resblock_dilation_sizes
    check(
        isinstance(dilation_lists, (list, tuple)),
        f"model.resblock_dilation_sizes must be a list of lists, got resblock_dilation_sizes="
        f"{dilation_lists!r}; fix: e.g. [[1, 3, 5], [1, 3, 5], [1, 3, 5]]",
    )
    for dilations in dilation_lists:
        int_list("model.resblock_dilation_sizes[i]", dilations, "[1, 3, 5]")
    rates = int_list("model.upsample_rates", m.upsample_rates, "[8, 8, 2, 2, 2]")
    kernels = int_list("model.upsample_kernel_sizes", m.upsample_kernel_sizes, "[16, 16, 4, 4, 4]")
    for rate, kernel in zip(rates, kernels, strict=False):
        check(
            kernel >= rate and (kernel - rate) % 2 == 0,
            f"each model.upsample_kernel_sizes entry must be >= its upsample_rates entry and "
            f"differ from it by an even number, got upsample_kernel_sizes={kernels!r} for "
            f"upsample_rates={rates!r}; fix: twice the rate, e.g. {[2 * r for r in rates]}",
        )
    periods = int_list("model.disc_periods", m.disc_periods, "[2, 3, 5, 7, 11]")
    check(
        bool(periods) or m.use_scale_discriminator,
        "model.disc_periods=[] with use_scale_discriminator=False leaves no discriminator; "
        "fix: e.g. disc_periods [2, 3, 5, 7, 11], or train.use_gan false",
    )


def spk_map(value: Any, source: str) -> dict[str, int]:
    """so-vits-svc's ``spk``: speaker name -> whole-number id."""
    if not isinstance(value, dict):
        raise InputError(
            f"{source}: spk must map speaker names to ids, got spk={value!r}; fix: e.g. "
            "spk: {alice: 0, bob: 1}"
        )
    for name, sid in value.items():
        check(
            _is_int(sid),
            f"{source}: spk[{str(name)!r}] must be a whole-number id, got {sid!r}; fix: e.g. "
            f"spk: {{{name}: 0}}",
        )
    return {str(k): v for k, v in value.items()}


def train_values(t: Any) -> None:
    """The ``train`` section (types already checked)."""
    for name in ("log_interval", "eval_interval", "batch_size", "segment_size", "epochs"):
        value = getattr(t, name)
        check(value >= 1, f"train.{name} must be >= 1, got {name}={value!r}; fix: use 1+")
    _seed_and_betas(t)
    lr = t.learning_rate
    check(
        lr > 0 and math.isfinite(lr),
        f"train.learning_rate must be a finite number > 0, got learning_rate={lr!r}; "
        "fix: e.g. 0.0001 (so-vits-svc)",
    )
    betas = t.betas
    check(
        len(betas) == 2 and all(0 <= b < 1 for b in betas),
        f"train.betas must be two numbers in [0, 1), got {betas=}; fix: e.g. [0.8, 0.99]",
    )
    check(t.eps > 0, f"train.eps must be > 0, got eps={t.eps!r}; fix: 1e-9")
    decay = t.lr_decay
    check(
        0 < decay <= 1,
        f"train.lr_decay must be in (0, 1], got lr_decay={decay!r}; fix: 0.999875 (1 = none)",
    )
    half = t.half_type
    check(
        half in ("fp16", "bf16"),
        f"train.half_type must be fp16 or bf16, got half_type={half!r}; fix: fp16",
    )
    unit = t.lr_decay_unit
    check(
        unit in ("epoch", "step"),
        f"train.lr_decay_unit must be epoch or step, got lr_decay_unit={unit!r}; fix: epoch",
    )
    for name in ("c_mel", "c_kl"):
        value = getattr(t, name)
        check(
            0 <= value < math.inf,
            f"train.{name} must be a finite number >= 0, got {name}={value!r}; fix: 0 or more",
        )
    keep = t.keep_ckpts
    check(keep >= 0, f"train.keep_ckpts must be >= 0, got keep_ckpts={keep!r}; fix: 0 = all")
    check(not t.vol_aug, "train.vol_aug=True is not supported; fix: set it to false")
    crop = t.max_crop_frames
    check(
        crop > 10,  # a crop keeps max_crop_frames - 10 frames
        f"train.max_crop_frames must be > 10, got max_crop_frames={crop!r}; fix: 800",
    )


def data_values(d: Any) -> None:
    """The ``data`` section (types already checked)."""
    sr, hop = d.sampling_rate, d.hop_length
    check(
        sr >= 8000,
        f"data.sampling_rate must be >= 8000, got sampling_rate={sr!r}; fix: 16000+",
    )
    check(hop >= 1, f"data.hop_length must be >= 1, got hop_length={hop!r}; fix: e.g. 512")
    win, n_fft = d.win_length, d.filter_length
    check(
        1 <= win <= n_fft,
        f"data.win_length must be in [1, filter_length={n_fft!r}], got win_length={win!r}; "
        "fix: win_length = filter_length (so-vits-svc)",
    )
    fmax = d.mel_fmax
    check(
        fmax is None or fmax <= sr / 2,
        f"data.mel_fmax must be <= sampling_rate/2 = {sr / 2:g}, got mel_fmax={fmax!r} "
        f"(22050 is so-vits-svc 4.1's default when a file has no mel_fmax); fix: mel_fmax "
        f"{sr / 2:g} or null (= sampling_rate/2)",
    )
    mel_bands(d)
    mode = d.unit_interpolate_mode
    check(
        mode in ("nearest", "left"),
        f"data.unit_interpolate_mode must be nearest or left, got unit_interpolate_mode="
        f"{mode!r}; fix: nearest",
    )
    enc = d.content_encoder
    check(
        enc == "mel" or enc.startswith(("torchscript:", "export:")),
        f"data.content_encoder must be mel, torchscript:PATH or export:PATH, got "
        f"content_encoder={enc!r}; fix: mel",
    )


def model_values(m: Any) -> None:
    """The ``model`` section (types already checked)."""
    _model_shapes(m)
    rates, kernels = m.upsample_rates, m.upsample_kernel_sizes
    check(
        len(rates) == len(kernels),
        f"model.upsample_rates and upsample_kernel_sizes differ in length, got "
        f"upsample_rates={rates!r} upsample_kernel_sizes={kernels!r}; fix: one kernel per "
        "rate",
    )
    check(
        len(m.resblock_kernel_sizes) == len(m.resblock_dilation_sizes),
        f"model.resblock_kernel_sizes and resblock_dilation_sizes differ in length, got "
        f"resblock_kernel_sizes={m.resblock_kernel_sizes!r}; fix: one dilation list per "
        "kernel",
    )
    hidden, heads = m.hidden_channels, m.n_heads
    check(
        hidden % heads == 0,
        f"model.hidden_channels must divide by n_heads={heads}, got hidden_channels="
        f"{hidden!r}; fix: a multiple of n_heads",
    )
    drop = m.p_dropout
    check(0 <= drop < 1, f"model.p_dropout must be in [0, 1), got p_dropout={drop!r}; fix: 0.1")
    block = m.resblock
    check(
        block == "1",
        f"model.resblock: only '1' is implemented, got resblock={block!r}; fix: \"1\"",
    )
    name = m.vocoder_name
    check(
        name == "nsf-hifigan",
        f"model.vocoder_name: only nsf-hifigan, got vocoder_name={name!r}; fix: nsf-hifigan",
    )
    for flag in ("vol_embedding", "use_depthwise_conv", "flow_share_parameter"):
        check(not getattr(m, flag), f"model.{flag}=True is not implemented; fix: false")
    check(
        not m.use_transformer_flow,
        "model.use_transformer_flow=True is not implemented; fix: false",
    )
    check(
        m.disc_channel_div >= 1,
        f"model.disc_channel_div must be >= 1, got disc_channel_div={m.disc_channel_div!r}; "
        "fix: 1 (full width) or more",
    )
