"""Estimators: the naive comparisons people report and the causal designs that replace them.

Each function takes a :class:`~impactlab.Panel` and returns a new frozen result; the panel is never
modified. The estimation core is written here on numpy/scipy/statsmodels.
"""

# Functions share their module's name (regression, callaway_santanna): importing them here binds the
# package attributes to the functions after the submodules are loaded, so they stay the functions.
from impactlab.estimators.bacon import BaconResult, bacon_decomposition
from impactlab.estimators.callaway_santanna import CallawaySantAnnaResult, callaway_santanna
from impactlab.estimators.dose_response import DoseResponseResult, dose_response
from impactlab.estimators.drdid import drdid, drdid_frame
from impactlab.estimators.event_study import EventStudyResult, event_study
from impactlab.estimators.imputation import ImputationResult, imputation
from impactlab.estimators.naive import naive_difference, pre_post
from impactlab.estimators.power import PowerResult, minimum_detectable_effect, power
from impactlab.estimators.regression import regression, twfe
from impactlab.estimators.sensitivity import SensitivityResult, sensitivity
from impactlab.estimators.stacked import StackedResult, stacked
from impactlab.estimators.sun_abraham import sun_abraham
from impactlab.estimators.synthetic import SyntheticResult, synthetic_control, synthetic_did
from impactlab.estimators.triple_difference import TripleDifferenceResult, triple_difference
from impactlab.estimators.two_stage import TwoStageResult, two_stage
from impactlab.estimators.wild_bootstrap import WildBootstrapResult, wild_bootstrap

__all__ = ["CallawaySantAnnaResult", "callaway_santanna", "naive_difference", "pre_post", "regression",
           "twfe"]
__all__ += ["BaconResult", "EventStudyResult", "bacon_decomposition", "event_study", "sun_abraham"]

__all__ += ["drdid", "drdid_frame"]
__all__ += ["DoseResponseResult", "dose_response"]
__all__ += ["ImputationResult", "imputation"]
__all__ += ["StackedResult", "TwoStageResult", "stacked", "two_stage"]
__all__ += ["SyntheticResult", "synthetic_control", "synthetic_did"]
__all__ += ["TripleDifferenceResult", "triple_difference"]
__all__ += ["PowerResult", "SensitivityResult", "WildBootstrapResult", "minimum_detectable_effect", "power",
            "sensitivity", "wild_bootstrap"]
