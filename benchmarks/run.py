"""Benchmark runner: impactlab and its peers side by side, on the same data, in the same run.

Usage (from the repository root; ``make bench`` does the set-up)::

    python benchmarks/run.py                 # the full run (sizes of the issue), writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick         # small sizes, to try things out
    python benchmarks/run.py --only cs_nocov_large,twfe_large --tools impactlab,pyfixest

What it does:

1. generates each data size once (``workloads.make_panel``) and writes it to Parquet in a temporary
   directory;
2. runs every (tool, workload) in its own process (``worker.py``), one after the other, with a wall-clock
   timeout and a memory cap (the process group is killed when its resident memory passes the cap), and
   records the time of the estimation (inside the process, after the data are read), the wall time of the
   whole process and its peak resident memory (``ru_maxrss`` from ``wait4``, or the largest sampled RSS of
   the process tree if larger);
3. compares each peer's numbers with impactlab's (same estimand: ATT(g, t), their simple or event-study
   aggregation, or the TWFE coefficient; matched on keys) and reports the largest relative difference;
4. writes a Markdown section between ``<!-- runner:begin -->`` and ``<!-- runner:end -->`` of the results
   file, leaving the rest of the file (e.g. the panel-building section) as it is, and the raw records as
   JSON next to it.

A peer that fails, times out or passes the memory cap is reported as such in the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import write_results  # noqa: E402
from workloads import SIZES, WORKLOADS, Workload, write_data  # noqa: E402

BEGIN, END = "<!-- runner:begin -->", "<!-- runner:end -->"


@dataclass
class Record:
    """One (tool, workload) run."""

    workload: str
    tool: str
    status: str  # ok | error | timeout | out_of_memory | unavailable | skipped
    seconds: float | None = None
    wall: float | None = None
    peak_mb: float | None = None
    load_mb: float | None = None
    cpu_seconds: float | None = None
    error: str = ""
    estimates: dict[str, Any] = field(default_factory=dict)


def _tree_rss(pid: int) -> float:
    """Resident memory (MB) of a process and its children; 0 when it is gone."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is in the bench extra
        try:
            with open(f"/proc/{pid}/status") as fh:
                line = next(x for x in fh if x.startswith("VmRSS"))
            return int(line.split()[1]) / 1024
        except (OSError, StopIteration):
            return 0.0
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


#: Variables that set the thread count of the BLAS/OpenMP libraries numpy, scipy and the peers use.
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _worker_env(args: argparse.Namespace) -> dict[str, str] | None:
    """Environment of the workers: ``--impactlab-src`` goes first on ``PYTHONPATH``; ``--blas-threads``
    sets the same BLAS thread count for every tool."""
    if not args.impactlab_src and not getattr(args, "blas_threads", None):
        return None
    env = dict(os.environ)
    if args.impactlab_src:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(args.impactlab_src), env.get("PYTHONPATH")) if p)
    if getattr(args, "blas_threads", None):
        env.update({v: str(args.blas_threads) for v in BLAS_THREAD_VARS})
    return env


