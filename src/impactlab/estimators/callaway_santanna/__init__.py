"""Callaway & Sant'Anna (2021) group-time average treatment effects: :func:`callaway_santanna` and its
result, :class:`CallawaySantAnnaResult`."""

from impactlab.estimators.callaway_santanna.api import callaway_santanna
from impactlab.estimators.callaway_santanna.result import AggregateKind, CallawaySantAnnaResult

__all__ = ["AggregateKind", "CallawaySantAnnaResult", "callaway_santanna"]
