"""Checks of a sweep file across its sections, run by SweepConfig at construction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sweeper.space import FieldError

if TYPE_CHECKING:
    from sweeper.config._schema import SweepConfig


def check_sovits(cfg: SweepConfig) -> None:
    """trainer: sovits-svc and the sections it needs (and only it reads)."""
    if cfg.trainer != "sovits-svc":
        if cfg.sovits is not None:
            raise FieldError(
                ("sovits",),
                "is only read with trainer: sovits-svc",
                cfg.trainer,
                "remove the sovits: section or set trainer: sovits-svc",
            )
        return
    if cfg.sovits is None:
        raise FieldError(
            ("trainer",),
            "needs a sovits: section (where the so-vits-svc checkout is)",
            cfg.trainer,
            "add sovits: {checkout: PATH/TO/so-vits-svc}",
        )
    if cfg.base.config is None:
        raise FieldError(
            ("base", "preset"),
            "is not available for sovits-svc (it has no presets)",
            cfg.base.preset,
            "use base: {config: PATH/TO/so-vits-svc/configs/config.json}",
        )
    if cfg.data.dir is None:
        raise FieldError(
            ("data", "toy"),
            "cannot feed sovits-svc (its train.py needs preprocessed features)",
            "toy",
            "set data.dir to the folder the filelists' wav paths start from",
        )
    knobs = [name for name in cfg.parameters.params if name.startswith("dataset.")]
    if knobs:
        raise FieldError(
            ("parameters", knobs[0]),
            "is a reference-trainer knob that sovits-svc does not support",
            knobs[0],
            "remove it, or write a smaller filelist and point sovits.train_list at it",
        )

def check_train_clips(cfg: SweepConfig) -> None:
    """dataset.train_clips: whole numbers, within a toy set."""
    spec = cfg.parameters.params.get("dataset.train_clips")
    if spec is None:
        return
    key = ("parameters", "dataset.train_clips")
    values = spec.values()

    def whole(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 1

    if values is None:
        got = {"low": spec.low, "high": spec.high}
        raise FieldError(key, "must take whole numbers >= 1", got, "use type int or fixed")
    bad = next((i for i, v in enumerate(values) if not whole(v)), None)
    if bad is not None:
        # The choice itself, at its line (a probe, 2026-12-07: [1, 28, "28"] was named
        # at the parameter's line with every value).
        at = (*key, "choices", bad) if getattr(spec, "choices", None) is not None else key
        raise FieldError(
            at, "must take whole numbers >= 1", values[bad],
            "write a whole number, e.g. 28 (not 28.0 or \"28\")",
        )  # fmt: skip
    toy = cfg.data.toy
    if toy is not None and max(values) > toy.train_clips:
        raise FieldError(
            key,
            f"asks for more clips than the toy set's {toy.train_clips} training clips",
            max(values),
            f"keep it <= {toy.train_clips}, or raise data.toy.speakers/clips",
        )
