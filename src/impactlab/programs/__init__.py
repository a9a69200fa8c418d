"""Several programmes of one organisation side by side: :func:`portfolio` and :class:`PortfolioResult`.

This stage sits beside ROI (it runs the estimators and carries each programme's effect to its ROI).
"""

from impactlab.programs.portfolio import portfolio
from impactlab.programs.result import PortfolioResult

__all__ = ["PortfolioResult", "portfolio"]
