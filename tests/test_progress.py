"""The progress helper: shown only when someone watches, never altering a computation."""

from __future__ import annotations

import io

import numpy as np
import pytest

from impactlab import _progress
from impactlab._progress import progress, progress_enabled


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("env", "enabled", "tty", "expected"), [
    ("0", True, True, False),      # the environment variable wins
    ("off", None, True, False),
    ("1", False, False, True),
    ("", True, False, True),       # then the caller
    ("", False, True, False),
    ("", None, True, True),        # then the terminal
    ("", None, False, False),      # a log file or pipe: quiet
])
def test_who_decides(monkeypatch, env, enabled, tty, expected) -> None:
    monkeypatch.setenv(_progress.ENV_VAR, env)
    monkeypatch.setattr("sys.stderr", _Tty() if tty else io.StringIO())
    assert progress_enabled(enabled) is expected


def test_a_shown_bar_writes_to_stderr_and_a_hidden_one_writes_nothing(monkeypatch) -> None:
    for env, expect_output in (("1", True), ("0", False)):
        monkeypatch.setenv(_progress.ENV_VAR, env)
        err = _Tty()
        monkeypatch.setattr("sys.stderr", err)
        monkeypatch.setattr(_progress, "_in_jupyter", lambda: False)
        out = list(progress(range(5), desc="Test bar", delay=0))
        assert out == [0, 1, 2, 3, 4]
        assert ("Test bar" in err.getvalue()) is expect_output


def test_bars_do_not_change_results(monkeypatch) -> None:
    import impactlab as il

    org = il.datasets.simulate_org(n_employees=150, n_periods=14, seed=2)
    panel = org.panel()
    fits = []
    for env in ("0", "1"):
        monkeypatch.setenv(_progress.ENV_VAR, env)
        monkeypatch.setattr("sys.stderr", io.StringIO())
        fit = il.callaway_santanna(panel, n_draws=199, seed=5, allow_unbalanced=True).aggregate("simple")
        fits.append((fit.estimate, fit.std_error))
    assert np.allclose(fits[0], fits[1], rtol=0, atol=0)
