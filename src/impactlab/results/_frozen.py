"""Read-only members of frozen results: arrays, tables and series that cannot be edited in place.

A frozen dataclass stops ``result.elements = other``, but not ``result.elements.loc[0, "estimate"] = 5`` or
``result.influence[:] = 0``, which would silently change numbers that a deck or a later aggregation reads.
Results therefore hold

* numpy arrays as read-only views (``flags.writeable`` off on a view: no copy, however large the array,
  and the caller's own array is left as it was);
* DataFrames and Series as :class:`FrozenFrame` / :class:`FrozenSeries`: the same data (no copy; pandas'
  copy-on-write keeps it apart from any frame derived from it), with every in-place edit (``df[c] = ...``,
  ``.loc``/``.iloc``/``.at``/``.iat`` assignment, ``insert``, ``pop``, ``del``, ``inplace=True`` methods,
  augmented assignment, renaming the axes) refused with :class:`~impactlab.errors.FrozenResultError`.
  Anything derived from them (``.copy()``, a selection, ``reset_index()``, ``assign()``...) is an ordinary,
  editable pandas object.

Why the tables are guarded at the pandas API rather than by read-only numpy blocks: with copy-on-write
(always on since pandas 3) a frame derived from one with read-only blocks shares them, and once the parent
is gone pandas writes into the shared block in place and fails with "assignment destination is
read-only" -- so ``result.elements.reset_index()`` would become un-editable for the user. The API guard
keeps the result unchanged without that trap.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from impactlab.errors import FrozenResultError

__all__ = ["FrozenFrame", "FrozenSeries", "freeze", "freeze_array", "freeze_fields", "restore_frozen"]

_HOW = ("Results are frozen so that a table or chart built from them cannot drift from the estimate. "
        "Work on a copy instead: df = result.<table>.copy() (arrays: arr = result.<array>.copy()).")


def _refuse(obj: object, what: str) -> NoReturn:
    kind = "table (DataFrame)" if isinstance(obj, pd.DataFrame) else "series"
    raise FrozenResultError(f"Cannot {what}: this {kind} belongs to a frozen impactlab result and is "
                            f"read-only. {_HOW}")


class _ReadOnlyIndexer:
    """``.loc``, ``.iloc``, ``.at``, ``.iat`` of a frozen table: reads pass through, assignment is refused."""

    __slots__ = ("_indexer", "_name", "_owner")

    def __init__(self, indexer: Any, name: str, owner: object) -> None:
        self._indexer = indexer
        self._name = name
        self._owner = owner

    def __getitem__(self, key: Any) -> Any:
        return self._indexer[key]

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        _refuse(self._owner, f"assign through .{self._name}[{key!r}]")

    def __call__(self, axis: Any = None) -> _ReadOnlyIndexer:
        return _ReadOnlyIndexer(self._indexer(axis), self._name, self._owner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._indexer, name)


class _Guard:
    """The in-place entry points shared by :class:`FrozenFrame` and :class:`FrozenSeries`."""

    __slots__ = ()

    @property
    def loc(self) -> Any:
        return _ReadOnlyIndexer(super().loc, "loc", self)  # type: ignore[misc]

    @property
    def iloc(self) -> Any:
        return _ReadOnlyIndexer(super().iloc, "iloc", self)  # type: ignore[misc]

    @property
    def at(self) -> Any:
        return _ReadOnlyIndexer(super().at, "at", self)  # type: ignore[misc]

    @property
    def iat(self) -> Any:
        return _ReadOnlyIndexer(super().iat, "iat", self)  # type: ignore[misc]

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        _refuse(self, f"set [{key!r}]")

    def __delitem__(self, key: Any) -> NoReturn:
        _refuse(self, f"delete [{key!r}]")

    def __setattr__(self, name: str, value: Any) -> None:
        # pandas sets only private attributes on a built object; public ones are axes, names and columns
        if not name.startswith("_") and self.__dict__.get("_impactlab_sealed", False):
            _refuse(self, f"set .{name}")
        super().__setattr__(name, value)

    def _update_inplace(self, result: Any) -> NoReturn:
        _refuse(self, "modify it in place (inplace=True, +=, update...)")

    def pop(self, item: Any, *args: Any) -> NoReturn:
        _refuse(self, f"pop {item!r}")

    def __reduce__(self) -> Any:
        # a frozen member stays frozen through pickle (multiprocessing, joblib caches)
        return (freeze, (_plain(self),))  # type: ignore[arg-type]

    def __deepcopy__(self, memo: Any = None) -> Any:
        return freeze(_plain(self).copy(deep=True))  # type: ignore[arg-type]


def _no_inplace(cls: type, base: type) -> type:
    """Give ``cls`` a refusing wrapper of every public method of ``base`` that takes ``inplace``.

    pandas may write into the blocks before it reaches ``_update_inplace`` (``fillna(inplace=True)`` does),
    so the call is refused up front; the methods are found from their signatures, so new ones are covered.
    """
    for name in dir(base):
        member = getattr(base, name, None)
        if name.startswith("_") or not inspect.isfunction(member) or name in vars(cls):
            continue
        try:
            sig = inspect.signature(member)
        except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
            continue
        if "inplace" not in sig.parameters:
            continue

        def method(self: Any, *args: Any, __name: str = name, __sig: Any = sig, **kwargs: Any) -> Any:
            try:
                inplace = __sig.bind(self, *args, **kwargs).arguments.get("inplace", False)
            except TypeError:
                inplace = kwargs.get("inplace", False)
            if inplace:
                _refuse(self, f"call .{__name}(inplace=True)")
            return getattr(base, __name)(self, *args, **kwargs)

        method.__name__ = method.__qualname__ = name
        method.__doc__ = member.__doc__
        setattr(cls, name, method)
    return cls


class FrozenFrame(_Guard, pd.DataFrame):  # type: ignore[misc]
    """A DataFrame held by a frozen result: readable as any frame, never edited in place.

    Operations return ordinary DataFrames (``.copy()`` gives an editable one); see the module notes.
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def insert(self, loc: Any, column: Any, value: Any, allow_duplicates: Any = False) -> NoReturn:
        _refuse(self, f"insert column {column!r}")

    def isetitem(self, loc: Any, value: Any) -> NoReturn:
        _refuse(self, f"set column {loc!r}")

    def update(self, other: Any, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self, "update it")

    # pandas' Styler relabels its frame for a moment while it renders (``to_latex``), and ``compare`` needs
    # both frames of one type: both work on an ordinary frame over the same data (no copy)
    @property
    def style(self) -> Any:
        return _plain(self).style

    def to_latex(self, *args: Any, **kwargs: Any) -> Any:
        return _plain(self).to_latex(*args, **kwargs)

    def compare(self, other: Any, *args: Any, **kwargs: Any) -> pd.DataFrame:
        other = _plain(other) if isinstance(other, (pd.DataFrame, pd.Series)) else other
        return _plain(self).compare(other, *args, **kwargs)


