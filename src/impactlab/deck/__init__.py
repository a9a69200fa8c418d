"""Executive decks: a 16:9 PowerPoint file of impactlab charts and results (extra ``deck``)."""

from impactlab.deck.board import board_deck, headline_numbers
from impactlab.deck.pptx import Deck, notes_for

__all__ = ["Deck", "board_deck", "headline_numbers", "notes_for"]