def run_process(cmd: list[str], *, timeout: float, mem_mb: float, poll: float = 0.05,
                cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[str, float, float, str]:
    """Run ``cmd`` in its own process group under a timeout and a memory cap.

    Returns ``(status, wall_seconds, peak_mb, stderr_tail)`` with status ``ok``, ``error``, ``timeout`` or
    ``out_of_memory``.
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True, cwd=cwd,
                                env=env)
        status, sampled = "ok", 0.0
        try:
            while True:
                pid, code, _ = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    if code != 0 and status == "ok":
                        status = "error"
                    break
                rss = _tree_rss(proc.pid)
                sampled = max(sampled, rss)
                elapsed = time.perf_counter() - start
                if status == "ok" and (rss > mem_mb or elapsed > timeout):
                    status = "out_of_memory" if rss > mem_mb else "timeout"
                    _kill_group(proc.pid)
                time.sleep(poll)
        finally:
            if proc.returncode is None and not pid:  # interrupted: do not leave the worker running
                _kill_group(proc.pid)
        proc.returncode = os.waitstatus_to_exitcode(code)
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
        if status == "error" and os.WIFSIGNALED(code) and os.WTERMSIG(code) == signal.SIGKILL:
            # not killed by this runner: the kernel's out-of-memory killer (the machine ran out first)
            status = "out_of_memory"
            tail = [f"killed by the operating system (SIGKILL, its out-of-memory killer) at about "
                    f"{sampled / 1024:.1f} GB resident"]
    # ru_maxrss is not used: on Linux it includes the runner's own size at the fork
    return status, time.perf_counter() - start, sampled, " | ".join(tail)


def _kill_group(pid: int) -> None:
    """Kill the process group of a worker this runner started (and nothing else)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_one(w: Workload, tool: str, data: Path, workdir: Path, args: argparse.Namespace) -> Record:
    out = workdir / f"{w.name}.{tool}.json"
    cmd = [args.python, str(HERE / "worker.py"), tool, w.task, str(data), str(out),
           "--covariates", ",".join(w.covariates), "--draws", str(w.options.get("draws", 999))]
    status, wall, peak, tail = run_process(cmd, timeout=args.timeout, mem_mb=args.mem_gb * 1024,
                                           env=_worker_env(args))
    rec = Record(w.name, tool, status, wall=wall, peak_mb=peak)
    if status == "ok" and out.exists():
        rep = json.loads(out.read_text())
        rec.status = rep["status"]
        rec.seconds = rep.get("seconds")
        rec.cpu_seconds = rep.get("cpu_seconds")
        rec.load_mb = rep.get("rss_after_load_mb")
        rec.peak_mb = max(rec.peak_mb or 0.0, rep.get("peak_mb") or 0.0)
        rec.error = rep.get("error", "")
        rec.estimates = rep.get("estimates", {})
    elif status == "ok":
        rec.status, rec.error = "error", tail or "no output"
    elif status == "error":
        rec.error = tail
    elif status == "timeout":
        rec.error = f"no result after {args.timeout:.0f} s"
    else:
        rec.error = tail or f"resident memory passed the cap of {args.mem_gb:g} GB"
    return rec


def _impactlab_has(name: str, args: argparse.Namespace) -> bool:
    code = f"import impactlab, sys; sys.exit(0 if hasattr(impactlab, {name!r}) else 1)"
    done = subprocess.run([args.python, "-c", code], capture_output=True, env=_worker_env(args))
    return done.returncode == 0


def run_panel_build(args: argparse.Namespace) -> Record | None:
    """Run issue 4B's ``panel_build.py`` (when present) under the same limits; it writes its own section."""
    script = HERE / "panel_build.py"
    if not script.exists():
        return None
    small = ["--rows", "200000", "--kpi-employees", "2000", "--no-write"]
    cmd = [args.python, str(script)] + (small if args.mode != "full" else [])
    status, wall, peak, tail = run_process(cmd, timeout=args.timeout, mem_mb=args.mem_gb * 1024,
                                           cwd=HERE.parent)
    return Record("panel_build", "impactlab", status, wall=wall, peak_mb=peak,
                  error="" if status == "ok" else tail)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="impactlab vs peers: time, memory and agreement.")
    ap.add_argument("--mode", choices=sorted(SIZES), default="full",
                    help="data sizes: full (the issue's), quick or tiny (smoke test)")
    ap.add_argument("--quick", action="store_const", const="quick", dest="mode", help="same as --mode quick")
    ap.add_argument("--only", default="", help="comma-separated workload names (or prefixes) to run")
    ap.add_argument("--tools", default="", help="comma-separated tools (default: all)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per process (default 900)")
    ap.add_argument("--mem-gb", type=float, default=12.0, help="resident-memory cap per process (default 12)")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="Markdown file to update")
    ap.add_argument("--json", type=Path, default=None, help="raw records (default: next to --out)")
    ap.add_argument("--workdir", type=Path, default=None, help="data directory (default: temp)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the workers")
    ap.add_argument("--impactlab-src", type=Path, default=None,
                    help="a src/ directory to import impactlab from (e.g. a clean export of a commit)")
    ap.add_argument("--no-panel-build", action="store_true", help="skip benchmarks/panel_build.py")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="BLAS/OpenMP threads of every worker (default: the libraries' own choice). On a "
                         "machine shared with other work, threaded BLAS calls can slow down many times over; "
                         "1 makes the tools comparable there")
    return ap.parse_args(argv)


def select(args: argparse.Namespace) -> list[Workload]:
    wanted = [s for s in args.only.split(",") if s]
    return [w for w in WORKLOADS if not wanted or any(w.name.startswith(s) for s in wanted)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workloads = select(args)
    tools = {t for t in args.tools.split(",") if t}
    records: list[Record] = []
    with tempfile.TemporaryDirectory(prefix="impactlab-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        # in a child process, so that the runner stays small (its size would not leak into the workers')
        sizes = sorted({w.size for w in workloads})
        subprocess.run([args.python, str(HERE / "workloads.py"), str(workdir), args.mode, *sizes], check=True)
        paths = write_data(workdir, args.mode, set(sizes))
        print(f"data written in {time.perf_counter() - started:.1f} s: "
              + ", ".join(p.name for p in paths.values()), flush=True)
        has_sa = _impactlab_has("sun_abraham", args)
        for w in workloads:
            for tool in w.tools:
                if tools and tool not in tools:
                    continue
                if w.task == "sun_abraham" and not has_sa:
                    records.append(Record(w.name, tool, "unavailable",
                                          error="il.sun_abraham not yet available; workload not run"))
                    continue
                rec = run_one(w, tool, paths[w.size], workdir, args)
                records.append(rec)
                took = f"{rec.seconds:.2f} s" if rec.seconds is not None else rec.error
                print(f"{w.name:<20} {tool:<13} {rec.status:<13} {took}  peak {rec.peak_mb or 0:.0f} MB",
                      flush=True)
        if not args.no_panel_build and (not args.only or "panel_build" in args.only):
            pb = run_panel_build(args)
            if pb is not None:
                records.append(pb)
    env = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
           "mode": args.mode, "timeout_s": args.timeout, "mem_cap_gb": args.mem_gb,
           "blas_threads": args.blas_threads or "default",
           "sizes": {k: list(v) for k, v in SIZES[args.mode].items()}}
    raw = args.json or args.out.with_suffix(".json")
    raw.write_text(json.dumps({"env": env, "records": [asdict(r) for r in records]}, indent=1))
    write_results(args.out, records, env, workloads, begin=BEGIN, end=END)
    print(f"wrote {args.out} and {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
