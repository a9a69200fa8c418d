"""One protocol for every public result: estimate, std_error, conf_int, tidy, summary, explain, HTML, frozen.

The public result types are discovered (classes exported by the public modules whose name ends in
"Result", and every class a public function of those modules returns), so a new result type fails
:func:`test_every_public_result_is_covered` until it has a case here. Each case builds the result from a
small real fit and says which number its headline must equal.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import typing
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab import kirkpatrick as kp
from impactlab.results.base import TIDY_COLUMNS, Result

MODULES = ("impactlab", "impactlab.estimators", "impactlab.roi", "impactlab.kirkpatrick", "impactlab.results")

#: Classes public functions return that are not results (inputs, containers, outputs of other kinds).
NOT_RESULTS = {
    "Table": "a validated input table (readers)",
    "XapiTables": "the tables read from xAPI statements",
    "Panel": "the employee x period panel the estimators take",
    "Costs": "a programme's cost breakdown, an input of roi()",
    "Deck": "a slide deck being built",
    "LRS": "a connection to a learning record store",
    "Result": "the protocol itself",
}


def _returned_classes(fn: Callable[..., Any]) -> set[type]:
    """Classes named in the return annotation of ``fn`` (unions and optionals included)."""
    try:
        ret = typing.get_type_hints(fn).get("return")
    except (NameError, TypeError):  # an annotation that does not resolve at run time: read its names
        text = str(inspect.signature(fn).return_annotation)
        names = [t.strip() for t in text.replace("None", "").split("|") if t.strip()]
        return {fn.__globals__[n] for n in names if isinstance(fn.__globals__.get(n), type)}
    args = typing.get_args(ret) or (ret,)
    return {a for a in args if isinstance(a, type)}


def discover() -> dict[str, type]:
    found: dict[str, type] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr, None)
            if isinstance(obj, type) and attr.endswith("Result"):
                found[obj.__name__] = obj
            elif inspect.isfunction(obj):
                for cls in _returned_classes(obj):
                    if cls.__module__.startswith("impactlab"):
                        found[cls.__name__] = cls
    return {k: v for k, v in found.items() if k not in NOT_RESULTS}


# ------------------------------------------------------------------------------------------ the fits
@pytest.fixture(scope="module")
def org_fits() -> dict[str, Any]:
    org = il.datasets.simulate_org(n_employees=300, n_periods=15, seed=3)
    completions = il.read_completions(org.completions)
    panel = il.build_panel(il.read_kpis(org.kpis, unit="employee_id", time="month"), completions,
                           program=org.program, outcome=org.outcome)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = il.callaway_santanna(panel, control="not_yet_treated")
    simple = cs.aggregate("simple")
    r = il.roi(simple, value_per_unit=0.25, participants=100, horizon=12, costs=20_000, seed=0)
    reaction = kp.reaction(il.read_surveys(org.surveys))
    learning = kp.learning(il.read_assessments(org.assessments))
    behavior = kp.behavior(il.read_observations(org.observations), trained_at=completions)
    return {"org": org, "panel": panel, "cs": cs, "simple": simple, "roi": r, "reaction": reaction,
            "learning": learning, "behavior": behavior}


@pytest.fixture
def fits(org_fits, staggered_frame) -> dict[str, Any]:
    small = il.Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated",
                                covariates=["x1"], cluster="team")
    return {**org_fits, "small": small}


def _self_estimates(f: dict[str, Any]) -> Any:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"improvement": rng.normal(300, 80, 40), "attributed": rng.uniform(0.2, 0.8, 40),
                          "confidence": rng.uniform(0.5, 1.0, 40)})
    return il.self_estimates(frame, effect=f["simple"], participants=50)


def _bacon_sum(r: Any, f: dict[str, Any]) -> float:
    """The TWFE coefficient as the weighted sum of its 2x2 comparisons (Goodman-Bacon 2021)."""
    c = il.bacon_decomposition(f["small"]).comparisons
    return float((c["weight"] * c["estimate"]).sum())


def _last_applying(b: Any, f: dict[str, Any]) -> float:
    t = b.by_checkpoint
    w = t[(t["program"] == t["program"].iloc[0]) & (t["n"] > 0)]
    checkpoints = w[w["wave"] != "baseline"]
    return float((checkpoints if len(checkpoints) else w)["applying"].iloc[-1])


def _dose_panel(f: dict[str, Any]) -> Any:
    long = f["small"].long()
    long["hours"] = np.where(long["cohort_period"] > 0, long["unit"] % 4 + 1.0, 0.0)
    return il.Panel.from_frame(long, unit="unit", time="time", outcome="outcome", cohort="cohort",
                               covariates=["hours"], cluster="cluster")


def _pilot_panel(f: dict[str, Any]) -> Any:
    """Three of twelve teams piloted from period 7 (effect +2)."""
    rng = np.random.default_rng(2)
    rows = [(u, t, 10 + u % 5 + 0.3 * t + (2.0 if u < 3 and t >= 7 else 0.0) + rng.normal(0, 0.3),
             7 if u < 3 else 0) for u in range(12) for t in range(1, 11)]
    frame = pd.DataFrame(rows, columns=["team", "month", "sales", "pilot"])
    return il.Panel.from_frame(frame, unit="team", time="month", outcome="sales", cohort="pilot")


def _weighted_contrast(r: Any, f: dict[str, Any]) -> float:
    """Synthetic DiD from its exposed weights: (trained - ω-weighted untrained) after training minus the
    same gap λ-weighted before."""
    wide = _pilot_panel(f).data.pivot(index="team", columns="month", values="sales")
    omega = r.unit_weights.set_index("unit")["weight"]
    gap = wide.loc[[0, 1, 2]].mean() - omega @ wide.loc[list(range(3, 12))]
    lam = r.time_weights.set_index("time")["weight"]
    return float(gap.loc[7:].mean() - gap.loc[lam.index] @ lam)


def _portfolio(f: dict[str, Any]) -> Any:
    """Two programmes of one simulated organisation, evaluated together."""
    org = il.datasets.simulate_org(n_employees=300, n_periods=15, seed=3,
                                   programs={"Negotiation Skills": 0.5})
    return il.portfolio(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                        il.read_completions(org.completions), programs=list(org.truths), outcome=org.outcome,
                        anticipation=2)


def _post_obs_mean(r: Any, f: dict[str, Any]) -> float:
    """The imputation ATT as the observation-weighted mean of its event-time effects from 0 on."""
    post = r.elements[r.elements["event_time"] >= 0]
    return float((post["estimate"] * post["n_obs"]).sum() / post["n_obs"].sum())


def _ddd_panel(f: dict[str, Any]) -> Any:
    """Regions 0 and 1 of four open the programme to eligible employees (odd ids) in period 4."""
    rng = np.random.default_rng(5)
    rows = [(u, t, u % 2, u // 2 % 4, 10 + 0.2 * t + (u // 2 % 4) * 0.1 * t
             + (1.5 if u % 2 and u // 2 % 4 < 2 and t >= 4 else 0.0) + rng.normal(0, 0.5),
             4 if u % 2 and u // 2 % 4 < 2 else 0) for u in range(48) for t in range(1, 7)]
    frame = pd.DataFrame(rows, columns=["id", "month", "eligible", "region", "sales", "trained"])
    return il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                               covariates=["eligible", "region"])


def _ddd_cells(r: Any, f: dict[str, Any]) -> float:
    """The textbook triple difference of the eight cell means (no covariates)."""
    m = r.cells.set_index(["group", "eligible", "period"])["mean"]

    def change(g: str, e: bool) -> float:
        return float(m[(g, e, "after")] - m[(g, e, "before")])

    return change("reached", True) - change("reached", False) - change("other", True) + change("other", False)


# case -> (class name, build(fits), the number the headline must equal)
CASES: dict[str, tuple[str, Callable[[dict[str, Any]], Any], Callable[[Any, dict[str, Any]], float]]] = {
    "effect_twfe": ("EffectResult", lambda f: il.twfe(f["small"]), _bacon_sum),
    "effect_cs_simple": ("EffectResult", lambda f: f["simple"],
                         lambda r, f: f["cs"].aggregate("simple").estimate),
    "event_study": ("EventStudyResult", lambda f: il.event_study(f["small"], window=(-2, 2)),
                    lambda r, f: float(r.elements.loc[r.elements["event_time"] >= 0, "estimate"].mean())),
    "imputation": ("ImputationResult", lambda f: il.imputation(f["small"]), _post_obs_mean),
    "two_stage": ("TwoStageResult", lambda f: il.two_stage(f["small"]), _post_obs_mean),
    "stacked": ("StackedResult", lambda f: il.stacked(f["small"], window=(-2, 1)),
                lambda r, f: float(r.elements.loc[r.elements["event_time"] >= 0, "estimate"].mean())),
    "synthetic_did": ("SyntheticResult", lambda f: il.synthetic_did(_pilot_panel(f), n_draws=20),
                      _weighted_contrast),
    "dose_response": ("DoseResponseResult",
                      lambda f: il.dose_response(_dose_panel(f), dose="hours", degree=1, n_draws=199, seed=1),
                      lambda r, f: il.callaway_santanna(_dose_panel(f)).aggregate("group").estimate),
    "portfolio": ("PortfolioResult", _portfolio, lambda r, f: float(r.programs["estimate"].max())),
    "triple_difference": ("TripleDifferenceResult",
                          lambda f: il.triple_difference(_ddd_panel(f), eligible="eligible", group="region"),
                          _ddd_cells),
    "bacon": ("BaconResult", lambda f: il.bacon_decomposition(f["small"]),
              lambda r, f: il.twfe(f["small"]).estimate),
    "wild_bootstrap": ("WildBootstrapResult", lambda f: il.wild_bootstrap(f["small"], n_draws=199, seed=1),
                       lambda r, f: il.twfe(f["small"]).estimate),
    "callaway_santanna": ("CallawaySantAnnaResult", lambda f: f["cs"],
                          lambda r, f: f["cs"].aggregate("simple").estimate),
    "compare": ("CompareResult", lambda f: il.compare(f["small"]),
                lambda r, f: r.results[r.causal_method].estimate),
    "evaluate": ("Evaluation", lambda f: il.evaluate(f["panel"]),
                 lambda r, f: il.imputation(f["panel"], anticipation=r.anticipation).estimate),
    "roi": ("RoiResult", lambda f: f["roi"], lambda r, f: r.roi_pct),
    "roi_monte_carlo": ("RoiResult",
                        lambda f: il.roi(f["simple"], value_per_unit=(0.2, 0.3), participants=100, horizon=12,
                                         costs=20_000, seed=0),
                        lambda r, f: r.roi_pct),
    "roi_sensitivity": ("RoiSensitivityResult", lambda f: il.roi_sensitivity(f["roi"], f["cs"]),
                        lambda r, f: f["roi"].roi_pct),
    "sensitivity": ("SensitivityResult", lambda f: il.sensitivity(f["cs"]),
                    lambda r, f: f["cs"].aggregate("simple").estimate),
    "power": ("PowerResult", lambda f: il.power(f["small"], effect=1.0), lambda r, f: r.mde),
    "exposure": ("ExposureEffect", lambda f: il.exposure(f["cs"]), lambda r, f: r.total / r.employee_periods),
    "self_estimates": ("SelfEstimateResult", _self_estimates, lambda r, f: r.credited.estimate),
    "reaction": ("ReactionResult", lambda f: f["reaction"], lambda r, f: r.headline()["estimate"]),
    "learning": ("LearningResult", lambda f: f["learning"], lambda r, f: r.summary_table["gain"].iloc[0]),
    "behavior": ("BehaviorResult", lambda f: f["behavior"], _last_applying),
    "chain": ("ChainResult",
              lambda f: kp.chain(reaction=f["reaction"], learning=f["learning"], behavior=f["behavior"],
                                 results=f["simple"], roi=f["roi"]),
              lambda r, f: f["simple"].estimate),
}


def test_every_public_result_is_covered() -> None:
    covered = {cls for cls, _, _ in CASES.values()}
    missing = sorted(set(discover()) - covered)
    assert not missing, (f"public result type(s) {missing} have no case in {__name__}: add one to CASES (or, "
                         "if it is not a result, to NOT_RESULTS with the reason)")


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_result_protocol(case, fits) -> None:
    cls_name, build, headline = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = build(fits)
        expected = float(headline(res, fits))
    assert type(res).__name__ == cls_name
    assert isinstance(res, Result)
    est, se = res.estimate, res.std_error
    assert isinstance(est, float) and isinstance(se, float)
    assert math.isnan(se) or se >= 0
    assert est == pytest.approx(expected, rel=1e-9), "the headline is not the number the class documents"

    for level in (0.95, 0.9):
        tidy = res.tidy(level)
        assert isinstance(tidy, pd.DataFrame) and len(tidy) >= 1
        assert tuple(tidy.columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS
        assert all(isinstance(t, str) for t in tidy["term"])
        first = tidy.iloc[0]
        assert _same(float(first["estimate"]), est) and _same(float(first["std_error"]), se)
        lo, hi = res.conf_int(level)
        assert isinstance(lo, float) and isinstance(hi, float)
        assert _same(float(first["conf_low"]), lo) and _same(float(first["conf_high"]), hi)
    assert list(res.tidy().columns) == list(res.tidy(0.95).columns)

    narrow, wide = res.conf_int(0.9), res.conf_int(0.99)
    if math.isfinite(se) and se > 0 and all(map(math.isfinite, (*narrow, *wide))):
        assert narrow[1] - narrow[0] < wide[1] - wide[0]
        assert wide[0] <= est <= wide[1] or case.startswith("roi")  # a Monte Carlo interval need not hold it

    summary = res.summary()
    assert isinstance(summary, str) and summary.strip()
    for level in (0.95, 0.9):
        explanation = res.explain(level)
        assert str(explanation).strip() and isinstance(explanation._repr_html_(), str)
    html = res._repr_html_()
    assert isinstance(html, str) and html.lstrip().startswith("<")

    assert dataclasses.is_dataclass(res)
    with pytest.raises(AttributeError):
        res.estimate = 0.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        setattr(res, dataclasses.fields(res)[0].name, None)


def test_no_result_keeps_the_old_signatures() -> None:
    """One ``tidy(level=0.95)`` and one ``conf_int(level=0.95)``; ROI's ``interval()`` is gone."""
    for cls in discover().values():
        for method in ("tidy", "conf_int", "explain"):
            params = inspect.signature(getattr(cls, method)).parameters
            assert "level" in params and params["level"].default == 0.95, f"{cls.__name__}.{method}"
    assert not hasattr(il.RoiResult, "interval")
