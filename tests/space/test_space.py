"""Parameter specs and spaces: validation, conditions, activity, the grid, key checks."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from sweeper.errors import InputError
from sweeper.space import (
    DATASET_KNOBS,
    CategoricalParam,
    Condition,
    FieldError,
    FixedParam,
    FloatParam,
    IntParam,
    Space,
    check_keys,
    space_from_dict,
)


def _reference_keys() -> set[str]:
    # Derived here, in the test: sweeper.space must not import the trainer.
    from sweeper.trainers.reference import config as ref

    sections = {"train": ref.TrainConfig, "data": ref.DataConfig, "model": ref.ModelConfig}
    return {f"{s}.{f.name}" for s, cls in sections.items() for f in dataclasses.fields(cls)}


@pytest.mark.parametrize(
    ("make", "key", "fragment"),
    [
        (lambda: FloatParam(1.0, 1.0), ("low",), "must be < high"),
        (lambda: FloatParam(0.0, 1.0, log=True), ("low",), "must be > 0 with log"),
        (lambda: FloatParam(0.0, 1.0, step=0.3), ("step",), "divide high - low"),
        (lambda: FloatParam(1e-3, 1.0, log=True, step=0.1), ("step",), "cannot be used with log"),
        (lambda: FloatParam("a", 1.0), ("low",), "must be a number"),
        (lambda: IntParam(1, 4.0), ("high",), "must be an integer for type int"),
        (lambda: IntParam(1, 4, step=2), ("step",), "divide high - low = 3"),
        (lambda: IntParam(1, 5, log=True, step=2), ("step",), "must be 1 with log"),
        (lambda: IntParam(True, 4), ("low",), "must be a whole number"),
        (lambda: CategoricalParam(()), ("choices",), "non-empty"),
        (lambda: CategoricalParam((1, 1.0)), ("choices", 1), "listed twice"),
        (lambda: CategoricalParam(({"a": 1},)), ("choices", 0), "cannot be a mapping"),
        # Optuna finds a choice by ==: true could never be suggested beside 1 (checked when
        # a sweep starts: a folder started before the check still opens).
        (lambda: CategoricalParam((1, True)).check_labels(), ("choices", 1), "same choice as 1"),
        (lambda: CategoricalParam((False, 0)).check_labels(), ("choices", 1),
         "as false to the sampler (1 is true, 0 is false)"),
        # not "Python's == holds", which it does not for a list and a string
        (lambda: CategoricalParam(([0.8, 0.99], "[0.8, 0.99]")).check_labels(), ("choices", 1),
         "same choice as [0.8, 0.99] to the sampler (it keeps a list as its JSON text)"),
    ],
)
def test_param_validation(make, key, fragment):
    with pytest.raises(FieldError) as info:
        make()
    assert info.value.key == key and fragment in str(info.value)


def test_stepped_float_values():
    assert FloatParam(0.0, 0.3, step=0.1).values() == pytest.approx((0.0, 0.1, 0.2, 0.3))
    assert FloatParam(0.1, 0.5, step=0.2).values() == (0.1, 0.3, 0.5)  # not 0.30000000000000004
    assert FloatParam(1e-3, 1.0, log=True).values() is None
    assert IntParam(2, 8, step=2).values() == (2, 4, 6, 8)


def test_list_choices_become_tuples_and_back():
    betas = CategoricalParam([[0.8, 0.99], [0.5, 0.9]])
    assert betas.choices == ((0.8, 0.99), (0.5, 0.9))
    space = Space({"train.betas": betas})
    assert space.nested({"train.betas": (0.5, 0.9)}) == {"train": {"betas": [0.5, 0.9]}}


def _conditional() -> Space:
    return space_from_dict(
        {
            "train.use_gan": {"type": "categorical", "choices": [True, False]},
            "model.disc_channel_div": {
                "type": "int",
                "low": 1,
                "high": 4,
                "when": {"train.use_gan": True},
            },
            "model.use_spectral_norm": {
                "type": "categorical",
                "choices": [True, False],
                "when": {"model.disc_channel_div": [1, 2]},
            },
            "train.betas": {"type": "categorical", "choices": [[0.8, 0.99], [0.5, 0.9]]},
            "train.eps": {"type": "fixed", "value": 1e-6, "when": {"train.betas": [0.5, 0.9]}},
            "train.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        }
    )


def test_conditional_activity():
    space = _conditional()
    base = {"train.betas": (0.8, 0.99), "train.learning_rate": 1e-3}
    off = space.active({**base, "train.use_gan": False})
    assert "model.disc_channel_div" not in off and "model.use_spectral_norm" not in off
    on = space.active({**base, "train.use_gan": True, "model.disc_channel_div": 2})
    assert {"model.disc_channel_div", "model.use_spectral_norm"} <= set(on)
    deep = space.active({**base, "train.use_gan": True, "model.disc_channel_div": 3})
    assert "model.use_spectral_norm" not in deep
    # A list that is itself a choice of its parameter is one value, not a list of values.
    assert "train.eps" in space.active({"train.betas": [0.5, 0.9]})
    assert "train.eps" not in space.active({"train.betas": (0.8, 0.99)})
    # A child of an inactive parent is inactive even if the parent's value is left over.
    stale = {"train.use_gan": False, "model.disc_channel_div": 1}
    assert not space.is_active("model.use_spectral_norm", stale)
    assert space.order.index("train.use_gan") < space.order.index("model.disc_channel_div")


def test_a_condition_on_a_stepped_float_matches_its_sampled_value():
    """A sampler's 0.1 + 0.2 is 0.30000000000000004: the 0.3 of `when` must match it (the
    load check accepted it, and the child was never set)."""
    space = space_from_dict(
        {
            "train.c_kl": {"type": "float", "low": 0.1, "high": 0.5, "step": 0.2},
            "train.init_lr_ratio": {"type": "fixed", "value": 0.5, "when": {"train.c_kl": 0.3}},
        }
    )
    assert "train.init_lr_ratio" in space.active({"train.c_kl": 0.1 + 0.2})
    assert "train.init_lr_ratio" not in space.active({"train.c_kl": 0.5})
    assert [p.get("train.init_lr_ratio") for p in space.grid()] == [None, 0.5, None]


def test_order_puts_parents_first_even_when_written_later():
    space = Space(
        {
            "train.c_kl": FloatParam(0.5, 2.0, when=(Condition("train.use_gan", False),)),
            "train.use_gan": CategoricalParam((True, False)),
        }
    )
    assert space.order == ("train.use_gan", "train.c_kl")


def test_grid_counts():
    assert len(Space({"a.x": IntParam(1, 3), "a.y": CategoricalParam(("p", "q"))}).grid()) == 6
    grid = Space(
        {
            "train.use_gan": CategoricalParam((True, False)),
            "model.disc_channel_div": IntParam(1, 4, when=(Condition("train.use_gan", True),)),
            "train.c_kl": FloatParam(0.5, 1.5, step=0.5),
            "train.seed": FixedParam(7),
        }
    ).grid()
    # use_gan true: 4 x 3 points; false: 1 x 3 (disc_channel_div inactive, left out).
    assert len(grid) == 15
    assert {"train.use_gan": False, "train.c_kl": 0.5, "train.seed": 7} in grid
    assert all(p["train.use_gan"] == ("model.disc_channel_div" in p) for p in grid)


def test_grid_needs_steps_and_a_cap():
    with pytest.raises(FieldError, match="continuous float"):
        Space({"train.c_kl": FloatParam(0.5, 2.0)}).grid()
    with pytest.raises(InputError, match="more than 10 points"):
        Space({"a.x": IntParam(1, 4), "a.y": IntParam(1, 4)}).grid(max_points=10)


def test_grid_counts_a_wide_int_range_without_listing_it():
    """train.seed 0..10**9 under grid was listed value by value: all memory, then killed."""
    with pytest.raises(FieldError, match="has more than 10 values, too many for the grid"):
        Space({"a.x": IntParam(0, 50)}).grid(max_points=10)
    with pytest.raises(FieldError, match="larger step"):
        Space({"train.seed": IntParam(0, 10**12)}).grid()


@pytest.mark.parametrize(
    ("params", "key", "fragment"),
    [
        ({"lr": FloatParam(1e-4, 1e-2)}, ("lr",), "not a dotted config key"),
        (
            {"a.x": IntParam(1, 2, when=(Condition("a.nope", 1),))},
            ("a.x", "when", "a.nope"),
            "names no parameter",
        ),
        (
            {"a.x": IntParam(1, 2, when=(Condition("a.x", 1),))},
            ("a.x", "when", "a.x"),
            "the parameter itself",
        ),
        (
            {"a.f": FloatParam(0, 1), "a.x": IntParam(1, 2, when=(Condition("a.f", 0.5),))},
            ("a.x", "when", "a.f"),
            "continuous float",
        ),
        (
            {
                "a.c": CategoricalParam(("p", "q")),
                "a.x": IntParam(1, 2, when=(Condition("a.c", "r"),)),
            },
            ("a.x", "when", "a.c"),
            "never takes",
        ),
        (
            {
                "a.x": IntParam(1, 2, when=(Condition("a.y", 1),)),
                "a.y": IntParam(1, 2, when=(Condition("a.x", 1),)),
            },
            ("a.x", "when"),
            "cycle",
        ),
    ],
)
def test_space_validation(params, key, fragment):
    with pytest.raises(FieldError) as info:
        Space(params)
    assert info.value.key == key and fragment in str(info.value)


def test_space_from_dict_keys_errors_by_parameter():
    with pytest.raises(FieldError) as info:
        space_from_dict({"train.c_kl": {"type": "float", "low": 1.0}})
    assert info.value.key == ("train.c_kl", "high") and "is required" in str(info.value)
    with pytest.raises(FieldError, match="must name the kind"):
        space_from_dict({"train.c_kl": {"type": "uniform", "low": 0, "high": 1}})
    with pytest.raises(FieldError, match="declares no parameter"):
        space_from_dict({})


def test_check_keys_against_the_reference_trainer():
    known = _reference_keys() | set(DATASET_KNOBS)
    good = space_from_dict(
        {
            "train.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2},
            "dataset.train_clips": {"type": "categorical", "choices": [1, 28]},
        }
    )
    check_keys(good, known)
    bad = space_from_dict(
        {"train.learning_rat": {"type": "float", "low": 1e-4, "high": 1e-2}},
        lines={"train.learning_rat": "quick.yaml:31"},
    )
    with pytest.raises(InputError) as info:
        check_keys(bad, known)
    message = str(info.value)
    assert message.startswith("quick.yaml:31: parameters[train.learning_rat] is not a key")
    assert "did you mean 'train.learning_rate'" in message and "\n" not in message
    unrelated = space_from_dict({"optim.zzz": {"type": "fixed", "value": 1}})
    with pytest.raises(InputError, match=r"^parameters: .*fix: rename or remove it"):
        check_keys(unrelated, known)


def test_shipped_spaces_use_reference_keys():
    from pathlib import Path

    from sweeper.config import load_sweep

    root = Path(__file__).resolve().parents[2] / "search_spaces"
    known = _reference_keys() | set(DATASET_KNOBS)
    for name in ("quick.yaml", "sovits-4.1.yaml"):
        check_keys(load_sweep(root / name).parameters, known)


def test_space_pickles():
    space = _conditional()
    again = pickle.loads(pickle.dumps(space))
    assert again == space and again.order == space.order
    assert again.active({"train.use_gan": True}) == space.active({"train.use_gan": True})


def test_searched_keys_are_the_sampled_ones_in_file_order():
    space = Space(
        {
            "train.learning_rate": FloatParam(1e-4, 1e-2, log=True),
            "train.c_kl": FixedParam(1.0),
            "train.batch_size": CategoricalParam((2, 4)),
        }
    )
    assert space.searched == ("train.learning_rate", "train.batch_size")


def test_a_when_error_lists_values_as_the_file_writes_them():
    raw = {
        "train.use_gan": {"type": "fixed", "value": True},
        "train.c_kl": {"type": "fixed", "value": 1.0, "when": {"train.use_gan": False}},
    }
    with pytest.raises(FieldError) as info:
        space_from_dict(raw)
    assert "(it takes true)" in str(info.value)  # not Python's True
