"""Print pip requirements that pin every declared floor exactly: ``name>=X`` in pyproject.toml becomes
``name==X``, for the core dependencies and the extras named on the command line (``make test-min``).

    python tools/floors.py deck sql dev > floors.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

#: Tools of the dev extra that the tests do not import (linters); the floor run leaves them out.
NOT_FOR_TESTS = {"ruff", "mypy"}


def pinned(requirement: str) -> str:
    """``name[extra]>=1.2`` as ``name[extra]==1.2``; a requirement without a floor is refused."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+(?:\[[^\]]*\])?)\s*>=\s*([0-9][^,;\s]*)\s*", requirement)
    if m is None:
        raise SystemExit(f"pyproject.toml: {requirement!r} has no '>=' floor; declare one so that it can be tested")
    return f"{m.group(1)}=={m.group(2)}"


def main(extras: list[str]) -> None:
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in optional]
    if unknown:
        raise SystemExit(f"unknown extras {unknown}; pyproject.toml declares {sorted(optional)}")
    reqs = list(project["dependencies"]) + [r for e in extras for r in optional[e]]
    for r in reqs:
        name = re.split(r"[\[<>=!~ ]", r.strip(), maxsplit=1)[0].lower()
        if name not in NOT_FOR_TESTS:
            print(pinned(r))


if __name__ == "__main__":
    main(sys.argv[1:])
