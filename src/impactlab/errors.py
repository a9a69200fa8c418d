"""Exceptions and warnings raised by impactlab.

One root, :class:`ImpactlabError`; the data about a failure lives on attributes so that code can act on
it and people can read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import FrozenInstanceError, dataclass
from typing import Any


class ImpactlabError(Exception):
    """Root of every error raised on purpose by impactlab."""


@dataclass(frozen=True)
class Failure:
    """One problem found in an input table.

    Attributes
    ----------
    row:
        1-based line of the input file (or index label of the input frame); ``None`` for table-level problems.
    column:
        Column concerned, or ``None``.
    value:
        The value seen (as read).
    reason:
        What is wrong and what is allowed.
    check:
        Short code of the check that failed (``"date"``, ``"status"``, ``"duplicate"``, a pandera check
        name...), or ``None``.
    """

    row: Any
    column: str | None
    value: Any
    reason: str
    check: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        loc = ", ".join(where) if where else "table"
        seen = "" if self.value is None else f": saw {self.value!r}"
        return f"{loc}{seen}: {self.reason}"


class DataError(ImpactlabError, ValueError):
    """Input data that cannot be used as it is.

    Lists every failure of the table at once (``.failures``) with the file (``.source``), row, column,
    value seen and what is allowed.
    """

    def __init__(self, message: str, *, source: str | None = None,
                 failures: Sequence[Failure] | None = None, hint: str | None = None) -> None:
        self.source = source
        self.failures: tuple[Failure, ...] = tuple(failures or ())
        self.hint = hint
        lines = [message if source is None else f"{source}: {message}"]
        shown = self.failures[:50]
        lines += [f"  - {f}" for f in shown]
        if len(self.failures) > len(shown):
            lines.append(f"  ... and {len(self.failures) - len(shown)} more (see .failures)")
        if hint:
            lines.append(f"How to fix: {hint}")
        super().__init__("\n".join(lines))

    def failure_table(self) -> Any:
        """All failures as a pandas DataFrame with columns ``row``, ``column``, ``check``, ``value``,
        ``reason``."""
        import pandas as pd

        return pd.DataFrame(
            [(f.row, f.column, f.check, f.value, f.reason) for f in self.failures],
            columns=["row", "column", "check", "value", "reason"],
        )


class PanelError(ImpactlabError, ValueError):
    """A panel cannot be built or does not suit the analysis asked for."""


class EstimationError(ImpactlabError, RuntimeError):
    """An estimator cannot produce a result on this panel (e.g. no comparison group, singular design)."""


class FrozenResultError(ImpactlabError, FrozenInstanceError):
    """An attempt to set or delete an attribute of a result (``result.estimate = 1.0``).

    Results never change after they are built: reading a table gives a copy, which may be edited freely,
    and arrays are read-only numpy views, whose in-place edits raise numpy's own ``ValueError``. A
    :class:`dataclasses.FrozenInstanceError` too.
    """


class MissingDependencyError(ImpactlabError, ImportError):
    """An optional dependency is missing; the message names the extra that installs it."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs the optional package {package!r}, which is not installed. "
            f'Install it with: pip install "impactlab[{extra}]"'
        )


class DataQualityWarning(UserWarning):
    """Input data was usable but something in it deserves a look (duplicates, gaps, odd values)."""


class StatisticalWarning(UserWarning):
    """A statistical caveat: few clusters, small cohorts, weak overlap, a failed pre-test."""


class SecurityWarning(UserWarning):
    """A secret is about to travel unprotected (credentials sent over plain HTTP to another machine)."""


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Validate a string option against its allowed values.

    Raises ``ValueError`` naming the parameter, the allowed values and the value received.
    """
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"The {name!r} parameter must be one of {choices}. Got {value!r} instead.")
    return value


def require(package: str, extra: str, feature: str) -> Any:
    """Import an optional package or raise :class:`MissingDependencyError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(package, extra, feature) from exc
