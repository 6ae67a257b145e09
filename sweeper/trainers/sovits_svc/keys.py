"""so-vits-svc's ``config.json`` keys, so a sampled name is checked before a GPU is spent.

The table lists the keys of so-vits-svc 4.1's config template (``train``, ``data`` and
``model`` sections), written from the project's notes (docs/sovits-svc.md,
../shared/research/sovits.md) and checked against two real 4.0 ``config.json`` files, whose
keys are a subset. No so-vits-svc code is copied here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sweeper.errors import InputError
from sweeper.space import FixedParam, IntParam
from sweeper.space._fields import closest

SOVITS_KEYS: Mapping[str, frozenset[str]] = {
    "train": frozenset(
        {
            "log_interval", "eval_interval", "seed", "epochs", "learning_rate", "betas",
            "eps", "batch_size", "fp16_run", "half_type", "lr_decay", "segment_size",
            "init_lr_ratio", "warmup_epochs", "c_mel", "c_kl", "use_sr", "max_speclen",
            "port", "keep_ckpts", "all_in_mem", "vol_aug",
        }
    ),
    "data": frozenset(
        {
            "training_files", "validation_files", "max_wav_value", "sampling_rate",
            "filter_length", "hop_length", "win_length", "n_mel_channels", "mel_fmin",
            "mel_fmax", "unit_interpolate_mode",
        }
    ),
    "model": frozenset(
        {
            "inter_channels", "hidden_channels", "filter_channels", "n_heads", "n_layers",
            "kernel_size", "p_dropout", "resblock", "resblock_kernel_sizes",
            "resblock_dilation_sizes", "upsample_rates", "upsample_initial_channel",
            "upsample_kernel_sizes", "n_layers_q", "n_layers_trans_flow", "n_flow_layer",
            "use_spectral_norm", "gin_channels", "ssl_dim", "n_speakers", "vocoder_name",
            "speech_encoder", "speaker_embedding", "vol_embedding", "use_depthwise_conv",
            "flow_share_parameter", "use_automatic_f0_prediction", "use_transformer_flow",
        }
    ),
}  # fmt: skip

# Set by the sweeper for every trial, so a sampled value would be silently replaced.
MANAGED = {
    "train.port": "each trial gets a free port of its own",
    "train.keep_ckpts": "the sweeper keeps every checkpoint it has not judged (0 = keep all)",
    "data.training_files": "set sovits.train_list instead",
    "data.validation_files": "set sovits.val_list instead",
}
# Fixed by the features preprocess_hubert_f0.py wrote; changing them breaks the data.
# preprocess_flist_config.py --vol_aug sets both vol keys, and preprocess_hubert_f0.py then
# writes the X.wav.vol.npy files the volume embedding reads (research notes, section 2).
_VOL = "preprocess_flist_config.py --vol_aug sets both and the .vol.npy files follow it"
PREPROCESSED_WHY = {"model.vol_embedding": _VOL, "train.vol_aug": _VOL}
PREPROCESSED = frozenset(
    {
        "data.sampling_rate", "data.hop_length", "model.ssl_dim", "model.speech_encoder",
        "model.n_speakers", *PREPROCESSED_WHY,  # the vol keys passed check before 2026-12-07
    }
)  # fmt: skip


def known_keys(base: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The 4.1 table plus whatever the user's own config.json has (a newer fork's keys)."""
    known = {}
    for section, names in SOVITS_KEYS.items():
        extra = base.get(section)
        own = frozenset(extra) if isinstance(extra, Mapping) else frozenset()
        known[section] = names | own
    return known


def check_keys(names: Iterable[str], base: Mapping[str, Any]) -> None:
    """Raise for a dotted key so-vits-svc does not read, or one the sweeper must set itself.

    Example:
        >>> check_keys(["train.learning_rate", "model.p_dropout"], {})
        >>> check_keys(["train.learning_rat"], {})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        sweeper.errors.InputError: parameter train.learning_rat is not ... train.learning_rate?
    """
    known = known_keys(base)
    for name in names:
        section, _, key = name.partition(".")
        if name in MANAGED:
            raise InputError(
                f"parameter {name} is set by the sweeper for sovits-svc (got {name!r}); "
                f"fix: remove it from parameters: {MANAGED[name]}"
            )
        if name in PREPROCESSED:
            why = f": {PREPROCESSED_WHY[name]}" if name in PREPROCESSED_WHY else ""
            raise InputError(
                f"parameter {name} is fixed by the preprocessed features (got {name!r}){why}; "
                "fix: remove it, or preprocess a dataset per value and sweep those separately"
            )
        if section in known and key in known[section]:
            continue
        every = [f"{s}.{k}" for s, keys in known.items() for k in sorted(keys)]
        near = closest(name, every, n=1)
        hint = f"did you mean {near[0]}?" if near else "use section.key with section in "
        if not near:
            hint += "train, data, model (see docs/sovits-svc.md for the keys)"
        raise InputError(
            f"parameter {name} is not a so-vits-svc config key (got {name!r}); fix: {hint}"
        )
    if isinstance(names, Mapping):
        _check_eval_interval(names, base)


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_eval_interval(params: Mapping[str, Any], base: Mapping[str, Any]) -> None:
    """A given train.eval_interval must be a multiple of train.log_interval, so each
    checkpoint lands on a logged step. The launch rounded it up, silently, before
    2026-12-07: a fixed 12 with log_interval 5 ran as 15, recorded as 12. ``params``: the
    sweep's parameter specs (check time) or a trial's values (launch)."""
    if "train.eval_interval" not in params:
        return
    train = base.get("train") if isinstance(base.get("train"), Mapping) else {}
    log = params.get("train.log_interval", train.get("log_interval", 200))
    log = _whole(log.value if isinstance(log, FixedParam) else log)
    if log is None or log < 1:
        return  # sampled (each trial's launch checks its values), or refused at launch
    spec = params["train.eval_interval"]
    if isinstance(spec, IntParam):  # low + k * step: check the grid, not every value
        values: tuple[Any, ...] = (spec.low, spec.low + spec.step)
    else:
        values = (spec.values() or ()) if hasattr(spec, "values") else (spec,)
    for value in values:
        if _whole(value) is not None and value >= 1 and value % log:
            down, up = value // log * log, (value // log + 1) * log
            near = f"{down} or {up}" if down >= 1 else str(up)
            if isinstance(spec, IntParam):
                near += f" as low, with step: {log}"
            raise InputError(
                f"parameter train.eval_interval {value} is not a multiple of "
                f"train.log_interval {log} (each checkpoint must land on a logged step); "
                f"fix: use {near}"
            )
