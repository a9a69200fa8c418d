"""Level 5 of the Phillips chain: fully-loaded costs and ROI with an honest uncertainty range."""

from impactlab.roi.core import RoiResult, roi
from impactlab.roi.costs import CATEGORIES, Costs

__all__ = ["CATEGORIES", "Costs", "RoiResult", "roi"]
