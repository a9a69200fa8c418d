"""The ``impactlab`` command: run the demo, run a notebook with parameters, simulate data, check a file.

Commands: ``demo``, ``run NOTEBOOK --out DIR -p NAME VALUE ...``, ``simulate``, ``validate FILE``;
``impactlab COMMAND --help`` describes each.

``run`` checks every ``-p`` name against the notebook's ``parameters`` cell before anything runs, and passes
relative paths as absolute ones taken from the directory the command was started in (the notebook itself
runs in the output folder). It refuses an output folder that holds earlier results unless ``--force`` is
given, and holds a lock file in the output folder while it writes there, so that two runs never write into
one folder at once; a lock left by a process that is no longer running is replaced.

Every run (``demo``, ``run``) writes ``run_manifest.json`` beside the executed notebook: the parameters,
SHA-256 checksums of the input files they point to, the library and Python versions, timings and the
outcome. ``run --dated`` writes into a folder named by the date (``DIR/2026-03-31``), for schedules.

Exit codes: 0 success; 1 a run failed (the executed notebook with the error and the manifest are kept in
the output folder), another run is writing into the output folder, ``validate --strict`` found rejected
rows or the file could not be read; 2 wrong usage (an unknown parameter, an output folder with earlier
results without ``--force``) or a missing file; 130 interrupted.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from impactlab._progress import ENV_VAR as PROGRESS_ENV
from impactlab.errors import ImpactlabError, require

FLAGSHIP = "impact_analysis.ipynb"
#: The lock file a run holds in its output folder while it writes there.
LOCK_NAME = ".impactlab.lock"

#: Exit codes of the command, documented in ``impactlab --help``.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Table kinds ``validate`` can read, and the reader of each.
READERS = {"completions": "read_completions", "assessments": "read_assessments", "surveys": "read_surveys",
           "observations": "read_observations", "roster": "read_roster", "kpis": "read_kpis",
           "costs": "read_costs"}


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
    # the kernel inherits the environment: no estimator progress bars inside a scheduled notebook (they
    # would be saved into its outputs), unless the user asked for them with IMPACTLAB_PROGRESS=1
    before = os.environ.get(PROGRESS_ENV)
    os.environ.setdefault(PROGRESS_ENV, "0")
    try:
        # papermill's cell progress bar (tqdm) only when someone is watching
        pm.execute_notebook(str(notebook), str(target), parameters=parameters, kernel_name="python3",
                            progress_bar=_interactive(), cwd=str(out))
    finally:
        if before is None:
            os.environ.pop(PROGRESS_ENV, None)
        if target.exists():
            _to_html(target)
    return target


def _interactive() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _step(message: str) -> None:
    """One progress line on stderr (stdout stays for results)."""
    print(message, file=sys.stderr, flush=True)


def _dated(out: Path) -> Path:
    """``out/YYYY-MM-DD``; a second run the same day gets ``out/YYYY-MM-DD_HHMMSS``."""
    now = datetime.now()
    day = out / now.strftime("%Y-%m-%d")
    return day if not day.exists() else out / now.strftime("%Y-%m-%d_%H%M%S")


def _failure_message(exc: BaseException) -> str:
    """A readable one-paragraph message: the failing cell and its error, without the traceback."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        cell = getattr(exc, "exec_count", None) or getattr(exc, "cell_index", None)
        where = f"cell {cell}" if cell is not None else "a cell"
        return f"{where} raised {ename}: {evalue}"
    return f"{type(exc).__name__}: {exc}"


def _to_html(notebook: Path) -> Path:
    nbformat = require("nbformat", "notebooks", "Writing HTML reports")
    nbconvert = require("nbconvert", "notebooks", "Writing HTML reports")
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(str(notebook), as_version=4))
    html_path = notebook.with_suffix(".html")
    html_path.write_text(body, encoding="utf-8")
    return html_path


