"""impactlab: did the training programme cause the results, by how much, and was it worth it?

Read L&D data into validated tables, build an employee × period panel, estimate the causal effect of
training beside the naive numbers, and carry it to a Phillips ROI with an honest uncertainty range.

Public names are loaded on first use, so ``import impactlab`` stays light (no plotting or estimation
code is imported until it is needed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors and warnings
    "ImpactlabError": "impactlab.errors",
    "DataError": "impactlab.errors",
    "PanelError": "impactlab.errors",
    "EstimationError": "impactlab.errors",
    "MissingDependencyError": "impactlab.errors",
    "FrozenResultError": "impactlab.errors",
    "DataQualityWarning": "impactlab.errors",
    "StatisticalWarning": "impactlab.errors",
    "SecurityWarning": "impactlab.errors",
    # readers
    "Table": "impactlab.io",
    "read_completions": "impactlab.io",
    "read_assessments": "impactlab.io",
    "read_surveys": "impactlab.io",
    "read_observations": "impactlab.io",
    "read_roster": "impactlab.io",
    "read_kpis": "impactlab.io",
    "read_costs": "impactlab.io",
    "read_xapi": "impactlab.io",
    "XapiTables": "impactlab.io",
    "LRS": "impactlab.io",
    "read_sql": "impactlab.io",
    # panel
    "Panel": "impactlab.panel",
    "build_panel": "impactlab.panel",
    # estimators
    "naive_difference": "impactlab.estimators",
    "pre_post": "impactlab.estimators",
    "regression": "impactlab.estimators",
    "twfe": "impactlab.estimators",
    "callaway_santanna": "impactlab.estimators",
    "drdid": "impactlab.estimators",
    "drdid_frame": "impactlab.estimators",
    "event_study": "impactlab.estimators",
    "sun_abraham": "impactlab.estimators",
    "imputation": "impactlab.estimators",
    "dose_response": "impactlab.estimators",
    "two_stage": "impactlab.estimators",
    "stacked": "impactlab.estimators",
    "triple_difference": "impactlab.estimators",
    "synthetic_did": "impactlab.estimators",
    "synthetic_control": "impactlab.estimators",
    "bacon_decomposition": "impactlab.estimators",
    "wild_bootstrap": "impactlab.estimators",
    "sensitivity": "impactlab.estimators",
    "power": "impactlab.estimators",
    "minimum_detectable_effect": "impactlab.estimators",
    # results
    "EffectResult": "impactlab.results",
    "CompareResult": "impactlab.results",
    "Evaluation": "impactlab.results",
    # analyses built from several estimators
    "compare": "impactlab.analysis",
    "evaluate": "impactlab.analysis",
    # ROI
    "Costs": "impactlab.roi",
    "RoiResult": "impactlab.roi",
    "ExposureEffect": "impactlab.roi",
    "SelfEstimateResult": "impactlab.roi",
    "exposure": "impactlab.roi",
    "self_estimates": "impactlab.roi",
    "RoiSensitivityResult": "impactlab.roi",
    "roi_sensitivity": "impactlab.roi",
    # several programmes side by side
    "portfolio": "impactlab.programs",
    "PortfolioResult": "impactlab.programs",
    # deck
    "Deck": "impactlab.deck",
}
_SUBMODULES = ("datasets", "plot", "io", "panel", "estimators", "results", "analysis", "roi", "deck",
               "errors", "kirkpatrick")

__all__ = sorted(["roi", *_EXPORTS, *_SUBMODULES, "__version__"])  # noqa: PLE0605


# ``roi`` names both a subpackage and the function users call. Importing the subpackage sets the package
# attribute to the module, so bind the function now, after that import, and it stays the function.
from impactlab.roi import roi as roi  # noqa: E402


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"impactlab.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'impactlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from impactlab import analysis, datasets, deck, estimators, io, panel, plot, results  # noqa: F401
    from impactlab.analysis import compare, evaluate  # noqa: F401
    from impactlab.deck import Deck  # noqa: F401
    from impactlab.errors import (  # noqa: F401
        DataError,
        DataQualityWarning,
        EstimationError,
        FrozenResultError,
        ImpactlabError,
        MissingDependencyError,
        PanelError,
        SecurityWarning,
        StatisticalWarning,
    )
    from impactlab.estimators import (  # noqa: F401
        callaway_santanna,
        naive_difference,
        pre_post,
        regression,
        twfe,
    )
    from impactlab.io import (  # noqa: F401
        LRS,
        Table,
        XapiTables,
        read_assessments,
        read_completions,
        read_costs,
        read_kpis,
        read_observations,
        read_roster,
        read_sql,
        read_surveys,
        read_xapi,
    )
    from impactlab.panel import Panel, build_panel  # noqa: F401
    from impactlab.programs import PortfolioResult, portfolio  # noqa: F401
    from impactlab.results import CompareResult, EffectResult, Evaluation  # noqa: F401
    from impactlab.roi import (  # noqa: F401
        Costs,
        ExposureEffect,
        RoiResult,
        RoiSensitivityResult,
        SelfEstimateResult,
        exposure,
        roi_sensitivity,
        self_estimates,
    )
