"""Deck-ready charts of impactlab results.

Every chart is a function of a result, takes ``ax=None`` and returns the matplotlib Axes; nothing is
shown. :func:`deck_theme` is the one theme (16:9, large type, Okabe-Ito colours); :func:`save` writes
PNG and SVG at slide size.
"""

from impactlab.plot.charts import compare, event_study, roi_waterfall
from impactlab.plot.dose import dose_response
from impactlab.plot.export import save
from impactlab.plot.panel_charts import data_window, rollout, trends
from impactlab.plot.phillips import chain, roi_distribution, roi_sensitivity
from impactlab.plot.programs import portfolio
from impactlab.plot.synthetic import synthetic
from impactlab.plot.theme import COLORS, FIGSIZE, OKABE_ITO, deck_theme

__all__ = ["COLORS", "FIGSIZE", "OKABE_ITO", "compare", "data_window", "deck_theme", "event_study", "rollout",
           "roi_waterfall", "save", "trends"]
__all__ += ["chain", "roi_distribution", "roi_sensitivity"]
__all__ += ["dose_response"]
__all__ += ["synthetic"]
__all__ += ["portfolio"]
