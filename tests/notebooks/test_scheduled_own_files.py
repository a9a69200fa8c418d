"""The flagship notebook as a scheduled job on the analyst's own files: the messy exports of data/examples
run to a deck with `impactlab run` parameters only (the reading options of docs/tutorial.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("papermill")
pytest.importorskip("pptx")

from impactlab.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "impact_analysis.ipynb"
EXAMPLES = ROOT / "data" / "examples"
#: The reading options of docs/tutorial.md for the files of data/examples, as `impactlab run` parameters.
EXAMPLE_OPTIONS = {
    "completions_file": "mydata/transcript.csv", "roster_file": "mydata/hr_roster.xlsx",
    "kpis_file": "mydata/sales_kpis.xlsx", "costs_file": "mydata/finance_costs.xlsx",
    "preset": "cornerstone", "dayfirst": "False", "kpis_sheet": "Revenue", "kpis_unit": "Employee ID",
    "roster_columns": "{'Line Manager': 'manager_id'}",
    "costs_single_program": "True", "cluster": "team",
    "cost_categories": repr({
        "Needs analysis (consultancy)": "needs_assessment", "Course design - agency": "design",
        "LMS licences & session delivery": "delivery", "Trainer fees": "facilitators",
        "Workbooks & printing": "materials", "Venue hire": "facilities",
        "Staff time in training (salaries)": "participant_time", "Travel & subsistence": "travel",
        "Evaluation study": "evaluation", "L&D overhead allocation": "overhead"}),
}


def _flags(options: dict[str, str]) -> list[str]:
    return [x for name, value in options.items() for x in ("-p", name, value)]


def test_the_messy_example_exports_go_to_a_deck_with_parameters_only(tmp_path, monkeypatch, capsys):
    """A folder of exports as they come (data/examples: Cornerstone transcript with US dates, roster keyed by
    "Employee Number", wide KPI workbook, finance cost sheet), run from the folder that holds it with
    relative paths: the scheduled notebook reads them with the tutorial's options and finds the truth."""
    shutil.copytree(EXAMPLES, tmp_path / "mydata")
    monkeypatch.chdir(tmp_path)
    code = main(["run", str(NOTEBOOK), "--out", "reports/july", *_flags(EXAMPLE_OPTIONS)])
    assert code == 0, capsys.readouterr().err
    out = tmp_path / "reports" / "july"
    m = json.loads((out / "run_manifest.json").read_text())
    assert m["parameters"]["completions_file"] == str(tmp_path / "mydata" / "transcript.csv")
    assert m["parameters"]["roster_columns"] == {"Line Manager": "manager_id"}
    assert m["parameters"]["dayfirst"] is False
    s = json.loads((out / "impact_summary.json").read_text())
    truth = json.loads((EXAMPLES / "truth.json").read_text())["overall"]
    c = s["causal"]
    assert c["conf_low"] <= truth <= c["conf_high"] and c["n_units"] == 588  # every employee with KPI cells
    assert s["roi"]["cost"] == pytest.approx(788_092)  # the whole finance sheet, every item mapped
    assert {"impact.pptx", "impact_analysis.html", "compare.png"} <= {p.name for p in out.iterdir()}
    mine = sorted(p.name for p in (tmp_path / "mydata").iterdir())
    assert mine == sorted(p.name for p in EXAMPLES.iterdir())  # nothing written beside the data

