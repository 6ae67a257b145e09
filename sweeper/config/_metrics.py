"""The metric names each trainer reports, where they are known, so a typo in
``objective.metrics`` or ``pruner.train_metric`` fails at load time instead of a sweep that
silently never stops a trial (or never sees overfitting).

The reference trainer's names (sweeper/trainers/reference: validate.py ``evaluate`` with
prefixes val and train_infer, training.py's losses, train/mel, gradient norms, learning rate);
tests/config/test_metric_names.py checks them against a real run. The sovits-svc trainer
relays whatever so-vits-svc logs: not checked (docs/sweep.md says so).
"""

from __future__ import annotations

from sweeper.space import FieldError
from sweeper.space._fields import closest

REFERENCE_METRICS = frozenset(
    {
        *(f"val/{m}" for m in ("mel", "mel_l1", "f0_rmse_cents", "f0_gross_error", "vuv_error")),
        "train_infer/mel",
        "train_infer/mel_l1",
        "train/mel",
        *(f"loss/g/{m}" for m in ("total", "mel", "kl", "fm", "gen", "lf0")),
        "loss/d/total",
        "grad_norm_g",
        "grad_norm_d",
        "learning_rate",
    }
)
KNOWN = {"reference": REFERENCE_METRICS}  # trainer -> every metric name it reports
# The training metric each trainer reports with every validation, beside val/*: what the
# overfitting rule compares the held-out rise with (the pruner's train_metric "auto").
# Here, below the trainers, so a config check can read it (sweeper.trainers re-exports it).
TRAIN_METRIC = {
    "reference": "train/mel",  # mean training mel loss since the previous validation
    "sovits-svc": "loss/g/mel",  # the mel loss of the log line at that step
}

# Metrics multiplied by a loss weight (both trainers: val/mel is the held-out L1 x c_mel, as
# so-vits-svc's own loss/g/mel). Searching the weight while ranking by such a metric ranks
# trials by their weight: c_mel 20 "beats" c_mel 90 on scale alone.
SCALED_BY = {
    "train.c_mel": ("val/mel", "train_infer/mel", "train/mel", "loss/g/mel", "loss/g/total"),
    "train.c_kl": ("loss/g/kl", "loss/g/total"),
}
UNSCALED = {"val/mel": "val/mel_l1", "train_infer/mel": "train_infer/mel_l1"}


def check_metric(key: tuple, name: str, trainer: str) -> None:
    """Refuse a metric name ``trainer`` never reports (no-op where its names are unknown)."""
    known = KNOWN.get(trainer)
    if known is None or name in known:
        return
    near = closest(name, known)
    how = f"did you mean {near[0]!r}?" if near else f"use one of {', '.join(sorted(known))}"
    raise FieldError(key, f"is not a metric the {trainer} trainer reports", name, how)


def zero_weights(params: dict) -> frozenset:
    """The parameters fixed to 0 (a loss weight so fixed makes the metric it multiplies 0 in
    every trial)."""
    from sweeper.space import FixedParam

    return frozenset(
        n for n, p in params.items()
        if isinstance(p, FixedParam) and not isinstance(p.value, bool) and p.value == 0
    )  # fmt: skip


def check_scale(key: tuple, name: str, searched: set[str], zero: frozenset = frozenset()) -> None:
    """Refuse ranking by a metric that a searched loss weight multiplies, or that a weight
    fixed to 0 (``zero``) makes 0 in every trial (a probe ran such a sweep: all val/mel 0.0)."""
    for weight, metrics in SCALED_BY.items():
        if name not in metrics or (weight not in searched and weight not in zero):
            continue
        if weight not in searched and name == "loss/g/total":
            continue  # a zero weight leaves the other terms: the total still ranks them
        fix = f"use {UNSCALED[name]!r} (unweighted)" if name in UNSCALED else (
            f"rank by an unweighted metric such as 'val/mel_l1', or fix {weight}"
        )
        short = weight.split(".")[-1]
        if weight in zero:
            why = f"is multiplied by {weight}, which this space fixes to 0: every trial would "
            why += "report 0 for it and the ranking would mean nothing"
            fix = fix.replace(f"or fix {weight}", f"or give {weight} a value above 0")
        else:
            why = f"is multiplied by {weight}, which this space searches: trials would rank by "
            why += f"their {short}, not their quality"
        raise FieldError(key, why, name, fix)


GAN_ONLY = frozenset({"loss/d/total", "loss/g/gen", "loss/g/fm", "grad_norm_d"})


def gan_off_reason(gan: object) -> str | None:
    """Why some trial trains without the GAN, from the space's ``train.use_gan`` spec (None:
    every trial that sets it trains with it). ``gan`` is a Param, or None when not searched."""
    values = gan.values() if gan is not None else None  # type: ignore[attr-defined]
    if not values or not any(v is False for v in values):
        return None
    if len(values) == 1:
        return "train.use_gan is fixed to false"
    return "train.use_gan is searched with false among its choices (those trials would FAIL)"


def check_gan(key: tuple, name: str, gan_off: str | None) -> None:
    """Refuse a discriminator metric when some trial trains without the GAN (``gan_off``
    says why): no such trial would report it, and each would run its budget to end FAIL."""
    if gan_off and name in GAN_ONLY:
        raise FieldError(
            key,
            f"is reported only when the GAN trains, and {gan_off}",
            name,
            "use 'val/mel_l1' or another metric every trial reports, or train with the GAN",
        )
