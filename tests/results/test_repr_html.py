"""Every object an analyst displays in Jupyter renders as readable HTML with its headline numbers."""

from __future__ import annotations

import re
import warnings

import pytest

import impactlab as il


@pytest.fixture(scope="module")
def pieces():
    org = il.datasets.simulate_org(n_employees=400, n_periods=15, seed=5)
    completions = il.read_completions(org.completions)
    panel = org.panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = il.compare(panel, truth=org.truth.overall)
        cs = il.callaway_santanna(panel)
    dynamic = cs.aggregate("dynamic")
    r = il.roi(cmp.causal, value_per_unit=0.25, participants=100, horizon=12, costs=50_000, seed=0)
    return {"table": completions, "panel": panel, "compare": cmp, "cs": cs, "dynamic": dynamic, "roi": r,
            "explanation": cmp.explain(event_study=dynamic)}


def _visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("name", ["table", "panel", "compare", "cs", "dynamic", "roi", "explanation"])
def test_repr_html_is_html_with_text(pieces, name) -> None:
    html = pieces[name]._repr_html_()
    assert isinstance(html, str) and html.lstrip().startswith("<")
    assert len(_visible(html)) > 40  # words a reader can read, not only markup


def test_headline_numbers_are_shown(pieces) -> None:
    cmp, panel = pieces["compare"], pieces["panel"]
    text = _visible(cmp._repr_html_())
    assert f"{cmp.causal.estimate:,.4f}" in text and f"{cmp.naive.estimate:,.4f}" in text
    assert f"{panel.n_units} units" in _visible(panel._repr_html_())
    assert f"{panel.periods[0]} to {panel.periods[-1]}" in _visible(panel._repr_html_())
    assert "What this supports" in _visible(pieces["explanation"]._repr_html_())
    tbl = pieces["table"]
    assert f"{tbl.rows_read} rows read" in _visible(tbl._repr_html_())
