"""data/sample/ is exactly one seeded draw of simulate_org, written by Org.to_csv, and documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from impactlab.datasets import Truth, simulate_org
from impactlab.datasets._sample_readme import sample_readme
from impactlab.datasets.make_sample import SAMPLE_ARGS, main
from impactlab.datasets.org import TABLES

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    simulate_org(**SAMPLE_ARGS).to_csv(out)
    return out


def test_sample_files_exist_and_are_small():
    names = {p.name for p in SAMPLE.iterdir()}
    assert {f"{t}.csv" for t in TABLES} | {"truth.json", "README.md"} <= names
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 5 * 1024 * 1024


@pytest.mark.parametrize("table", TABLES)
def test_sample_csv_matches_the_recorded_draw(table, regenerated):
    shipped = pd.read_csv(SAMPLE / f"{table}.csv", dtype=str, keep_default_na=False)
    fresh = pd.read_csv(regenerated / f"{table}.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(shipped, fresh)


def test_sample_truth_matches_the_recorded_draw(regenerated):
    shipped = json.loads((SAMPLE / "truth.json").read_text())
    fresh = json.loads((regenerated / "truth.json").read_text())
    assert shipped["overall"] == pytest.approx(fresh["overall"], rel=1e-12)
    assert shipped["params"] == fresh["params"]
    assert shipped["params"]["seed"] == SAMPLE_ARGS["seed"]
    assert Truth.from_json(SAMPLE / "truth.json").overall == pytest.approx(shipped["overall"])


def test_readme_states_the_call_and_the_true_effect():
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert text == sample_readme(simulate_org(**SAMPLE_ARGS))      # every number comes from the draw
    call = "simulate_org(n_employees={n_employees}, n_periods={n_periods}, seed={seed})".format(**SAMPLE_ARGS)
    assert call in text
    overall = json.loads((SAMPLE / "truth.json").read_text())["overall"]
    assert f"{overall:,.2f}" in text
    assert re.search(r"anticipation\s*=\s*2", text)


def test_make_sample_writes_the_files(tmp_path, capsys):
    assert main([str(tmp_path), "--employees", "100", "--periods", "18", "--seed", "1"]) == 0
    assert "True overall ATT" in capsys.readouterr().out
    assert (tmp_path / "kpis.csv").exists() and (tmp_path / "truth.json").exists()
    assert "seed=1)" in (tmp_path / "README.md").read_text(encoding="utf-8")
