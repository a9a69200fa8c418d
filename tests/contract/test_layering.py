"""The tree reads as the data flow: a stage imports only from itself or earlier stages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "impactlab"

# stage of each top-level module or package of impactlab, in the order of the flow: result types come before
# the estimators that return them (results never run an estimator), analyses that run several estimators
# (compare) come after them, and Kirkpatrick and ROI, which take results, after those
STAGES = {
    "errors": 0, "_progress": 0, "schemas": 1, "io": 2, "datasets": 3, "panel": 3, "results": 4,
    "estimators": 5, "analysis": 6, "kirkpatrick": 7, "roi": 7, "programs": 7, "plot": 8, "deck": 9,
    "report": 10, "cli": 11,
}


def test_every_package_has_a_stage():
    names = {p.name.removesuffix(".py") for p in SRC.iterdir()
             if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").exists()}
    assert names <= set(STAGES), sorted(names - set(STAGES))


def test_results_never_import_estimators_or_analyses():
    for path in (SRC / "results").rglob("*.py"):
        assert not {"estimators", "analysis"} & _imported(path), path.name


def _stage_of(path: Path) -> tuple[str, int] | None:
    rel = path.relative_to(SRC)
    name = rel.parts[0].removesuffix(".py")
    return (name, STAGES[name]) if name in STAGES else None


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("impactlab."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("impactlab."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("path", sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py"
                                        or p.parent != SRC), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_earlier_stages(path):
    own = _stage_of(path)
    if own is None:
        pytest.skip("not a staged module")
    name, stage = own
    later = {m for m in _imported(path) if STAGES.get(m, -1) > stage}
    assert not later, f"{path.relative_to(SRC)} (stage {name}) imports later stages {sorted(later)}"


def test_no_did_library_is_imported_by_the_package():
    banned = {"csdid", "diff_diff", "differences", "pyfixest", "linearmodels", "moderndid", "drdid"}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            assert not banned.intersection(names), f"{path.relative_to(SRC)} imports {names}"
