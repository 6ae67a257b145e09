"""Search spaces: parameter specs keyed by dotted so-vits config names (pure Python).

No optuna, ray or torch here: the tune layer turns a :class:`Space` into Optuna
distributions (define-by-run, in ``Space.order``, asking ``Space.is_active``).
"""

from sweeper.space._fields import FieldError
from sweeper.space._params import (
    CategoricalParam,
    Condition,
    FixedParam,
    FloatParam,
    IntParam,
    Param,
    param_from_dict,
)
from sweeper.space._space import DATASET_KNOBS, MAX_GRID, Space, check_keys, space_from_dict

__all__ = [
    "DATASET_KNOBS",
    "MAX_GRID",
    "CategoricalParam",
    "Condition",
    "FieldError",
    "FixedParam",
    "FloatParam",
    "IntParam",
    "Param",
    "Space",
    "check_keys",
    "param_from_dict",
    "space_from_dict",
]
