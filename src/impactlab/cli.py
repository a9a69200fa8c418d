"""The ``impactlab`` command: run the demo, run a notebook with parameters, simulate data.

Exit codes: 0 success; 1 a run failed (the executed notebook with the error is kept in the output
folder); 2 wrong usage or a missing file.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

from impactlab.errors import ImpactlabError, require

FLAGSHIP = "impact_analysis.ipynb"


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _find(relative: str) -> Path | None:
    for base in (Path.cwd(), _repo_root()):
        candidate = base / relative
        if candidate.exists():
            return candidate
    return None


def _value(text: str) -> Any:
    """A parameter value: a Python literal when it parses as one, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run_notebook(notebook: Path, out: Path, parameters: dict[str, Any]) -> Path:
    """Execute ``notebook`` with papermill into ``out`` and write an HTML copy beside it.

    Raises the papermill execution error after saving the failed notebook.
    """
    pm = require("papermill", "notebooks", "Running notebooks")
    out.mkdir(parents=True, exist_ok=True)
    target = out / notebook.name
    try:
        pm.execute_notebook(str(notebook), str(target), parameters=parameters, kernel_name="python3",
                            progress_bar=False, cwd=str(out))
    finally:
        if target.exists():
            _to_html(target)
    return target


def _to_html(notebook: Path) -> Path:
    nbformat = require("nbformat", "notebooks", "Writing HTML reports")
    nbconvert = require("nbconvert", "notebooks", "Writing HTML reports")
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(str(notebook), as_version=4))
    html_path = notebook.with_suffix(".html")
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _cmd_demo(args: argparse.Namespace) -> int:
    nb = _find(f"notebooks/{FLAGSHIP}")
    if nb is None:
        print(f"error: notebooks/{FLAGSHIP} not found; run from the impactlab source folder.",
              file=sys.stderr)
        return 2
    data = _find("data/sample")
    out = Path(args.out).resolve()
    if data is None:
        from impactlab.datasets import simulate_org

        data = out / "sample-data"
        simulate_org(n_employees=2000, n_periods=24, seed=7).to_csv(data)
    params = {"data_dir": str(data.resolve()), "output_dir": str(out)}
    return _execute(nb, out, params)


def _cmd_run(args: argparse.Namespace) -> int:
    nb = Path(args.notebook)
    if not nb.exists():
        print(f"error: notebook {nb} not found.", file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    params = {name: _value(val) for name, val in (args.parameter or [])}
    params.setdefault("output_dir", str(out))
    return _execute(nb, out, params)


def _execute(nb: Path, out: Path, params: dict[str, Any]) -> int:
    print(f"Running {nb.name} with {params} -> {out}")
    try:
        target = run_notebook(nb, out, params)
    except ImpactlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - any cell error: papermill's message names the failing cell
        print(f"error: the notebook failed; the executed copy is kept in {out}.\n{exc}", file=sys.stderr)
        return 1
    print(f"Wrote {target} and {target.with_suffix('.html').name}; outputs in {out}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from impactlab.datasets import simulate_org

    org = simulate_org(n_employees=args.employees, n_periods=args.periods, seed=args.seed)
    paths = org.to_csv(args.out)
    print(f"Wrote {len(paths)} files to {args.out}; true overall effect {org.truth.overall:.4f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="impactlab", description=__doc__.splitlines()[0],
                                     epilog="Exit codes: 0 ok, 1 run failed, 2 usage or missing file.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="run the flagship notebook on the sample data")
    p.add_argument("--out", default="reports/demo", help="output folder (default: reports/demo)")
    p.set_defaults(func=_cmd_demo)
    p = sub.add_parser("run", help="run a notebook with papermill parameters")
    p.add_argument("notebook")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="notebook parameter (repeatable); values are Python literals or strings")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("simulate", help="write a simulated organisation as CSV files")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--employees", type=int, default=2000)
    p.add_argument("--periods", type=int, default=24)
    p.set_defaults(func=_cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
