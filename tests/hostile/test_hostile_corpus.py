"""The hostile-input corpus (tests/hostile/): every case gives its verdict from cases.toml.

Each case reads one file with the reader it targets and must be ``refused`` (an ImpactlabError of the
named type, message matched), ``quarantined`` (bad rows in the ledger with their checks) or ``read``
(values asserted); every Table returned keeps ``rows_read == kept + rejected``. A case the library still
gets wrong is marked ``xfail(strict=True)`` in the manifest with its reason. docs/reliability.md lists
every case with its verdict and message.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_run as h  # noqa: E402

CASES = h.cases()
PAGE = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def _params() -> list[Any]:
    out = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
        out.append(pytest.param(case, id=case["name"], marks=marks))
    return out


def _plain(v: Any) -> Any:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return "NA"
    if isinstance(v, pd.Timestamp):
        return str(v)
    if hasattr(v, "item"):
        return v.item()
    return v


def _value(outcome: h.Outcome, key: str) -> Any:
    if key in outcome.facts:
        return outcome.facts[key]
    table = outcome.table
    assert table is not None, f"{key!r}: no table was returned"
    if key == "rows_read":
        return table.rows_read
    if key.endswith("_length"):
        return [len(v) for v in table.frame[key.removesuffix("_length")]]
    return [_plain(v) for v in table.frame[key].tolist()]


@pytest.mark.parametrize("case", _params())
def test_case_gives_its_verdict(case, tmp_path):
    if case["reader"] == "cli_run" and importlib.util.find_spec("papermill") is None:
        # only `make test-min`, whose venv has no notebooks extra; `make test` runs these cases
        pytest.skip("impactlab run needs the notebooks extra (papermill)")
    outcome = h.run(case, tmp_path)
    for t in outcome.tables:
        assert t.rows_read == t.n_kept + t.n_rejected, t.source
    assert outcome.verdict == case["verdict"], outcome.text
    if "error" in case:
        assert case["error"] in [k.__name__ for k in type(outcome.error).__mro__]
    if "match" in case:
        assert re.search(case["match"], outcome.text), outcome.text
    if "rejected" in case:
        seen: dict[str, str] = {}
        for t in outcome.tables:
            first = t.rejected.drop_duplicates("source_row")
            seen.update({str(r): c for r, c in zip(first["source_row"], first["check"], strict=True)})
        assert seen == case["rejected"]
    for key, expected in case.get("values", {}).items():
        assert _value(outcome, key) == expected, key


def test_the_corpus_has_eighty_cases_one_file_each_and_no_file_unused():
    files = {p.name for p in h.FILES.iterdir()}
    used = [c["file"] for c in CASES]
    assert len(CASES) >= 80 and len({c["name"] for c in CASES}) == len(CASES)
    assert set(used) == files
    assert all(c["verdict"] in ("refused", "quarantined", "read") for c in CASES)


def test_the_reliability_page_lists_every_case_with_its_verdict():
    page = PAGE.read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([a-z0-9_]+)` \|.*?\| \*\*([a-z ]+)\*\*", page, re.M))
    assert listed == {c["name"]: "not yet" if "xfail" in c else c["verdict"] for c in CASES}


def test_the_reliability_page_is_in_the_site_navigation():
    nav = (PAGE.parents[1] / "mkdocs.yml").read_text(encoding="utf-8")
    assert "reliability.md" in nav