class _Busy(Exception):
    """Another live run holds the output folder's lock."""


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (unknown on Windows: assumed alive)."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@contextlib.contextmanager
def _output_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.impactlab.lock`` while a run writes into ``out``; removed on exit, also on error.

    A lock whose process is no longer running on this machine (a run that was killed) is stale: it is
    replaced, with a note on standard error.
    """
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK_NAME
    record = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.now(UTC).isoformat(timespec="seconds")}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(lock.read_text(encoding="utf-8"))
                pid, host = int(holder["pid"]), str(holder["host"])
            except (OSError, ValueError, KeyError, TypeError):
                holder, pid, host = {}, -1, ""  # being written this instant, or not ours: leave it alone
            if host == record["host"] and pid > 0 and not _alive(pid):
                _step(f"removing a stale lock left by process {pid} (started {holder.get('started')}), "
                      "which is no longer running")
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            who = (f"process {pid} on {host}, started {holder.get('started')}" if pid > 0
                   else "another process")
            raise _Busy(f"another impactlab run ({who}) is writing into {out}; wait for it to finish or "
                        f"choose another --out. If no run is going on, delete {lock}.") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        break
    else:  # pragma: no cover - a stale lock re-created between two attempts
        raise _Busy(f"could not take the lock {lock}; try again")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # so that a terminated run releases its lock and writes its manifest


def _locked(out: Path, run: Any) -> int:
    """``run()`` under the output folder's lock; a busy folder exits 1 without running anything."""
    handler = None
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
        handler = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        with _output_lock(out):
            return int(run())
    except _Busy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if handler is not None:
            signal.signal(signal.SIGTERM, handler)


def _earlier_results(out: Path) -> list[str]:
    """Names of what ``out`` holds besides our lock, sorted (the first few)."""
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir() if p.name != LOCK_NAME)


def _cmd_demo(args: argparse.Namespace) -> int:
    nb = _find(f"notebooks/{FLAGSHIP}")
    if nb is None:
        print(f"error: notebooks/{FLAGSHIP} not found; run from the impactlab source folder.",
              file=sys.stderr)
        return 2
    out = Path(args.out).resolve()

    def run() -> int:  # the demo folder is the demo's own: a new demo replaces the last one
        data = _find("data/sample")
        if data is None:
            from impactlab.datasets import simulate_org

            data = out / "sample-data"
            simulate_org(n_employees=2000, n_periods=24, seed=7).to_csv(data)
        return _execute(nb, out, {"data_dir": str(data.resolve()), "output_dir": str(out)})

    return _locked(out, run)


#: Parameter names whose values are paths (besides values that name an existing file or folder).
PATH_SUFFIXES = ("_dir", "_file", "_path", "_folder")


def _is_path_name(name: str) -> bool:
    return name.endswith(PATH_SUFFIXES) or name in ("path", "file", "folder")


def _exists(text: str) -> bool:
    try:
        return Path(text).expanduser().exists()
    except (OSError, ValueError):  # not a path at all (too long, a NUL byte...)
        return False


def _parameters(nb: Path, given: list[list[str]], out: Path) -> dict[str, Any]:
    """The parameters to inject: those given with ``-p`` (checked against the notebook's parameters
    cell, relative paths made absolute against the directory the command was started in), ``output_dir``
    set to ``--out`` and relative path defaults of the notebook made absolute against its own folder.

    Raises ``ValueError`` naming the unknown parameters and the known ones.
    """
    pm = require("papermill", "notebooks", "Running notebooks")
    known = pm.inspect_notebook(str(nb))
    unknown = [name for name, _ in given if name not in known]
    if unknown:
        listed = ", ".join(known) if known else "none: it has no cell tagged 'parameters'"
        raise ValueError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for "
                         f"{nb.name}; its parameters are: {listed}.")
    params: dict[str, Any] = {}
    for name, text in given:
        value = _value(text)
        if isinstance(value, str) and value and (_is_path_name(name) or _exists(value)):
            value = os.path.abspath(os.path.expanduser(value))  # the kernel runs in --out, not here
        params[name] = value
    if "output_dir" in known:
        params.setdefault("output_dir", str(out))
    for name, info in known.items():
        if name in params or not _is_path_name(name):
            continue
        default = _value(str(info.get("default", "")))
        if isinstance(default, str) and default and not Path(default).expanduser().is_absolute():
            params[name] = os.path.normpath(nb.resolve().parent / default)
    return params


