"""A read-only view of an Optuna storage, for ``sweeper dashboard``.

optuna-dashboard writes through the storage it is given: its "Delete study" button, a trial's
state set to COMPLETE or FAIL by hand, renames, notes, user attributes. Over a sweep's live
study one click deleted the sweep for every sweeper command, or finished a trial that a
running driver still trains. :class:`ReadOnlyStorage` passes every read to the real storage
(so the page shows the live study) and refuses every write before it reaches the storage.

The methods are generated from :class:`optuna.storages.BaseStorage`: a ``get_*`` or
``check_*`` method reads; every other public method (``create_*``, ``delete_*``, ``set_*``,
and any method a newer Optuna adds under another name) raises :class:`ReadOnlyStorageError`.
Attributes of the real storage that are not BaseStorage methods (a journal's backend, a
database engine) are not reachable through the view.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable
from typing import Any

from optuna.storages import BaseStorage
from optuna.study._frozen import FrozenStudy

READ_PREFIXES = ("get_", "check_")
HARMLESS = frozenset({"remove_session"})  # closes database connections; writes nothing


class ReadOnlyStorageError(PermissionError):
    """A write through the dashboard's read-only storage."""


def _is_read(name: str) -> bool:
    return name.startswith(READ_PREFIXES) or name in HARMLESS


def _reader(name: str) -> Callable[..., Any]:
    def read(self: ReadOnlyStorage, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._storage, name)(*args, **kwargs)

    read.__name__ = read.__qualname__ = name
    read.__doc__ = f"The real storage's ``{name}``."
    return read


def _refuser(name: str) -> Callable[..., Any]:
    def refuse(self: ReadOnlyStorage, *args: Any, **kwargs: Any) -> Any:
        raise ReadOnlyStorageError(
            f"{name}: sweeper dashboard shows the study read-only; it cannot change the sweep"
        )

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = f"Refused: ``{name}`` would change the study."
    return refuse


def storage_methods() -> list[str]:
    """Every public method of Optuna's BaseStorage (the abstract ones included)."""
    names = {n for n, _ in inspect.getmembers(BaseStorage, inspect.isfunction)}
    names |= set(BaseStorage.__abstractmethods__)
    return sorted(n for n in names if not n.startswith("_"))


class ReadOnlyStorage(BaseStorage):
    """Reads go to ``storage``; writes raise :class:`ReadOnlyStorageError`."""

    def __init__(self, storage: BaseStorage) -> None:
        self._storage = storage

    def __repr__(self) -> str:
        return f"ReadOnlyStorage({self._storage!r})"

    def get_all_studies(self) -> list[FrozenStudy]:
        # optuna-dashboard sorts a database's studies itself only for an RDBStorage
        return sorted(self._storage.get_all_studies(), key=lambda s: s._study_id)


for _name in storage_methods():
    if _name not in ReadOnlyStorage.__dict__:
        setattr(ReadOnlyStorage, _name, (_reader if _is_read(_name) else _refuser)(_name))
abc.update_abstractmethods(ReadOnlyStorage)
del _name
