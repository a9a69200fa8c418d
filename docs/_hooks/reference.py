"""mkdocs hook: write the API reference from ``impactlab._EXPORTS`` and ``_SUBMODULES`` at build time.

The page ``reference/api.md`` holds a marker; it is replaced with one mkdocstrings block per public name,
grouped by the module that defines it, so a name added to the public API appears in the reference without
editing the docs (``tests/docs`` checks that every name of ``impactlab.__all__`` is there).
"""

from __future__ import annotations

import importlib
from typing import Any

MARKER = "<!-- impactlab-api -->"

GROUPS = {
    "impactlab.errors": "Errors and warnings",
    "impactlab.io": "Readers",
    "impactlab.panel": "Panel",
    "impactlab.estimators": "Estimators",
    "impactlab.results": "Results",
    "impactlab.analysis": "Analyses",
    "impactlab.kirkpatrick": "Kirkpatrick",
    "impactlab.roi": "ROI",
    "impactlab.programs": "Several programmes",
    "impactlab.deck": "Deck",
}


def reference_markdown() -> str:
    """The markdown of the API reference (also used by the tests)."""
    il = importlib.import_module("impactlab")
    exports: dict[str, str] = il._EXPORTS
    lines: list[str] = []
    by_module: dict[str, list[str]] = {}
    for name, module in exports.items():
        by_module.setdefault(module, []).append(name)
    lines += ["## Top-level functions and classes", ""]
    lines += ["`import impactlab as il` gives each of these as `il.<name>`.", ""]
    for module, names in by_module.items():
        lines += [f"### {GROUPS.get(module, module)}", ""]
        for name in names:
            lines += [f"::: {module}.{name}", "    options:", "      heading_level: 4", ""]
    lines += ["### il.roi", "", "::: impactlab.roi.roi", "    options:", "      heading_level: 4", ""]
    lines += ["## Modules", ""]
    for sub in il._SUBMODULES:
        mod: Any = importlib.import_module(f"impactlab.{sub}")
        members = [m for m in getattr(mod, "__all__", []) if f"impactlab.{sub}" not in by_module
                   or m not in by_module[f"impactlab.{sub}"]]
        lines += [f"::: impactlab.{sub}", "    options:", "      heading_level: 3",
                  "      show_root_heading: true"]
        if members:
            lines += ["      members:"] + [f"        - {m}" for m in members]
        else:
            lines += ["      members: false"]
        lines.append("")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, reference_markdown())
    return markdown