def _cmd_run(args: argparse.Namespace) -> int:
    nb = Path(args.notebook)
    if not nb.exists():
        print(f"error: notebook {nb} not found.", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out).resolve()
    if args.dated:
        out = _dated(out)
    try:
        params = _parameters(nb, args.parameter or [], out)
    except ImpactlabError as exc:  # papermill is not installed
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - an unknown parameter, or a file that is not a notebook
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def run() -> int:
        earlier = _earlier_results(out)
        if earlier and not args.force:
            shown = ", ".join(earlier[:3]) + (", ..." if len(earlier) > 3 else "")
            print(f"error: {out} already holds earlier results ({len(earlier)} entries: {shown}); pass "
                  "--force to write over them, or give a new folder (--dated makes one per run).",
                  file=sys.stderr)
            return EXIT_USAGE
        return _execute(nb, out, params)

    return _locked(out, run)


def _execute(nb: Path, out: Path, params: dict[str, Any]) -> int:
    from impactlab.report import run_manifest, write_summary

    print(f"Running {nb.name} with {params} -> {out}")
    before = _files(out)  # with --force: only what this run writes is listed as its outputs
    started, t0 = datetime.now(UTC), time.perf_counter()
    status, error, code = "ok", None, EXIT_OK
    _step(f"[1/2] executing {nb.name} (papermill)")
    try:
        target = run_notebook(nb, out, params)
    except KeyboardInterrupt:
        status, error, code = "failed", "interrupted", EXIT_INTERRUPTED
    except ImpactlabError as exc:
        status, error, code = "failed", str(exc), EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - any cell error: papermill's error names the failing cell
        status, error, code = "failed", _failure_message(exc), EXIT_FAILED
    seconds = time.perf_counter() - t0
    _step(f"[2/2] writing run_manifest.json ({seconds:.1f} s)")
    outputs = [name for name, stamp in _files(out).items() if before.get(name) != stamp]
    manifest = run_manifest(notebook=nb, parameters=params, started=started,
                            finished=datetime.now(UTC), status=status,
                            outputs=outputs + ["run_manifest.json"], error=error,
                            timings={"execute_notebook": round(seconds, 3)})
    write_summary(manifest, out / "run_manifest.json")
    if status != "ok":
        print(f"error: the notebook {nb.name} failed: {error}\nThe executed copy (with the error) and "
              f"run_manifest.json are kept in {out}.", file=sys.stderr)
        return code
    print(f"Wrote {target} and {target.with_suffix('.html').name}; outputs in {out}")
    return EXIT_OK


def _files(out: Path) -> dict[str, tuple[int, int]]:
    """Files under ``out`` (our lock left out) with their modification time and size."""
    if not out.exists():
        return {}
    found = {}
    for p in out.rglob("*"):
        if p.is_file() and p.name != LOCK_NAME:
            st = p.stat()
            found[p.relative_to(out).as_posix()] = (st.st_mtime_ns, st.st_size)
    return found


