"""Kirkpatrick levels 1-3 and the chain of evidence up to the Phillips ROI.

``reaction(surveys)``, ``learning(assessments)``, ``behavior(observations)`` summarise levels 1-3 with an
interval on every number; ``chain(...)`` puts them beside the causal effect (level 4) and the ROI
(level 5) and checks each link, as evidence rather than proof.
"""

from impactlab.kirkpatrick.behavior import BehaviorResult, behavior
from impactlab.kirkpatrick.chain import ChainResult, chain, effect_by_gain
from impactlab.kirkpatrick.learning import LearningResult, learning
from impactlab.kirkpatrick.reaction import ReactionResult, reaction

__all__ = ["BehaviorResult", "ChainResult", "LearningResult", "ReactionResult", "behavior", "chain",
           "effect_by_gain", "learning", "reaction"]
