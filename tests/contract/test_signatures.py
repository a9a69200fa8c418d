"""One vocabulary: every public argument name has one meaning, written in docs/reference/vocabulary.md.

The test reads the signature of every public function, public class constructor and public method
(``impactlab.__all__`` and the ``__all__`` of each public subpackage) and checks it against the table of
docs/reference/vocabulary.md, so the table and the code cannot drift apart:

* every parameter name has a row in the table;
* every type a parameter is annotated with is one the row lists (a ``Literal`` must use values the row
  lists, unless the row allows any ``str`` and lists no values);
* the names the shared vocabulary fixes keep their one meaning whatever the table says (``control`` is a
  comparison group, ``weights`` a sampling-weight column, ``n_draws`` an integer, ...);
* no public signature has a leading-underscore parameter.
"""

from __future__ import annotations

import builtins
import collections.abc as cabc
import importlib
import inspect
import os
import re
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import impactlab

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY = ROOT / "docs" / "reference" / "vocabulary.md"
MODULES = ("impactlab", "impactlab.io", "impactlab.panel", "impactlab.estimators", "impactlab.results",
           "impactlab.roi", "impactlab.kirkpatrick", "impactlab.plot", "impactlab.deck", "impactlab.datasets")

#: The comparison groups an estimator may offer: the only values of ``control``.
COMPARISON_GROUPS = {"never_treated", "not_yet_treated", "last_treated"}
#: Bootstrap weight distributions: the only values of ``multiplier``.
MULTIPLIERS = {"rademacher", "webb", "mammen"}


# ------------------------------------------------------------------------------- the public signatures
def _public_modules() -> list[Any]:
    names = list(MODULES)
    names += [f"impactlab.{n}" for n in impactlab.__all__
              if isinstance(getattr(impactlab, n, None), types.ModuleType)]
    return [importlib.import_module(n) for n in dict.fromkeys(names)]


def _own(obj: Any) -> bool:
    return (getattr(obj, "__module__", "") or "").startswith("impactlab")


def _callables() -> Iterator[tuple[str, Callable[..., Any]]]:
    """(where, callable) for every public function, class constructor and public method."""
    seen: set[int] = set()
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or id(obj) in seen or not callable(obj) or not _own(obj):
                continue
            seen.add(id(obj))
            if not inspect.isclass(obj):
                yield f"{obj.__module__}.{obj.__qualname__}", obj
                continue
            if not getattr(obj, "_is_protocol", False):  # a Protocol has no constructor of its own
                yield f"{obj.__module__}.{obj.__qualname__}()", obj
            if issubclass(obj, BaseException):
                continue
            for attr, value in inspect.getmembers(obj):
                if attr.startswith("_"):
                    continue
                raw = inspect.getattr_static(obj, attr)
                func = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
                if inspect.isfunction(func) and _own(func):
                    yield f"{obj.__module__}.{obj.__qualname__}.{attr}", value


class _Unresolved(dict[str, Any]):
    """Names an annotation string uses that its module does not bind at run time (``TYPE_CHECKING``
    imports): a stand-in class with that name, so the annotation still evaluates."""

    def __missing__(self, key: str) -> Any:
        if hasattr(builtins, key):
            return getattr(builtins, key)
        value = type(key, (), {})
        self[key] = value
        return value


def _annotation(func: Callable[..., Any], param: inspect.Parameter) -> Any:
    ann = param.annotation
    if not isinstance(ann, str):
        return ann
    target = inspect.unwrap(func.__init__ if inspect.isclass(func) else func)  # type: ignore[misc]
    namespace = _Unresolved(vars(inspect.getmodule(target) or impactlab))
    namespace.update(vars(typing))
    namespace.update({"pd": pd, "np": np, "os": os, "Path": Path})
    namespace.update({k: getattr(cabc, k) for k in cabc.__all__})
    try:
        return eval(ann, {}, namespace)  # noqa: S307 - annotation strings of our own code
    except Exception:  # noqa: BLE001 - an annotation we cannot evaluate is checked by its text
        return ann


def _parameters() -> list[tuple[str, inspect.Parameter, Any]]:
    out = []
    for where, func in _callables():
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            continue
        for p in sig.parameters.values():
            if p.name in ("self", "cls"):
                continue
            out.append((where, p, _annotation(func, p)))
    return out


PARAMETERS = _parameters()


# ------------------------------------------------------------------------------- annotations as tokens
_SEQUENCES = (list, tuple, cabc.Sequence, cabc.Iterable, cabc.Collection, set, frozenset)
_MAPPINGS = (dict, cabc.Mapping, cabc.MutableMapping)


def tokens(ann: Any) -> set[str]:
    """The vocabulary's type tokens of an annotation (``Any`` or none: the empty set, which fits all)."""
    if ann is inspect.Parameter.empty or ann is Any or ann is None or ann is type(None):
        return set()
    if isinstance(ann, str):
        return {ann}
    origin = typing.get_origin(ann)
    if origin is typing.Literal:
        return {f'"{v}"' if isinstance(v, str) else repr(v) for v in typing.get_args(ann)}
    if origin in (typing.Union, types.UnionType):
        return set().union(*(tokens(a) for a in typing.get_args(ann)))
    base = origin or ann
    if base is bool:
        return {"bool"}
    if base is int:
        return {"int"}
    if base is float:
        return {"float"}
    if base is str:
        return {"str"}
    if base in (Path, os.PathLike):
        return {"path"}
    if base in (cabc.Callable, Callable):
        return {"callable"}
    if base in _MAPPINGS:
        return {"mapping"}
    if base in _SEQUENCES:
        return {"sequence"}
    if base is pd.DataFrame:
        return {"DataFrame"}
    if base is pd.Series:
        return {"Series"}
    if base is np.ndarray:
        return {"ndarray"}
    return {getattr(base, "__name__", str(base))}