def _cmd_simulate(args: argparse.Namespace) -> int:
    from impactlab.datasets import simulate_org

    org = simulate_org(n_employees=args.employees, n_periods=args.periods, seed=args.seed)
    paths = org.to_csv(args.out)
    print(f"Wrote {len(paths)} files to {args.out}; true overall effect {org.truth.overall:.4f}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    import impactlab.io as io_

    path = Path(args.file)
    if not path.exists():
        print(f"error: file {path} not found.", file=sys.stderr)
        return EXIT_USAGE
    if args.rejected and Path(args.rejected).suffix.lower() not in (".csv", ".tsv", ".txt", ".xlsx"):
        print(f"error: --rejected {args.rejected} must name a .csv, .tsv or .xlsx file.", file=sys.stderr)
        return EXIT_USAGE
    preset = None if args.preset in (None, "none") else args.preset
    reader = getattr(io_, READERS[args.kind])
    kwargs: dict[str, Any] = {"preset": preset, "errors": "quarantine"}
    if args.kind == "kpis":
        kwargs.update(unit=args.unit, time=args.time)
    try:
        kwargs.update(_reading_options(args, reader))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _step(f"reading {path.name} as {args.kind}" + (f" (preset {preset})" if preset else ""))
    try:
        table = reader(path, **kwargs)
    except ValueError as exc:  # a bad option (e.g. an unknown preset) or a file that cannot be read at all
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if "parameter must be one of" in str(exc) else EXIT_FAILED
    except ImpactlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(table.summary())
    if args.rejected:
        from impactlab.io.export import write_table

        target = write_table(table.rejected, args.rejected)  # cells that would run as formulas are escaped
        print(f"Wrote the {len(table.rejected)} rejection row(s) to {target}")
    if args.strict and table.n_rejected:
        print(f"error: {table.n_rejected} of {table.rows_read} rows would be rejected (--strict).",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


#: validate's reading options: (option, the readers' parameter).
_READING = (("--columns", "columns"), ("--dayfirst", "dayfirst"), ("--sheet", "sheet"),
            ("--layout", "layout"), ("--metric", "metric"), ("--fiscal-year-start", "fiscal_year_start"),
            ("--program", "program"), ("--category", "categories"))


def _pairs(items: list[str], form: str, example: str) -> dict[str, str]:
    """``NAME=VALUE`` items of a repeatable option as a mapping; ``ValueError`` naming ``form`` (``--option
    NAME=VALUE``) with ``example`` for a malformed one."""
    option, shape = form.split(" ")
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"{option} takes {shape}, e.g. {option} \"{example}\"; got {item!r}")
        mapping[name.strip()] = value.strip()
    return mapping


def _reading_options(args: argparse.Namespace, reader: Any) -> dict[str, Any]:
    """The reading options given on the command line, as the reader's keyword arguments; ``ValueError``
    for a malformed ``--columns`` or an option the reader does not take."""
    import inspect

    given: dict[str, Any] = {}
    if args.columns:
        given["columns"] = _pairs(args.columns, "--columns HEADER=COLUMN", "Employee Number=employee_id")
    if args.dayfirst is not None:
        given["dayfirst"] = args.dayfirst
    if args.sheet is not None:
        given["sheet"] = int(args.sheet) if args.sheet.isdigit() else args.sheet
    for name in ("layout", "metric"):
        if getattr(args, name) is not None:
            given[name] = getattr(args, name)
    if args.fiscal_year_start is not None:
        fy = args.fiscal_year_start
        given["fiscal_year_start"] = int(fy) if fy.isdigit() else fy
    if args.program is not None:
        given["program"] = args.program
    if args.category:
        given["categories"] = _pairs(args.category, "--category ITEM=CATEGORY", "Trainer fees=delivery")
    takes = inspect.signature(reader).parameters
    for option, name in _READING:
        if name in given and name not in takes:
            raise ValueError(f"{option} does not apply to --kind {args.kind} ({reader.__name__} has no "
                             f"{name}=)")
    return given


_EPILOG = ("Exit codes: 0 success; 1 the run failed (the executed notebook and run_manifest.json are kept), "
           "another run is writing into the output folder, or validate --strict found rejected rows; 2 wrong "
           "usage (an unknown -p name, an output folder with earlier results without --force) or a missing "
           "file; 130 interrupted.")


def _command(sub: Any, name: str, help_: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=description,
                                                     epilog=_EPILOG)
    return parser


def build_parser() -> argparse.ArgumentParser:
    from impactlab import __version__

    parser = argparse.ArgumentParser(prog="impactlab", description=__doc__.splitlines()[0], epilog=_EPILOG)
    parser.add_argument("--version", action="version", version=f"impactlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = _command(sub, "demo", "run the flagship notebook on the sample data",
                 "Run notebooks/impact_analysis.ipynb on data/sample (simulated when absent) and write the "
                 "executed notebook, HTML, charts, deck, impact_summary.json and run_manifest.json.")
    p.add_argument("--out", default="reports/demo", help="output folder (default: reports/demo)")
    p.set_defaults(func=_cmd_demo)
    p = _command(sub, "run", "run a notebook with papermill parameters",
                 "Execute NOTEBOOK with papermill into --out, with an HTML copy and run_manifest.json. A "
                 "failing cell exits 1 and keeps the executed notebook.")
    p.add_argument("notebook", help="path to the .ipynb file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--dated", action="store_true",
                   help="write into OUT/YYYY-MM-DD (a scheduled run's dated report folder)")
    p.add_argument("--force", action="store_true",
                   help="write into an --out folder that holds earlier results (refused otherwise)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="notebook parameter (repeatable), one of the notebook's parameters cell; values are "
                        "Python literals or strings; relative paths are taken from the current directory")
    p.set_defaults(func=_cmd_run)
    p = _command(sub, "simulate", "write a simulated organisation as CSV files",
                 "Write completions, roster, KPIs, costs... of a synthetic organisation with known true "
                 "effects (truth.json).")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--employees", type=int, default=2000)
    p.add_argument("--periods", type=int, default=24)
    p.set_defaults(func=_cmd_simulate)
    p = _command(sub, "validate", "report which rows of an export would be kept and rejected",
                 "Read FILE as a table of KIND with the reader's checks and print rows read, kept, rejected "
                 "and the main reasons. Nothing is written unless --rejected is given.")
    p.add_argument("file", help="CSV, TSV, xlsx or Parquet export")
    p.add_argument("--kind", choices=tuple(READERS), default="completions",
                   help="table kind (default: completions)")
    p.add_argument("--preset", default=None,
                   help="LMS vendor layout accepted by the readers' preset= (default: none)")
    p.add_argument("--columns", action="append", metavar="HEADER=COLUMN",
                   help="map a header of the file onto a canonical column, as the readers' columns= "
                        "(repeatable), e.g. --columns \"Employee Number=employee_id\"")
    p.add_argument("--dayfirst", action=argparse.BooleanOptionalAction, default=None,
                   help="dates are day/month/year (--no-dayfirst: month/day/year); default: settled from the "
                        "data, or the reader asks")
    p.add_argument("--sheet", default=None, help="xlsx sheet name or 0-based position (default: the first "
                                                  "sheet holding the table)")
    p.add_argument("--unit", default="employee_id", help="kpis only: unit column (default: employee_id)")
    p.add_argument("--time", default="month", help="kpis only: period column (default: month)")
    p.add_argument("--layout", choices=("auto", "long", "wide"), default=None,
                   help="kpis only: one row per unit and period (long) or one column per period (wide); "
                        "default: detected")
    p.add_argument("--metric", default=None, help="kpis only, wide layout: name of the metric the cells hold")
    p.add_argument("--fiscal-year-start", default=None, metavar="MONTH",
                   help="kpis only: month the fiscal year starts in (4 or April), to read 'FY24 P01' labels")
    p.add_argument("--program", default=None,
                   help="costs only: the programme a single-programme cost sheet (no program column) is for")
    p.add_argument("--category", action="append", metavar="ITEM=CATEGORY",
                   help="costs only: map one of the sheet's cost items to a Phillips category (repeatable), "
                        "e.g. --category \"Trainer fees=delivery\"")
    p.add_argument("--rejected", metavar="FILE",
                   help="write the rejected rows with their reasons to FILE (.csv, .tsv or .xlsx); cells a "
                        "spreadsheet would run as formulas get a leading apostrophe")
    p.add_argument("--strict", action="store_true", help="exit 1 when any row would be rejected")
    p.set_defaults(func=_cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``impactlab`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
