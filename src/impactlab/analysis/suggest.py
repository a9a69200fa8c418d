"""The designs :func:`impactlab.evaluate` suggests when it sees the data call for them, and the checks
that say when its own interval or reading is at risk there.

* **A pilot** — training reached only a few of the panel's clusters (teams), all starting together, with
  many untrained ones: synthetic difference-in-differences on the teams. With so few trained clusters,
  clustered standard errors are far too small (MacKinnon & Webb 2017, 2018: few *treated* clusters break
  cluster-robust and wild-bootstrap inference alike), which the ``trained clusters`` check says.
* **Several programmes** — the trained employees took other programmes more often than the others, in
  the panel's months (``panel.meta["other_programs"]``, recorded by :func:`impactlab.build_panel`): the
  programmes evaluated together, :func:`impactlab.portfolio`. Evaluated alone, a programme is credited with
  part of the others' effects, which the ``other programmes`` check says.

* **Hours that vary** — the panel carries a dose built by ``build_panel(dose=["hours"])`` (or
  ``"attempts"``) whose values differ among the trained: the effect by dose, :func:`impactlab.dose_response`,
  besides evaluate's average (which stays valid: no check is added). Suggested only where the call runs on
  the panel (enough distinct doses per cohort for its spline). On the simulator's organisations with hours
  drawn from 4 to 24 its interval held its estimand in 44 of 49 (docs/validation.md, "Dose response on the
  simulator's organisations").

Every suggestion was measured on simulated organisations before it is made (docs/validation.md,
"evaluate suggests a design"): the situation is detected there and not on ``simulate_org``'s defaults,
and the suggested estimator's interval held the truth. The numbers quoted below come from that study.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd

from impactlab.errors import EstimationError, PanelError
from impactlab.panel import Panel
from impactlab.results.evaluation import CHECK_COLUMNS
from impactlab.results.suggestion import Suggestion

__all__ = ["MIN_OVERLAP", "OVERLAP_GAP", "PILOT_CLUSTERS", "Advice", "advise", "overlapping_programs",
           "trained_clusters"]

#: At most this many clusters holding trained employees make a pilot (MacKinnon & Webb 2018 find
#: cluster-robust intervals unreliable with a handful of treated clusters, whatever the total).
PILOT_CLUSTERS = 5
#: Another programme overlaps when the share of the trained employees who also completed it, within the
#: panel's periods, exceeds the share of the others who did by this much (simulate_org's background courses,
#: taken at random, differ by under 1 point; its several programmes, taken by the same keen employees, by
#: over 30), and at least ``MIN_OVERLAP`` trained employees took it.
OVERLAP_GAP = 0.10
MIN_OVERLAP = 10

#: What the study measured (docs/validation.md, "evaluate suggests a design"), quoted in the suggestions.
PILOT_EVIDENCE = ("On 50 simulated pilots of 3 teams among 50, its 95 % interval held the pilot teams' true "
                  "effect 45 times; this evaluation's interval held the effect per trained employee 34 "
                  "times.")
DOSE_EVIDENCE = ("On 49 simulated organisations whose trained employees took 4 to 24 hours, with gains in "
                 "proportion, its 95 % interval for the effect averaged over the hours held the truth 44 "
                 "times and its band held the whole curve by hours 42 times.")
#: Doses :func:`impactlab.build_panel` can add, in the order they are looked for.
DOSE_COLUMNS = ("hours", "attempts")
PORTFOLIO_EVIDENCE = ("On 40 simulated organisations running three programmes taken by the same employees, "
                      "the programmes evaluated together held each one's true effect 36, 37 and 40 times in "
                      "40; each evaluated on its own, as here, 33, 18 and 4 times (a programme with no "
                      "effect was credited with the others' gains).")


@dataclass(frozen=True)
class Advice:
    """What :func:`advise` found: the suggestions, and check rows to add."""

    suggestions: tuple[Suggestion, ...]
    checks: tuple[dict[str, str], ...]


def _row(check: str, status: str, seen: str, meaning: str, what_to_do: str = "") -> dict[str, str]:
    return dict(zip(CHECK_COLUMNS, (check, status, seen, meaning, what_to_do), strict=True))


def advise(panel: Panel, *, wild: bool, anticipation: int = 0) -> Advice:
    """The designs the panel calls for and the checks that go with them.

    Parameters
    ----------
    panel : Panel
        The panel :func:`impactlab.evaluate` estimated on.
    wild : bool
        Whether evaluate's headline interval came from the wild cluster bootstrap (fewer than 40 clusters)
        rather than from clustered standard errors.
    anticipation : int
        The anticipation window evaluate set (the dip): the suggested portfolio call leaves it out too.
    """
    suggestions: list[Suggestion] = []
    checks: list[dict[str, str]] = []
    pilot = _pilot(panel, wild)
    if pilot is not None:
        row, suggestion = pilot
        checks.append(row)
        if suggestion is not None:
            suggestions.append(suggestion)
    programs = _programs(panel, anticipation)
    if programs is not None:
        row, suggestion = programs
        checks.append(row)
        suggestions.append(suggestion)
    dose = _dose(panel, anticipation)
    if dose is not None:
        suggestions.append(dose)
    return Advice(suggestions=tuple(suggestions), checks=tuple(checks))


# ------------------------------------------------------------------------------------------ a pilot
def _plural(name: str) -> str:
    """How prose names the values of a cluster column: ``team`` -> teams, ``store_id`` -> 'store_id'
    values."""
    if name.isalpha():
        return name if name.endswith("s") else f"{name}s"
    return f"{name!r} values"


def trained_clusters(panel: Panel) -> tuple[pd.Series, int] | None:
    """The start period of each cluster holding trained employees (its earliest cohort) and the number of
    clusters; ``None`` when the panel has no cluster column (each employee is its own cluster)."""
    if panel.cluster is None:
        return None
    long = panel.long()
    cohorts = long.loc[long["cohort_period"] > 0, ["cluster", "cohort"]]
    starts = cohorts.groupby("cluster", observed=True)["cohort"].min()
    return starts, int(long["cluster"].nunique())


def _pilot(panel: Panel, wild: bool) -> tuple[dict[str, str], Suggestion | None] | None:
    found = trained_clusters(panel)
    if found is None:
        return None
    starts, n_clusters = found
    k = len(starts)
    if not 0 < k <= PILOT_CLUSTERS or n_clusters - k < 2 * k:
        return None
    name = str(panel.cluster)
    many = _plural(name)
    long = panel.long()
    n_trained = int(long.loc[long["cohort_period"] > 0, "unit"].nunique())
    when = sorted({str(s) for s in starts})
    seen = (f"{k} of {n_clusters:,} {many} hold the {n_trained:,} trained employees (starting "
            f"{', '.join(when)}); {n_clusters - k:,} hold none")
    suggestion = _synthetic(panel, name, many, k, n_clusters, when)
    other = (f"the suggested design compares them with the {many} that tracked them before training"
             if suggestion is not None else f"the number speaks for those few {many}")
    if wild:
        row = _row("trained clusters", "warn", seen,
                   f"training reached only {k} {many}: the wild cluster bootstrap's interval rests on them "
                   "alone and is very wide (on 20 simulated pilots of 3 teams among 30 it held the truth "
                   "every time, with intervals about four times as wide as the effect), and the effect "
                   f"speaks for those {k} only.", other[0].upper() + other[1:] + ".")
    else:
        row = _row("trained clusters", "warn", seen,
                   f"training reached only {k} {many}: clustered standard errors are far too small "
                   "when so few clusters are trained, so the interval is too narrow (MacKinnon & Webb 2018); "
                   "the estimate itself is not affected.", f"Read the interval as too optimistic; {other}.")
    return row, suggestion


def _synthetic(panel: Panel, name: str, many: str, k: int, n_clusters: int, when: list[str]
               ) -> Suggestion | None:
    """Synthetic DiD on the clusters, when it runs on this panel (one start, periods before it, untrained
    clusters observed throughout)."""
    if len(when) > 1:
        return None   # synthetic DiD needs one start (a staggered roll-out over few teams)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from impactlab.estimators.synthetic import synthetic_did

            synthetic_did(panel, unit=name, n_draws=2, seed=0)
    except (EstimationError, PanelError):
        return None
    reason = (f"Training reached only {k} of {n_clusters:,} {many}, all from {when[0]}: a pilot. "
              f"Comparing those {k} with a weighted set of the {n_clusters - k:,} untrained ones that moved "
              "like them before (synthetic difference-in-differences) answers the pilot's question on its "
              f"own terms; the effect is then on the average outcome of the pilot {many}, their untrained "
              "members included.")
    evidence = PILOT_EVIDENCE
    return Suggestion(function="synthetic_did", reason=reason, call=f"il.synthetic_did(panel, unit={name!r})",
                      evidence=evidence)



# ------------------------------------------------------------------------------------------ programmes
def overlapping_programs(panel: Panel) -> pd.DataFrame:
    """The rows of ``panel.meta["other_programs"]`` (recorded by :func:`impactlab.build_panel`) whose
    programme the trained employees took more often than the others, by ``OVERLAP_GAP`` or more, with at
    least ``MIN_OVERLAP`` of them; empty when the panel has no such record."""
    other = panel.meta.get("other_programs")
    if not isinstance(other, pd.DataFrame) or other.empty:
        return pd.DataFrame(columns=["program", "employees", "also_trained", "share_trained",
                                     "share_untrained"])
    gap = other["share_trained"] - other["share_untrained"]
    return other[(gap >= OVERLAP_GAP) & (other["also_trained"] >= MIN_OVERLAP)].reset_index(drop=True)


def _programs(panel: Panel, anticipation: int) -> tuple[dict[str, str], Suggestion] | None:
    found = overlapping_programs(panel)
    if found.empty:
        return None
    program = panel.meta.get("program", "this programme")
    parts = [f"{r.program}: {r.share_trained:.0%} of the employees trained in {program} completed it, "
             f"{r.share_untrained:.0%} of the others" for r in found.itertuples()]
    seen = "; ".join(parts) + " (within the panel's periods)"
    which = "another programme" if len(found) == 1 else "other programmes"
    row = _row("other programmes", "warn", seen,
               f"the employees trained in {program} took {which} more often than the others, in the same "
               f"months: part of what this evaluation reads as the effect of {program} may be theirs.",
               "Evaluate the programmes together, each with the others taken into account (the suggested "
               "design).")
    titles = [program, *found["program"]]
    options = [f"outcome={panel.outcome!r}"]
    if panel.meta.get("with_roster"):
        options.append("roster=roster")
    if panel.cluster is not None:
        options.append(f"cluster={panel.cluster!r}")
    if anticipation:
        options.append(f"anticipation={anticipation}")
    names = list(found["program"])
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    reason = (f"The employees trained in {program} also took {listed} more often than "
              "the others, in the same months. Evaluating the programmes together, each one's effect "
              "estimated with the others' completions taken into account, separates them"
              + (f"; like this evaluation, it leaves out the {anticipation} period(s) before each "
                 "training where the outcome dipped." if anticipation else "."))
    evidence = PORTFOLIO_EVIDENCE
    call = f"il.portfolio(kpis, completions, programs={titles!r}, {', '.join(options)})"
    return row, Suggestion(function="portfolio", reason=reason, call=call, evidence=evidence)


# ------------------------------------------------------------------------------------------ doses
def _dose(panel: Panel, anticipation: int) -> Suggestion | None:
    """The effect by dose, when the trained employees' dose varies and the design runs on the panel."""
    from impactlab.estimators.dose_response import dose_response

    long = panel._long  # read only
    for name in DOSE_COLUMNS:
        if name not in panel.covariates or name not in long:
            continue
        trained = long.loc[long["cohort_period"].to_numpy() > 0]
        doses = trained.groupby("unit", observed=True)[name].max()
        if doses.nunique() < 4:  # the default cubic spline needs distinct doses
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dose_response(panel, dose=name, anticipation=anticipation, n_draws=None)
        except (EstimationError, PanelError, ValueError):
            continue
        lo, hi = float(doses.min()), float(doses.max())
        reason = (f"The trained employees' {name} vary ({lo:,.4g} to {hi:,.4g}, {doses.nunique():,} "
                  f"different values): the effect by {name} says whether more training does more, "
                  "besides this evaluation's average"
                  + (f"; like it, it leaves out the {anticipation} period(s) before training." if anticipation
                     else "."))
        call = (f"il.dose_response(panel, dose={name!r}"
                + (f", anticipation={anticipation})" if anticipation else ")"))
        return Suggestion(function="dose_response", reason=reason, call=call, evidence=DOSE_EVIDENCE)
    return None
