"""Progress bars for long computations, quiet when nobody is watching.

One helper, :func:`progress`, used by the multiplier bootstrap, the wild bootstrap, the power simulation and
the LRS pull. It depends on nothing else in impactlab (any stage may import it).

When a bar is shown
-------------------
1. ``IMPACTLAB_PROGRESS`` set to ``0``/``false``/``no``/``off`` hides every bar, and ``1``/``true``/``yes``/
   ``on`` shows them (scheduled runs: ``impactlab run`` sets it to ``0`` for the notebook's kernel unless it
   is set already).
2. Otherwise an explicit ``enabled=True``/``False`` of the caller decides.
3. Otherwise bars are shown on an interactive terminal (standard error is a TTY) and in a Jupyter kernel,
   and hidden in logs, pipes and CI.

Bars appear only after ``delay`` seconds (1 s by default), so quick computations print nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

ENV_VAR = "IMPACTLAB_PROGRESS"
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})


def _in_jupyter() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_enabled(enabled: bool | None = None) -> bool:
    """Whether a progress bar would be shown (see the module notes for the order of the rules).

    Examples
    --------
    >>> import os
    >>> os.environ["IMPACTLAB_PROGRESS"] = "0"
    >>> progress_enabled(True)
    False
    >>> del os.environ["IMPACTLAB_PROGRESS"]
    >>> progress_enabled(False)
    False
    """
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if env in _OFF:
        return False
    if env in _ON:
        return True
    if enabled is not None:
        return bool(enabled)
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(callable(isatty) and isatty()) or _in_jupyter()


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", enabled: bool | None = None, delay: float = 1.0) -> Any:
    """A tqdm progress bar (``tqdm.auto``: a widget in Jupyter, text on a terminal), or a silent one.

    Parameters
    ----------
    iterable : iterable, optional
        Wrapped and iterated as is; omit it and call ``.update(n)`` on the bar instead.
    total : int, optional
        Expected number of steps (default: ``len(iterable)`` when it has one).
    desc, unit : str
        Label and unit of the bar.
    enabled : bool, optional
        Force the bar on or off; ``None`` decides from the environment (module notes). The environment
        variable ``IMPACTLAB_PROGRESS`` overrides it.
    delay : float
        Seconds before the bar appears.

    Returns
    -------
    tqdm
        Iterate over it, or use it as a context manager and call ``update``. The values are those of
        ``iterable``, unchanged: a bar never alters a computation.
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not progress_enabled(enabled),
                delay=delay, file=sys.stderr, leave=False, dynamic_ncols=True)
