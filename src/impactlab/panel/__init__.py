"""Panel construction: from validated tables or tidy frames to a unit × period panel."""

from impactlab.panel.build import build_panel
from impactlab.panel.panel import Panel

__all__ = ["Panel", "build_panel"]