def fits(used: set[str], allowed: set[str]) -> set[str]:
    """The tokens of ``used`` that ``allowed`` does not admit."""
    values = {t for t in allowed if t.startswith('"')}
    bad = set()
    for t in used:
        if t in allowed:
            continue
        if t.startswith('"') and "str" in allowed and not values:
            continue  # any string value
        if t == "int" and "float" in allowed:
            continue  # an integer is a number
        bad.add(t)
    return bad


# ------------------------------------------------------------------------------- the vocabulary table
def read_vocabulary(path: Path = VOCABULARY) -> dict[str, set[str]]:
    """Parameter name -> the type tokens its row allows (backticked items of the type/values column)."""
    rows: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 4 or set(cells[0]) <= {"-", ":", " "}:
            continue
        names = re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[0])
        allowed = set(re.findall(r"`([^`]+)`", cells[2]))
        for name in names:
            assert name not in rows, f"vocabulary.md: {name!r} has two rows"
            rows[name] = allowed
    return rows


def test_the_vocabulary_table_parses() -> None:
    rows = read_vocabulary()
    assert len(rows) > 100
    assert rows["control"] == {f'"{g}"' for g in COMPARISON_GROUPS}
    assert rows["weights"] == {"str"}


def test_every_parameter_name_is_in_the_vocabulary() -> None:
    rows = read_vocabulary()
    missing: dict[str, list[str]] = {}
    for where, p, _ in PARAMETERS:
        if p.name not in rows and not p.name.startswith("_"):  # private names: the last test
            missing.setdefault(p.name, []).append(where)
    assert not missing, ("parameter names without a row in docs/reference/vocabulary.md (add the row, or "
                         "use the name the table already has for that meaning):\n"
                         + "\n".join(f"  {n}: {', '.join(w)}" for n, w in sorted(missing.items())))


def test_every_parameter_has_a_type_its_row_allows() -> None:
    rows = read_vocabulary()
    bad = []
    for where, p, ann in PARAMETERS:
        if p.name not in rows:
            continue  # reported by the test above
        extra = fits(tokens(ann), rows[p.name])
        if extra:
            bad.append(f"  {where}({p.name}: {sorted(extra)}) - the row allows {sorted(rows[p.name])}")
    assert not bad, ("parameters used with a type or values their vocabulary row does not list (a second "
                     "meaning: rename the parameter, or widen the row only if the meaning is the same):\n"
                     + "\n".join(bad))


def _is_int(ann: Any) -> bool:
    return bool(tokens(ann)) and tokens(ann) <= {"int"}


def _is_column(ann: Any) -> bool:
    return tokens(ann) == {"str"}


#: The names the shared vocabulary fixes, and the one meaning each keeps (a check on the annotation).
FIXED: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "control": ("a comparison group: a str Literal of never_treated / not_yet_treated / last_treated",
                lambda a: bool(tokens(a)) and tokens(a) <= {f'"{g}"' for g in COMPARISON_GROUPS}),
    "weights": ("a sampling-weight column: a column name (str)", _is_column),
    "n_draws": ("the number of random draws: an int", _is_int),
    "n_control": ("the number of comparison units: an int", _is_int),
    "multiplier": ("the bootstrap weight distribution: a str Literal",
                   lambda a: bool(tokens(a)) and tokens(a) <= {f'"{m}"' for m in MULTIPLIERS}),
    "seed": ("the seed of the random draws: an int", _is_int),
    "level": ("the confidence level: a float", lambda a: tokens(a) == {"float"}),
    "unit": ("the unit column: its name (str)", _is_column),
    "time": ("the time column: its name (str)", _is_column),
    "outcome": ("the outcome column: its name (str)", _is_column),
    "cohort": ("the cohort column: its name (str)", _is_column),
    "window": ("event times (lo, hi): a pair of ints", lambda a: tokens(a) <= {"sequence"}),
}


def test_the_fixed_names_keep_their_one_meaning() -> None:
    bad = []
    for where, p, ann in PARAMETERS:
        rule = FIXED.get(p.name)
        if rule is not None and not rule[1](ann):
            bad.append(f"  {where}({p.name}: {p.annotation}) - {p.name} is {rule[0]}")
        elif p.name.startswith("n_") and tokens(ann) and not tokens(ann) <= {"int"}:
            bad.append(f"  {where}({p.name}: {p.annotation}) - n_* names are counts (int)")
    assert not bad, "names of the shared vocabulary used with another meaning:\n" + "\n".join(bad)


def test_no_public_signature_has_a_private_parameter() -> None:
    bad = [f"  {where}({p.name})" for where, p, _ in PARAMETERS if p.name.startswith("_")]
    assert not bad, ("leading-underscore parameters in public signatures (move them to a private inner "
                     "function, or out of the constructor):\n" + "\n".join(bad))


def test_the_checks_see_what_they_should() -> None:
    where = {w for w, _, _ in PARAMETERS}
    assert {"impactlab.estimators.sun_abraham.sun_abraham", "impactlab.roi.core.roi",
            "impactlab.panel.panel.Panel.from_frame", "impactlab.deck.pptx.Deck.add"} <= where
    assert tokens(typing.Literal["a", "b"] | None) == {'"a"', '"b"'}
    assert tokens(typing.Sequence[str] | None) == {"sequence"}
    assert fits({"int"}, {"float"}) == set() and fits({"int"}, {'"never_treated"'}) == {"int"}
    assert fits({'"webb"'}, {"str"}) == set() and fits({'"webb"'}, {"str", '"rademacher"'}) == {'"webb"'}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_the_fixed_names_have_a_row(name: str) -> None:
    assert name in read_vocabulary()
