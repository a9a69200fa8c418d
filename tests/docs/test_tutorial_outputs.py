"""The tutorial's text blocks are what its code prints: each block runs from a folder holding a copy of
``data/examples/`` (as a reader runs it from the repository root), and every line of the text block under it
must appear in what it printed (spaces collapsed). The page's numbers are also checked against the truth
the example files were drawn with, so the claims in its prose hold."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "tutorial.md"
EXAMPLES = ROOT / "data" / "examples"


def _steps(text: str) -> list[tuple[str, str | None]]:
    """(python block, the text block right after it or None), in page order."""
    blocks = re.findall(r"^```(python|text)\n(.*?)^```", text, re.M | re.S)
    steps: list[tuple[str, str | None]] = []
    for kind, body in blocks:
        if kind == "python":
            steps.append((body, None))
        else:
            assert steps and steps[-1][1] is None, "a text block must follow a python block"
            steps[-1] = (steps[-1][0], body)
    return steps


def _squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """Run every block once; keep each block's printed output and the final namespace."""
    pytest.importorskip("pptx")
    work = tmp_path_factory.mktemp("tutorial")
    shutil.copytree(EXAMPLES, work / "data" / "examples")
    namespace: dict = {"__name__": "__tutorial__"}
    printed: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        for i, (code, _) in enumerate(_steps(PAGE.read_text(encoding="utf-8"))):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                exec(compile(code, f"tutorial.md[block {i + 1}]", "exec"), namespace)  # noqa: S102
            printed.append(buf.getvalue())
    import matplotlib.pyplot as plt

    plt.close("all")
    return {"printed": printed, "ns": namespace, "work": work}


def test_every_text_block_is_what_its_code_prints(run) -> None:
    steps = _steps(PAGE.read_text(encoding="utf-8"))
    assert len(steps) >= 12 and sum(shown is not None for _, shown in steps) >= 12
    for i, ((_, shown), out) in enumerate(zip(steps, run["printed"], strict=True)):
        if shown is None:
            continue
        assert out.strip(), f"block {i + 1} prints nothing but the page shows output"
        for line in shown.splitlines():
            if line.strip():
                assert _squash(line) in _squash(out), f"block {i + 1}: {line!r} not printed; printed:\n{out}"


def test_the_pages_claims_hold_on_the_example_files(run) -> None:
    ns = run["ns"]
    truth = json.loads((EXAMPLES / "truth.json").read_text())["overall"]
    page = PAGE.read_text(encoding="utf-8")
    assert f"+{truth:,.0f} revenue per trained employee" in page
    ev, completions, kpis, panel, r, costs = (ns[k] for k in ("ev", "completions", "kpis", "panel", "r",
                                                              "costs"))
    # the causal interval holds the truth; the naive difference is far from it
    lo, hi = ev.effect.conf_int(0.95)
    assert lo <= truth <= hi and ev.causal
    assert abs(ev.naive.naive.estimate - truth) > 5 * abs(ev.effect.estimate - truth) + 500
    # nothing lost in any reader; the four broken transcript rows are the ones rejected
    for table in (completions, kpis, ns["roster"], ns["costs_table"]):
        assert table.rows_read == table.n_kept + table.n_rejected
    assert sorted(completions.rejected["source_row"]) == [646, 647, 648, 649]
    # every refused KPI cell is blank: a month without a row in the simulated organisation
    assert set(kpis.rejected["check"]) == {"missing"} and kpis.n_kept == 8432
    # the cost sheet is whole: its total is the simulated programme's cost
    from impactlab.datasets import simulate_org

    org = simulate_org(n_employees=600, n_periods=18, seed=11)
    assert costs.total == pytest.approx(float(org.costs["amount"].sum()))
    assert r.cost == pytest.approx(costs.total)
    assert panel.meta["trained_employees"] == 380
    pptx = pytest.importorskip("pptx")
    prs = pptx.Presentation(str(run["work"] / "reports" / "tutorial" / "impact.pptx"))
    data_slide = "\n".join(sh.text_frame.text for sh in prs.slides[-1].shapes if sh.has_text_frame)
    assert "Transcript: 644 rows read, 640 kept, 4 rejected" in data_slide  # the rows explained above
    # the tutorial writes under its own output folder, never into the example folder
    assert sorted(p.name for p in (run["work"] / "data" / "examples").iterdir()) == sorted(
        p.name for p in EXAMPLES.iterdir())


def test_the_example_files_are_what_the_script_writes(tmp_path) -> None:
    """make_examples.py rebuilds the same tables (xlsx bytes differ only in their timestamps)."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = tmp_path
    module.main()
    assert (tmp_path / "transcript.csv").read_bytes() == (EXAMPLES / "transcript.csv").read_bytes()
    assert (tmp_path / "truth.json").read_text() == (EXAMPLES / "truth.json").read_text()
    for name in ("hr_roster.xlsx", "sales_kpis.xlsx", "finance_costs.xlsx"):
        new = pd.read_excel(tmp_path / name, sheet_name=None)
        old = pd.read_excel(EXAMPLES / name, sheet_name=None)
        assert list(new) == list(old)
        for sheet in new:
            pd.testing.assert_frame_equal(new[sheet], old[sheet])
