"""A small staggered panel with an exact, chosen effect: the data of the estimators' examples."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from impactlab.panel import Panel

__all__ = ["example_panel"]


def example_panel(effect: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> Panel:
    """Thirty employees over six periods, trained in two waves, with no noise.

    Employees 0–9 are trained from period 3, 10–19 from period 5 and 20–29 never. The outcome is
    ``0.1 · id + 0.5 · period``, plus from training on ``effect(cohort, event_time)``. Without noise, an
    estimator that suits the design gives the effect back exactly, which makes the panel a clear example
    (and a quick check) of what each estimator measures.

    Parameters
    ----------
    effect : callable, optional
        Called with the cohort (3 or 5) and the event time (periods since training, 0 at training) of the
        trained rows as arrays; returns their effect. Default: ``1 + event_time``, an effect that grows by
        one each period.

    Returns
    -------
    Panel
        Columns ``id`` (unit), ``t`` (period 1 to 6), ``y`` (outcome) and ``g`` (cohort, 0 = never).

    Examples
    --------
    >>> import numpy as np
    >>> from impactlab.datasets import example_panel
    >>> panel = example_panel(lambda cohort, event_time: np.where(cohort == 3, 2.0, 4.0))
    >>> panel.n_units, panel.n_periods
    (30, 6)
    """
    unit = np.repeat(np.arange(30), 6)
    time = np.tile(np.arange(1, 7), 30)
    cohort = np.repeat(np.select([np.arange(30) < 10, np.arange(30) < 20], [3, 5], 0), 6)
    trained = (cohort > 0) & (time >= cohort)
    y = 0.1 * unit + 0.5 * time
    event_time = time[trained] - cohort[trained]
    gain = 1.0 + event_time if effect is None else effect(cohort[trained], event_time)
    y[trained] += np.broadcast_to(np.asarray(gain, dtype="float64"), event_time.shape)
    frame = pd.DataFrame({"id": unit, "t": time, "y": y, "g": cohort})
    return Panel.from_frame(frame, unit="id", time="t", outcome="y", cohort="g")
