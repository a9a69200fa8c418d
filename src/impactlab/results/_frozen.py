"""How a frozen result keeps its numbers: :func:`freeze_fields`, which every result calls from
``__post_init__``, makes its arrays read-only views and stores its DataFrame and Series fields privately,
handing out a copy-on-write copy of them on every read; :func:`freeze`, :func:`freeze_array` and
:func:`restore_frozen` are the pieces other modules use for members set later and for unpickling.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import FrozenResultError
from impactlab.panel.panel import copy_on_write

__all__ = ["freeze", "freeze_array", "freeze_fields", "restore_frozen"]


class _Member:
    """One field of a frozen result: stored in the instance ``__dict__``, read through :func:`_read`.

    A frozen dataclass refuses ``result.elements = other`` but not ``result.elements.loc[0, "estimate"] = 5``
    or ``result.influence[:] = 0``, which would silently change the numbers a deck or a later aggregation
    reads. Arrays are therefore read-only views (``flags.writeable`` off on a view: no copy, the caller's
    array left writable), and a table is handed out as ``table.copy(deep=False)``: with copy-on-write
    (always on in pandas 3) that copy shares the stored data, and any edit of it (``.loc`` assignment, a new
    column, ``inplace=True``, new axis names) copies first and never reaches the stored frame; its numpy
    arrays (``.to_numpy()``, ``.values``) come out read-only. The user gets an ordinary pandas object to
    edit, plot, pickle, compare or render (``to_latex``, Styler) like any other.

    Why not the alternatives: read-only numpy blocks leak into every frame pandas derives from the table
    (``reset_index()`` or a column selection shares them), which the user then cannot edit; a DataFrame
    subclass that refuses edits has to know every in-place entry point of pandas (indexers, ``inplace=``,
    axis setters, Styler's own relabelling), breaks with the next pandas release, and makes a result's tables
    differ in type from plain frames.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            value = obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None
        return _read(value)

    def __set__(self, obj: Any, value: Any) -> None:
        # reached only through object.__setattr__ (construction, members built lazily): a plain
        # assignment is refused by the class's __setattr__ first (see _guard)
        obj.__dict__[self.name] = freeze(value)


def _read(value: Any) -> Any:
    """What reading a stored member hands out: a copy-on-write copy of a table (a deep copy where pandas
    does not copy on write: pandas 2.x without its option), anything else as it is."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy(deep=not copy_on_write())
    return value


def freeze_array(a: np.ndarray) -> np.ndarray:
    """``a`` as a read-only array: itself when already read-only, else a read-only view (never a copy)."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def freeze(value: Any) -> Any:
    """The form in which a result stores a member: arrays as read-only views, DataFrames and Series as a
    copy-on-write copy (no data copied; a later edit of the caller's object does not reach it), anything
    else unchanged."""
    if isinstance(value, np.ndarray):
        return freeze_array(value)
    return _read(value)


def _rebuild(cls: type, state: dict[str, Any]) -> Any:
    """Unpickle a frozen result (in any process, whether or not one was built there before): the class's
    own ``__setstate__`` (which calls :func:`restore_frozen`), else :func:`restore_frozen`."""
    obj: Any = object.__new__(cls)
    setstate = getattr(obj, "__setstate__", None)
    if setstate is None:
        restore_frozen(obj, state)
    else:
        setstate(state)
    return obj


def _reduce(self: Any) -> tuple[Any, ...]:
    return (_rebuild, (type(self), self.__getstate__()))


def _refuse(self: Any, name: str, *value: Any) -> None:
    raise FrozenResultError(f"Cannot set or delete .{name}: impactlab results never change after they are "
                            "built. Run the estimator again with other arguments, or edit a copy of a table "
                            "(reading result.<table> gives one).")


def _guard(cls: type) -> None:
    """Read every dataclass field of ``cls`` through :class:`_Member`, pickle it through :func:`_rebuild`
    and refuse assignment with :class:`~impactlab.errors.FrozenResultError` (a ``FrozenInstanceError``).

    Done once per class, from the first :func:`freeze_fields`: a class attribute set after ``@dataclass``
    has run leaves the generated ``__init__`` (and its defaults) as they are; ``__init__`` sets fields with
    ``object.__setattr__``, which the refusal does not reach.
    """
    if cls.__dict__.get("_frozen_members", False):
        return
    for f in dataclasses.fields(cls):
        setattr(cls, f.name, _Member(f.name))
    cls.__setattr__ = _refuse  # type: ignore[method-assign,assignment]
    cls.__delattr__ = _refuse  # type: ignore[method-assign,assignment]
    if not any("__reduce__" in k.__dict__ or "__reduce_ex__" in k.__dict__ for k in cls.__mro__[:-1]):
        cls.__reduce__ = _reduce  # type: ignore[method-assign,assignment]
    cls._frozen_members = True  # type: ignore[attr-defined]


def freeze_fields(obj: Any) -> None:
    """Freeze every field of the frozen dataclass ``obj``, from its ``__post_init__``: arrays become
    read-only views and tables are stored privately, read as copy-on-write copies. No data are copied."""
    _guard(type(obj))
    for f in dataclasses.fields(obj):
        if f.name in obj.__dict__:
            obj.__dict__[f.name] = freeze(obj.__dict__[f.name])


def restore_frozen(obj: Any, state: dict[str, Any]) -> None:
    """``__setstate__`` of a frozen result: numpy arrays come back from pickle writable, so freeze again."""
    obj.__dict__.update(state)
    freeze_fields(obj)
