"""The four thin notebooks run under papermill with their defaults (sample data) and with other parameters.

Defaults run from the notebooks folder, so their relative paths (``../data/sample``) resolve as they do for
a user; only ``output_dir`` is redirected to a temporary folder. The other-parameter runs use a small
simulated organisation (fast) and, for the board notebook, the scheduled path (``impactlab run --dated``).
Every notebook runs with its defaults and with other parameters by default; only the broken-input run of
04 is marked slow (``make test-slow``: the flagship test covers a broken input by default).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

pm = pytest.importorskip("papermill")
nbformat = pytest.importorskip("nbformat")
pptx = pytest.importorskip("pptx")

from impactlab.cli import main  # noqa: E402
from impactlab.plot.theme import fmt_pct  # noqa: E402
from impactlab.results.probability import prob_statement  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("01_quickstart", "02_from_your_lms_export", "03_causal_evaluation", "04_roi_for_the_board")


def _run(name: str, out: Path, **parameters) -> nbformat.NotebookNode:
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(target), kernel_name="python3",
                        parameters={"output_dir": str(out), **parameters}, cwd=str(NOTEBOOKS),
                        progress_bar=False)
    return nbformat.read(str(target), as_version=4)


def _text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            parts.append(o.get("text", ""))
            data = o.get("data", {})
            parts.append(data.get("text/plain", ""))
            parts.append(data.get("text/html", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    from impactlab.datasets import simulate_org

    out = tmp_path_factory.mktemp("small")
    simulate_org(n_employees=400, n_periods=16, seed=3).to_csv(out)
    return out


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("board")
    _run("04_roi_for_the_board", out)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_thin_parameterised_and_stripped(name) -> None:
    nb = nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)  # outputs stripped in git
    assert "output_dir" in pm.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    assert not any(re.search(r"^\s*(def|class) ", c.source, re.M) for c in code)  # logic lives in impactlab


def test_quickstart_defaults(tmp_path) -> None:
    text = _text(_run("01_quickstart", tmp_path))
    assert "What this supports" in text and "Identifying assumption" in text
    assert (tmp_path / "quickstart_compare.png").exists()


def test_quickstart_other_parameters(tmp_path) -> None:
    other = _text(_run("01_quickstart", tmp_path, n_employees=300, n_periods=15, seed=11, level=0.9))
    assert "90% CI" in other


def test_lms_export_defaults_read_the_messy_examples_to_the_roi(tmp_path) -> None:
    """The defaults: data/examples as the tutorial reads them, each reader's rejections written for review,
    the causal estimate holding the truth the files were drawn with, the ROI on the whole cost sheet."""
    text = _text(_run("02_from_your_lms_export", tmp_path))
    assert "rows read: 644, kept: 640, rejected: 4" in text  # the transcript's four broken rows
    assert "rows read: 600, kept: 600, rejected: 0" in text  # the roster, keyed by "Employee Number"
    assert "wide layout: 588 row(s) x 18 period column(s)" in text
    rejected = (tmp_path / "completions_rejected.csv").read_text()
    assert "Pending Review" in rejected  # the quarantined row, written for review
    assert (tmp_path / "kpis_rejected.csv").exists()
    truth = json.loads((ROOT / "data" / "examples" / "truth.json").read_text())["overall"]
    ci = re.search(r"Training changed revenue by ([\d,]+) per trained employee and period \(95% CI ([\d,]+) "
                   r"to ([\d,]+)", text)
    assert ci, text[:2000]
    lo, hi = (float(ci.group(i).replace(",", "")) for i in (2, 3))
    assert lo <= truth <= hi
    assert "Phillips ROI (USD)" in text and "cost 788,092" in text  # the finance sheet, every item mapped
    assert not list(NOTEBOOKS.glob("*.csv"))  # nothing written beside the notebook


def test_lms_export_with_plain_exports_of_another_organisation(tmp_path, small_data) -> None:
    """Other files with the canonical headers: the reading options switched off by parameters."""
    files = {f"{t}_file": str(small_data / f"{t}.csv") for t in ("completions", "roster", "kpis", "costs")}
    plain = {"preset": None, "dayfirst": None, "roster_columns": None, "kpis_sheet": None,
             "kpis_unit": "employee_id", "cost_categories": None, "costs_single_program": False,
             "cluster": None}
    text = _text(_run("02_from_your_lms_export", tmp_path, **files, **plain))
    assert "rejected: 0" in text and "Phillips ROI (USD)" in text


def test_every_notebook_writes_under_a_reports_folder_by_default() -> None:
    for name in (*NAMES, "impact_analysis"):
        default = pm.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))["output_dir"]["default"]
        target = (NOTEBOOKS / default.strip("'\"")).resolve()
        assert target.parent == ROOT / "reports", f"{name} writes to {target}"


def test_causal_evaluation_defaults(tmp_path) -> None:
    text = _text(_run("03_causal_evaluation", tmp_path))
    assert "Pre-training check" in text and "never_treated" in text  # diagnostics and choices table
    assert (tmp_path / "event_study.png").exists() and (tmp_path / "event_study_sun_abraham.png").exists()
    assert "Event study (Sun &amp; Abraham)" in text and "Pre-trend test: F(5" in text
    assert "BaconResult(twfe=" in text and "forbidden_weight=0.3" in text  # TWFE's already-trained controls
    assert "breakdown M̄" in text and "Rambachan & Roth 2023" in text  # the parallel-trends bounds


def test_causal_evaluation_other_design(tmp_path, small_data) -> None:
    text = _text(_run("03_causal_evaluation", tmp_path, data_dir=str(small_data),
                      control="never_treated", anticipation=1, min_e=-3, max_e=6))
    assert "employees never trained during the data window" in text  # the comparison group follows


def _alt(slide) -> str:
    return next(sh._element.nvPicPr.cNvPr.get("descr") for sh in slide.shapes if sh.shape_type == 13)


def test_board_deck_numbers_equal_the_summary(board) -> None:
    s = json.loads((board / "impact_summary.json").read_text())
    prs = pptx.Presentation(str(board / "board.pptx"))
    slides = list(prs.slides)
    # title, roll-out, compare, event study, chain, ROI waterfall, ROI distribution, ROI under doubt, bars
    assert len(slides) == 9
    assert "Consultative Selling: impact on revenue" == slides[0].shapes.title.text
    for slide in slides[1:]:
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip()
        for shape in slide.shapes:
            if shape.shape_type == 13 or shape.has_chart:  # picture or chart: alt text present
                el = shape._element
                pr = el.nvPicPr if shape.shape_type == 13 else el.nvGraphicFramePr
                assert pr.cNvPr.get("descr")
    # the native bar chart holds exactly the naive and causal estimates of the summary
    chart = next(sh.chart for sh in slides[8].shapes if sh.has_chart)
    assert list(chart.series[0].values) == pytest.approx([s["naive"]["estimate"], s["causal"]["estimate"]])
    # the compare slide's notes quote the causal interval of the summary
    c = s["causal"]
    notes = slides[2].notes_slide.notes_text_frame.text
    assert f"95% CI {c['conf_low']:,.0f} to {c['conf_high']:,.0f}" in notes
    # the ROI charts' titles (their alt text) state the summary's ROI, interval and P(ROI > 0)
    lo, hi = s["roi"]["interval"]
    headline = f"ROI {fmt_pct(s['roi']['roi_pct'])} (95% interval {fmt_pct(lo)} to {fmt_pct(hi)})"
    assert headline in _alt(slides[5])
    chance = prob_statement("P(ROI > 0)", s["prob_roi_positive"], exact=False)  # the effect has an SE
    assert headline in _alt(slides[6]) and chance in _alt(slides[6])
    # ROI under doubt: the breakdown value of the summary, on the chart and in the notes
    doubt = s["roi_doubt"]
    assert doubt["restriction"] == "relative_magnitude" and 0 < doubt["breakdown"] < 2
    assert f"breakdown M̄ = {doubt['breakdown']:.2g}" in _alt(slides[7])
    assert doubt["sentence"] in slides[7].notes_slide.notes_text_frame.text
    # chain of evidence: five levels from the sample's files, the causal effect and ROI as in the summary
    levels = {lv["name"]: lv for lv in s["chain"]["levels"]}
    assert list(levels) == ["Reaction", "Learning", "Behaviour", "Results", "ROI"]
    assert levels["Results"]["estimate"] == pytest.approx(c["estimate"])
    assert levels["ROI"]["estimate"] == pytest.approx(s["roi"]["roi_pct"])
    assert "Chain of evidence: 5 levels" in _alt(slides[4])
    assert f"{levels['Reaction']['estimate']:.1f}" in slides[4].notes_slide.notes_text_frame.text or \
        f"{levels['Reaction']['estimate']:,.4f}" in slides[4].notes_slide.notes_text_frame.text
    assert s["truth"]["overall"] is not None and s["data"]["first_period"] == "2024-01"
    # every chart of the deck was also written as PNG and SVG
    for name in ("rollout", "compare", "event_study", "chain", "roi_waterfall", "roi_distribution",
                 "roi_sensitivity"):
        assert (board / f"{name}.png").stat().st_size > 10_000 and (board / f"{name}.svg").exists()


def test_board_scheduled_run_with_other_parameters(tmp_path, small_data, capsys) -> None:
    out = tmp_path / "reports"
    code = main(["run", str(NOTEBOOKS / "04_roi_for_the_board.ipynb"), "--out", str(out), "--dated",
                 "-p", "data_dir", str(small_data), "-p", "margin", "0.1", "-p", "horizon", "6"])
    assert code == 0, capsys.readouterr().err
    folder = out / date.today().isoformat()
    s = json.loads((folder / "impact_summary.json").read_text())
    m = json.loads((folder / "run_manifest.json").read_text())
    assert m["status"] == "ok" and m["parameters"]["horizon"] == 6
    assert {"data_dir/kpis.csv", "data_dir/completions.csv", "data_dir/costs.csv"} <= set(m["inputs_sha256"])
    assert {"board.pptx", "impact_summary.json", "04_roi_for_the_board.html"} <= set(m["outputs"])
    # benefit = effect x margin x participants x horizon, with the new parameters
    participants = s["roi"]["benefit"] / (s["causal"]["estimate"] * 0.1 * 6)
    assert participants == pytest.approx(round(participants)) and 0 < participants <= s["data"]["units"]


@pytest.mark.slow
def test_board_run_with_a_broken_input_fails_readably(tmp_path, capsys) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "completions.csv").write_text("this is not,an export\n1,2\n")
    out = tmp_path / "run"
    code = main(["run", str(NOTEBOOKS / "04_roi_for_the_board.ipynb"), "--out", str(out),
                 "-p", "data_dir", str(broken)])
    assert code == 1
    err = capsys.readouterr().err
    assert "failed" in err and "raised" in err and "Traceback" not in err
    assert (out / "04_roi_for_the_board.ipynb").exists()
    assert json.loads((out / "run_manifest.json").read_text())["status"] == "failed"
