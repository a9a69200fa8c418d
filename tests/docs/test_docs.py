"""The documentation: every public name in the reference, the site builds strictly, the examples run."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import impactlab as il  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Pages whose python blocks show calls on the user's own files; they are illustrations, not run.
ILLUSTRATIVE = {"presets.md", "validation.md"}


def _hook():
    spec = importlib.util.spec_from_file_location("impactlab_docs_hook", DOCS / "_hooks" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_is_in_the_reference() -> None:
    md = _hook().reference_markdown()
    blocks = set(re.findall(r"^::: (\S+)$", md, re.M))
    documented = {b.rsplit(".", 1)[-1] for b in blocks}
    missing = [n for n in il.__all__ if n != "__version__" and n not in documented]
    assert not missing, f"public names without a reference entry: {missing}"
    # each exported name is documented where _EXPORTS says it lives
    for name, module in il._EXPORTS.items():
        assert f"{module}.{name}" in blocks
    assert "impactlab.roi.roi" in blocks and "impactlab.plot" in blocks


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)


PAGES = sorted(p for p in DOCS.rglob("*.md") if p.name not in ILLUSTRATIVE and _python_blocks(p))


def test_the_tutorial_and_how_tos_have_examples() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"tutorial.md", "how-to/read-lms-export.md", "how-to/build-a-deck.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_docs_examples_run(page, tmp_path, monkeypatch) -> None:
    if "Deck" in page.read_text(encoding="utf-8"):
        pytest.importorskip("pptx")
    if page.name == "tutorial.md":  # it reads the example exports from data/examples, as from the repo root
        shutil.copytree(ROOT / "data" / "examples", tmp_path / "data" / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(_python_blocks(page)):
        if "pyspark" in block:  # needs Spark and Java: tests/docs/test_scaling_snippets.py runs it then
            continue
        try:
            exec(compile(block, f"{page.name}[block {i + 1}]", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # noqa: BLE001 - the failure message names the page and block
            pytest.fail(f"{page.relative_to(DOCS)} block {i + 1} failed: {type(exc).__name__}: {exc}")
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings")
                    is None, reason="the docs extra is not installed: pip install -e '.[docs]'")
def test_site_builds_strictly_with_every_name(tmp_path) -> None:
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or "mkdocs"
    site = tmp_path / "site"
    proc = subprocess.run([mkdocs, "build", "--strict", "-q", "-d", str(site)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr
    api = (site / "reference" / "api.html").read_text(encoding="utf-8")
    for name, module in il._EXPORTS.items():
        assert f'id="{module}.{name}"' in api, name
    for page in ("index.html", "tutorial.html", "explanation.html", "how-to/schedule-runs.html"):
        assert (site / page).exists()
