"""Executive decks: a 16:9 PowerPoint file of impactlab charts and results (extra ``deck``)."""

from impactlab.deck.pptx import Deck, notes_for

__all__ = ["Deck", "notes_for"]