class FrozenSeries(_Guard, pd.Series):  # type: ignore[misc]
    """A Series held by a frozen result: readable as any series, never edited in place."""

    @property
    def _constructor(self) -> type[pd.Series]:
        return pd.Series

    @property
    def _constructor_expanddim(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def update(self, other: Any) -> NoReturn:
        _refuse(self, "update it")

    def compare(self, other: Any, *args: Any, **kwargs: Any) -> pd.DataFrame:
        other = _plain(other) if isinstance(other, (pd.DataFrame, pd.Series)) else other
        return _plain(self).compare(other, *args, **kwargs)


_no_inplace(FrozenFrame, pd.DataFrame)
_no_inplace(FrozenSeries, pd.Series)


def _plain(obj: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """The same data as an ordinary pandas object (copy-on-write shallow copy, no data copied)."""
    return pd.DataFrame(obj) if isinstance(obj, pd.DataFrame) else pd.Series(obj)


def freeze_array(a: np.ndarray) -> np.ndarray:
    """``a`` as a read-only array: itself when already read-only, else a read-only view (never a copy)."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def freeze(value: Any) -> Any:
    """The read-only form of one member of a result (arrays, frames, series); anything else unchanged."""
    if isinstance(value, np.ndarray):
        return freeze_array(value)
    if isinstance(value, (FrozenFrame, FrozenSeries)):
        return value
    if isinstance(value, pd.DataFrame):
        out: Any = FrozenFrame(value)
    elif isinstance(value, pd.Series):
        out = FrozenSeries(value)
    else:
        return value
    # a hidden sibling sharing the blocks: copy-on-write then copies before any write that slips through
    object.__setattr__(out, "_impactlab_pin", _plain(out))
    object.__setattr__(out, "_impactlab_sealed", True)
    return out


def restore_frozen(obj: Any, state: dict[str, Any]) -> None:
    """``__setstate__`` of a frozen result: numpy arrays come back from pickle writable, so freeze again."""
    obj.__dict__.update(state)
    freeze_fields(obj)


def freeze_fields(obj: Any) -> None:
    """Replace every array, DataFrame and Series field of the frozen dataclass ``obj`` by its read-only
    form (:func:`freeze`); called from ``__post_init__``. No data are copied."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        frozen = freeze(value)
        if frozen is not value:
            object.__setattr__(obj, f.name, frozen)
