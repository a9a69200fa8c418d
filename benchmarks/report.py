"""Agreement checks and the Markdown table of ``RESULTS.md``.

Agreement: for each quantity both tools report (ATT(g, t) matched on cohort and period, event-study
effects matched on event time, the overall number), the largest absolute difference divided by the largest
absolute value impactlab reports for that quantity (a norm-relative difference, so that pre-period ATTs
near zero do not blow it up). Estimates and standard errors are held to ``TOL`` (1e-8), with two kinds of
exception, both marked in the table and explained in ``benchmarks/README.md``:

* a peer that computes another estimator (:data:`EXPLAINED`): the difference is shown with ``†`` instead
  of ``✗``;
* bootstrap standard errors, which differ between tools because the random draws do: each tool's bootstrap
  standard error is compared with its *own* analytic standard error (the workload without covariates of
  the same size, same data) in units of the Monte Carlo standard deviation of a bootstrap standard error
  with that many draws (:func:`bootstrap_check`); ``✗`` above :data:`MC_Z`.

Where a peer reports another aggregation of the same estimates, impactlab's adapter reports that
aggregation too (:data:`VIEWS`), so that the same quantity is compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TOL = 1e-8

#: impactlab's numbers that a peer is compared with when they are not its main ones: (task, tool) -> key
#: of impactlab's estimates. diff-diff's and pyfixest's Sun–Abraham treat the cohort shares as known, and
#: diff-diff's overall effect weights the post event times by their numbers of treated observations.
VIEWS: dict[tuple[str, str], str] = {("sun_abraham", "diff-diff"): "known_shares",
                                     ("sun_abraham", "pyfixest"): "known_shares"}

#: Differences above TOL that come from a different estimator: (task, tool, with covariates) -> note.
EXPLAINED: dict[tuple[str, str, bool], str] = {
    (task, "diff-diff", True): "diff-diff's doubly robust ATT divides the comparison-group term by the "
    "number of treated units, R did (impactlab, csdid, differences) by the sum of the odds weights; the gap "
    "shrinks as 1/n (benchmarks/README.md, 'diff-diff with covariates')"
    for task in ("cs", "cs_dynamic", "cs_boot")}
EXPLAINED[("synthetic_control_teams", "diff-diff", False)] = (
    "with more untrained teams than pre-training periods many weightings fit the pilot's pre-training path "
    "exactly, so the synthetic control estimate is not pinned down by the fit: diff-diff's exact "
    "non-negative least squares and impactlab's Frank-Wolfe (R synthdid's stopping rule and ridge) both fit "
    "it (squared error below 1e-6 at the quick size) with different weights (benchmarks/RESULTS.md, "
    "2026-12-06, issue 17)")

#: How a tool turns multiplier-bootstrap draws into a standard error: ``iqr`` (interquartile range over
#: that of the standard normal, R did) or ``sd`` (standard deviation of the draws).
BOOT_SE: dict[str, str] = {"diff-diff": "sd"}

#: Largest |z| of a bootstrap standard error against the analytic one that counts as Monte Carlo noise.
MC_Z = 4.0


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


def mc_sd(method: str, draws: int) -> float:
    """Monte Carlo standard deviation of a bootstrap standard error, relative to the standard error.

    With ``B`` draws that are (close to) normal: for the standard deviation of the draws
    ``1 / sqrt(2 (B - 1))``; for the interquartile range over ``2 z_{0.75}`` (R ``did``), from the
    asymptotic variance of sample quantiles, ``Var(q_.75 - q_.25) = (2 * 0.1875 - 2 * 0.0625) / (B f^2)``
    with ``f = phi(z_.75)``, i.e. ``0.5 / (sqrt(B) f 2 z_.75) = 1.166 / sqrt(B)`` (Serfling 1980, §2.3).
    """
    if method == "sd":
        return 1.0 / math.sqrt(2.0 * (draws - 1))
    z75 = 0.6744897501960817
    f = math.exp(-z75 * z75 / 2.0) / math.sqrt(2.0 * math.pi)
    return 0.5 / (math.sqrt(draws) * f * 2.0 * z75)


def bootstrap_check(boot: dict[str, Any], analytic: dict[str, Any], method: str, draws: int
                    ) -> dict[str, Any]:
    """A tool's bootstrap standard errors against its own analytic ones, in Monte Carlo units.

    ``z = (se_boot / se_analytic - 1) / mc_sd(method, draws)`` for every ATT(g, t) and the overall effect
    both report; returns the number compared, the largest relative gap and the largest ``|z|``.
    """
    rel: list[float] = []
    for name, nkey in (("att_gt", 2), ("dynamic", 1), ("overall", 0)):
        if name not in boot or name not in analytic:
            continue
        a = _keyed(boot[name], nkey) if nkey else {(): tuple(boot[name])}
        b = _keyed(analytic[name], nkey) if nkey else {(): tuple(analytic[name])}
        for k in set(a) & set(b):
            sb, sa = a[k][1], b[k][1]
            if sb == sb and sa == sa and sa > 0:
                rel.append(sb / sa - 1.0)
    sd = mc_sd(method, draws)
    if not rel:
        return {"n": 0, "max_rel": float("nan"), "max_z": float("nan"), "mc_sd": sd}
    worst = max(abs(r) for r in rel)
    return {"n": len(rel), "max_rel": worst, "max_z": worst / sd, "mc_sd": sd}


def _fmt(x: float | None, spec: str) -> str:
    return "–" if x is None or x != x else format(x, spec)


def _sci(x: float, explained: bool = False) -> str:
    if x != x:
        return "–"
    mark = "" if x <= TOL else " †" if explained else " ✗"
    return ("0" if x == 0 else f"{x:.0e}") + mark


def _analytic_reference(w: Any, workloads: Sequence[Any]) -> Any:
    """The workload with analytic standard errors on the same data as a bootstrap workload."""
    return next((v for v in workloads if v.task == "cs" and v.size == w.size
                 and tuple(v.covariates) == tuple(w.covariates)), None)


def table(records: Sequence[Any], env: dict[str, Any], workloads: Sequence[Any]) -> tuple[str, list[str]]:
    """The Markdown table and the target checks."""
    by = {(r.workload, r.tool): r for r in records}
    lines = ["| workload | size | tool | status | estimation (s) | process (s) | peak RSS (GB) | "
             "impactlab faster (×) | peer / impactlab memory | max rel. diff estimates | "
             "max rel. diff std. errors | by quantity (estimates / std. errors) |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    checks: list[str] = []
    tally = {"ok": 0, "explained": 0, "bad": 0}
    notes: dict[str, list[str]] = {}
    for w in workloads:
        n, T = env["sizes"][w.size]
        il = by.get((w.name, "impactlab"))
        ref = _analytic_reference(w, workloads) if w.task == "cs_boot" else None
        for tool in w.tools:
            r = by.get((w.name, tool))
            if r is None:
                continue
            speed = mem = est = se = "–"
            what = ""
            note = EXPLAINED.get((w.task, tool, bool(w.covariates)))
            boot = None
            if ref is not None and r.status == "ok":
                a = by.get((ref.name, tool))
                if a is not None and a.status == "ok":
                    boot = bootstrap_check(r.estimates, a.estimates, BOOT_SE.get(tool, "iqr"),
                                           int(w.options.get("draws", 999)))
            if tool != "impactlab" and il is not None and il.status == "ok" and r.status == "ok":
                speed = _fmt(r.seconds / il.seconds if il.seconds else None, ".1f")
                mem = _fmt(r.peak_mb / il.peak_mb if il.peak_mb else None, ".1f")
                view = VIEWS.get((w.task, tool))
                mine = il.estimates.get(view, il.estimates) if view else il.estimates
                ag = agreement(mine, r.estimates)
                est = _sci(ag["est"], note is not None)
                what = (f"vs impactlab's `{view}`: " if view else "") + ag["what"] \
                    + (f"; {ag['unmatched']} unmatched" if ag["unmatched"] else "")
                if note is not None:
                    what = what.replace(" ✗", " †")
                if w.task == "cs_boot":  # standard errors: against the tool's own analytic ones, below
                    worst = ag["est"]
                    what = f"estimates vs impactlab {est}"
                else:
                    se = _sci(ag["se"], note is not None)
                    worst = max(ag["est"], ag["se"])
                tally["ok" if worst <= TOL else "explained" if note else "bad"] += 1
                if note and worst > TOL:
                    notes.setdefault(note, []).append(f"{w.title} {n:,} × {T}, {tool}")
            if boot is not None:
                z = boot["max_z"]
                se = "–" if z != z else f"z {z:.1f}" + ("" if z <= MC_Z else " ✗")
                what = "; ".join(x for x in (what, (
                    f"bootstrap vs own analytic SE ({ref.name}, {boot['n']}): max |ratio − 1| "
                    f"{boot['max_rel']:.1%}, Monte Carlo sd {boot['mc_sd']:.1%}")) if x)
                tally["ok" if z <= MC_Z else "bad"] += 1
            status = r.status if r.status == "ok" else f"**{r.status}**: {r.error[:120]}"
            peak = _fmt(r.peak_mb / 1024 if r.peak_mb else None, ".2f")
            lines.append(f"| {w.title} | {n:,} × {T} | {tool} | {status} | {_fmt(r.seconds, '.2f')} | "
                         f"{_fmt(r.wall, '.1f')} | {peak} | {speed} | {mem} | {est} | {se} | {what} |")
    if notes:
        lines += [""] + [f"† {'; '.join(where)}: {note}." for note, where in notes.items()]
    checks += _targets(by)
    checks += _issue17(by, workloads, env)
    checks.append(f"- Agreement with the peers (1e-8 relative; bootstrap standard errors within {MC_Z:g} "
                  f"Monte Carlo sd of the tool's analytic ones): {tally['ok']} comparisons agree, "
                  f"{tally['explained']} differ by a documented difference of estimator (†), "
                  f"{tally['bad']} unexplained (✗)")
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
        ratio = _ratio(by, "sun_abraham_large", "diff-diff")
        dd = by.get(("sun_abraham_large", "diff-diff"))
        if ratio is None and sa is not None and sa.status == "ok" and sa.wall and dd is not None \
                and dd.status in ("out_of_memory", "error", "timeout") and dd.wall:
            # the peer never finished: its whole process ran this long without a result, so the whole
            # processes (interpreter, imports, reading, estimation) give a lower bound on the ratio
            bound = dd.wall / sa.wall
            out.append(f"- Sun–Abraham 1M × 10, impactlab vs diff-diff: at least {bound:.1f}× (target ≥ 10×) "
                       f"{'met' if bound >= 10 else '**not measurable**'}: diff-diff's process ended without "
                       f"a result after {dd.wall:.0f} s ({dd.status.replace('_', ' ')}, peak "
                       f"{(dd.peak_mb or 0) / 1024:.1f} GB), impactlab's whole process took {sa.wall:.1f} s")
        else:
            line("Sun–Abraham 1M × 10, impactlab vs diff-diff", ratio, 10)
        small = _ratio(by, "sun_abraham_small", "diff-diff")
        if small is not None:
            out.append(f"- Sun–Abraham 100k × 20 (where diff-diff fits in memory), impactlab vs diff-diff: "
                       f"{small:.1f}×")
        line("Sun–Abraham 1M × 10, impactlab peak memory",
             sa.peak_mb / 1024 if sa and sa.peak_mb else None, 3, " GB", less=True)
    return out


#: Issue 17: each new estimator against its peer at 100k units x 10 periods (workload, peer).
ISSUE17 = tuple((name, "diff-diff") for name in (
    "two_stage_medium", "two_stage_mini", "stacked_medium", "dose_response_medium", "synthetic_did_teams",
    "synthetic_did_units", "synthetic_control_teams", "triple_difference_ddd"))


def _issue17(by: dict, workloads: Sequence[Any], env: dict[str, Any]) -> list[str]:
    """One line per new estimator: the peer's time over impactlab's (at least as fast: ratio >= 1), or why
    there is no ratio."""
    out = []
    names = {w.name: w for w in workloads}
    for name, peer in ISSUE17:
        w, il, p = names.get(name), by.get((name, "impactlab")), by.get((name, peer))
        if w is None or il is None or p is None:
            continue
        n, T = env["sizes"][w.size]
        label = f"{w.title}, {n:,} × {T}, impactlab vs {peer}"
        ratio = _ratio(by, name, peer)
        if ratio is not None:
            out.append(f"- {label}: {ratio:.2f}× (issue 17: at least as fast) "
                       f"{'met' if ratio >= 1 else '**not met** (see the dated section below)'}")
        elif il.status == "ok" and p.status != "ok":
            out.append(f"- {label}: impactlab {il.seconds:.2f} s; {peer} {p.status.replace('_', ' ')} "
                       f"({p.error[:100]})")
        else:
            out.append(f"- {label}: not measured ({il.status} / {p.status})")
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
            f"memory cap {env['mem_cap_gb']:g} GB, BLAS threads {env.get('blas_threads', 'default')} "
            "(the same for every tool). "
            "*Estimation* is timed inside the process after the Parquet file is read (it includes each "
            "tool's own data preparation, e.g. `Panel.from_frame`); *process* is the wall time of the "
            "whole process (interpreter start, imports, reading the data); *peak RSS* is the process's "
            "peak resident memory, data included. Ratios are peer / impactlab from this run. Differences "
            f"are norm-relative (see `benchmarks/report.py`); ✗ marks a value above {TOL:g}, † one that "
            "comes from a documented difference of estimator (note under the table). For the bootstrap "
            "workload the std.-error column is each tool's bootstrap standard errors against its own "
            "analytic "
            "ones (the same data without bootstrap), as the largest |z| in Monte Carlo standard deviations "
            f"(✗ above {MC_Z:g}): the tools draw different random weights. Where a peer aggregates "
            "differently, impactlab's adapter reports that aggregation too and the row names it "
            "(see `benchmarks/README.md`).", "",
            tab, "", "### Targets of issues 8 and 17", "", *checks, ""]
    if pb:
        r = pb[0]
        body += [f"Panel building (`benchmarks/panel_build.py`; each route's time and peak are in its own "
                 f"section of this file): {r.status}, {r.wall:.1f} s wall for the whole script "
                 f"(generating the files and both routes), largest resident size of its process tree "
                 f"{(r.peak_mb or 0) / 1024:.2f} GB"
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
