"""Level 5 of the Phillips chain: fully-loaded costs and ROI with an honest uncertainty range."""

from impactlab.roi.core import RoiResult, roi
from impactlab.roi.costs import CATEGORIES, CostAccounting, Costs
from impactlab.roi.doubt import RoiSensitivityResult, roi_sensitivity
from impactlab.roi.exposure import ExposureEffect, exposure
from impactlab.roi.self_estimates import SelfEstimateResult, self_estimates
from impactlab.roi.stream import payback, stream_weights

__all__ = ["CATEGORIES", "CostAccounting", "Costs", "ExposureEffect", "RoiResult", "RoiSensitivityResult",
           "SelfEstimateResult", "exposure", "payback", "roi", "roi_sensitivity", "self_estimates",
           "stream_weights"]
