"""The domain's own words for the lifecycle and the card types cover every state, action and
type, in Swedish and English, so that a refusal never falls back to a code name."""

from __future__ import annotations

from ekort.domain import card_words
from ekort.domain.lifecycle import CardAction, CardState
from ekort.domain.vocabulary import CardType


def test_every_state_action_and_card_type_has_words_in_both_languages():
    for table, enum in (
        (card_words.STATES, CardState),
        (card_words.ACTIONS, CardAction),
        (card_words.CARD_TYPES, CardType),
    ):
        assert set(table) == {m.value for m in enum}, enum.__name__
        for sv, en in table.values():
            assert sv and en and "_" not in sv + en
