"""A design :func:`impactlab.evaluate` suggests for the data it saw (:attr:`Evaluation.suggestions`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Suggestion"]


@dataclass(frozen=True)
class Suggestion:
    """A design that suits the data better than (or besides) the evaluation's own estimate.

    Attributes
    ----------
    function : str
        The impactlab function suggested: ``"synthetic_did"``, ``"dose_response"`` or ``"portfolio"``.
    reason : str
        What in the data calls for it, in numbers from the data, in plain words.
    call : str
        The exact call that runs it on the same panel (or tables), for a notebook.
    evidence : str
        What the design gave on simulated organisations with a known truth (docs/validation.md), in
        plain words.
    """

    function: str
    reason: str
    call: str
    evidence: str

    def __str__(self) -> str:
        return f"{self.reason} {self.evidence} Run: {self.call}"
