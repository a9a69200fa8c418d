"""Agreement checks and the Markdown table of ``RESULTS.md``.

Agreement: for each quantity both tools report (ATT(g, t) matched on cohort and period, event-study
effects matched on event time, the overall number), the largest absolute difference divided by the largest
absolute value impactlab reports for that quantity (a norm-relative difference, so that pre-period ATTs
near zero do not blow it up). Estimates are held to ``TOL`` (1e-8). Standard errors are shown the same way:
with analytic influence-function standard errors they agree to the same precision; bootstrap standard
errors differ by Monte-Carlo noise (different random draws), and TWFE standard errors by the small-sample
factor each library applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

TOL = 1e-8


def _keyed(rows: Sequence[Sequence[float]], nkey: int) -> dict[tuple[float, ...], tuple[float, float]]:
    return {tuple(round(float(v), 6) for v in r[:nkey]): (float(r[nkey]), float(r[nkey + 1])) for r in rows}


def _rel(pairs: list[tuple[float, float]]) -> float:
    """max |a - b| / max |a| over finite pairs (a: impactlab)."""
    pairs = [(a, b) for a, b in pairs if a == a and b == b]
    if not pairs:
        return float("nan")
    scale = max(max(abs(a) for a, _ in pairs), 1e-300)
    return max(abs(a - b) for a, b in pairs) / scale


def agreement(il: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    """Largest relative differences of estimates and standard errors between impactlab and a peer."""
    est: list[tuple[float, float]] = []
    se: list[tuple[float, float]] = []
    what, missing = [], 0
    for name, nkey, label in (("att_gt", 2, "ATT(g,t)"), ("dynamic", 1, "event times"),
                              ("overall", 0, "overall")):
        if name not in il or name not in peer:
            continue
        if nkey:
            a, b = _keyed(il[name], nkey), _keyed(peer[name], nkey)
        else:
            a, b = {(): tuple(il[name])}, {(): tuple(peer[name])}
        common = sorted(set(a) & set(b))
        missing += len(set(a) ^ set(b))
        e = [(a[k][0], b[k][0]) for k in common]
        s = [(a[k][1], b[k][1]) for k in common]
        est += e
        se += s
        what.append(f"{label}{f' ({len(common)})' if nkey else ''} {_sci(_rel(e))} / {_sci(_rel(s))}")
    return {"est": _rel(est), "se": _rel(se), "what": "; ".join(what), "unmatched": missing}


def _fmt(x: float | None, spec: str) -> str:
    return "–" if x is None or x != x else format(x, spec)


def _sci(x: float) -> str:
    if x != x:
        return "–"
    mark = "" if x <= TOL else " ✗"
    return ("0" if x == 0 else f"{x:.0e}") + mark


def table(records: Sequence[Any], env: dict[str, Any], workloads: Sequence[Any]) -> tuple[str, list[str]]:
    """The Markdown table and the target checks."""
    by = {(r.workload, r.tool): r for r in records}
    lines = ["| workload | size | tool | status | estimation (s) | process (s) | peak RSS (GB) | "
             "impactlab faster (×) | peer / impactlab memory | max rel. diff estimates | "
             "max rel. diff std. errors | by quantity (estimates / std. errors) |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    checks: list[str] = []
    for w in workloads:
        n, T = env["sizes"][w.size]
        il = by.get((w.name, "impactlab"))
        for tool in w.tools:
            r = by.get((w.name, tool))
            if r is None:
                continue
            speed = mem = est = se = "–"
            what = ""
            if tool != "impactlab" and il is not None and il.status == "ok" and r.status == "ok":
                speed = _fmt(r.seconds / il.seconds if il.seconds else None, ".1f")
                mem = _fmt(r.peak_mb / il.peak_mb if il.peak_mb else None, ".1f")
                ag = agreement(il.estimates, r.estimates)
                est, se = _sci(ag["est"]), _sci(ag["se"])
                what = ag["what"] + (f"; {ag['unmatched']} unmatched" if ag["unmatched"] else "")
            status = r.status if r.status == "ok" else f"**{r.status}**: {r.error[:120]}"
            peak = _fmt(r.peak_mb / 1024 if r.peak_mb else None, ".2f")
            lines.append(f"| {w.title} | {n:,} × {T} | {tool} | {status} | {_fmt(r.seconds, '.2f')} | "
                         f"{_fmt(r.wall, '.1f')} | {peak} | {speed} | {mem} | {est} | {se} | {what} |")
    checks += _targets(by)
    return "\n".join(lines), checks


def _ratio(by: dict, workload: str, peer: str) -> float | None:
    il, p = by.get((workload, "impactlab")), by.get((workload, peer))
    if il is None or p is None or il.status != "ok" or p.status != "ok" or not il.seconds:
        return None
    return p.seconds / il.seconds


def _targets(by: dict) -> list[str]:
    out = []

    def line(label: str, value: float | None, goal: float, unit: str = "×", less: bool = False) -> None:
        if value is None:
            out.append(f"- {label}: not measured")
            return
        ok = value < goal if less else value >= goal
        out.append(f"- {label}: {value:.2f}{unit} (target {'<' if less else '≥'} {goal:g}{unit}) "
                   f"{'met' if ok else '**not met**'}")

    line("CS 1M × 10, impactlab vs diff-diff", _ratio(by, "cs_nocov_large", "diff-diff"), 5)
    line("CS 1M × 10, impactlab vs csdid", _ratio(by, "cs_nocov_large", "csdid"), 20)
    il = by.get(("cs_nocov_large", "impactlab"))
    line("CS 1M × 10, impactlab peak memory", il.peak_mb / 1024 if il and il.peak_mb else None, 1.5,
         " GB", less=True)
    line("TWFE 10M rows, impactlab vs pyfixest", _ratio(by, "twfe_large", "pyfixest"), 4)
    sa = by.get(("sun_abraham_large", "impactlab"))
    if sa is not None and sa.status == "unavailable":
        out.append("- Sun–Abraham 1M × 10: not yet available (il.sun_abraham is not in the package yet)")
    else:
        line("Sun–Abraham 1M × 10, impactlab vs diff-diff", _ratio(by, "sun_abraham_large", "diff-diff"), 10)
        line("Sun–Abraham 1M × 10, impactlab peak memory",
             sa.peak_mb / 1024 if sa and sa.peak_mb else None, 3, " GB", less=True)
    return out


def write_results(path: Path, records: Sequence[Any], env: dict[str, Any], workloads: Sequence[Any], *,
                  begin: str, end: str) -> None:
    """Replace the runner's section of ``path`` (between the markers), keeping everything else."""
    tab, checks = table(records, env, workloads)
    pb = [r for r in records if r.workload == "panel_build"]
    heading = "## impactlab vs peers (benchmarks/run.py)"
    body = [begin, "",
            f"Mode `{env['mode']}`; Python {env['python']} on {env['machine']} with {env['cpus']} CPUs; each "
            f"tool in its own process, timeout {env['timeout_s']:.0f} s, "
            f"memory cap {env['mem_cap_gb']:g} GB. "
            "*Estimation* is timed inside the process after the Parquet file is read (it includes each "
            "tool's own data preparation, e.g. `Panel.from_frame`); *process* is the wall time of the "
            "whole process (interpreter start, imports, reading the data); *peak RSS* is the process's "
            "peak resident memory, data included. Ratios are peer / impactlab from this run. Differences "
            f"are norm-relative (see `benchmarks/report.py`); ✗ marks a value above {TOL:g}.", "",
            tab, "", "### Targets of issue 8", "", *checks, ""]
    if pb:
        r = pb[0]
        body += [f"Panel building (`benchmarks/panel_build.py`, its own section in this file): {r.status}, "
                 f"{r.wall:.1f} s wall, peak {(r.peak_mb or 0) / 1024:.2f} GB"
                 + (f" ({r.error[:200]})" if r.error else ""), ""]
    body.append(end)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    # the markers follow the heading, so that other scripts that replace "## ..." sections keep them
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + "\n".join(body) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + heading + "\n" + "\n".join(body) + "\n"
    path.write_text(text, encoding="utf-8")
