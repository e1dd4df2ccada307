"""Expiring cards whose validity ran out: the change the expiry sweep makes
(`services.deadlines`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ekort.domain.lifecycle import CardAction, CardState, next_state
from ekort.store.models import Card
from ekort.store.sets import Ids

from .. import audit
from .card_sets import CardRef, card_change


def expired(actor: Any, cards: Sequence[CardRef], now: datetime) -> list[audit.Change]:
    """Expire locked cards in the caller's transaction; returns the audit entries, for the
    caller to append last. Their certificates expire with them: nothing is revoked."""
    by_source: dict[str, list[int]] = {}
    for card in cards:
        by_source.setdefault(card.state, []).append(card.pk)
    targets = {state: next_state(CardState(state), CardAction.EXPIRE).value for state in by_source}
    for state, ids in by_source.items():
        Card.objects.filter(pk__any_of=Ids(ids)).update(state=targets[state], closed_at=now)
    closed_at = now.isoformat()
    return [
        card_change(
            actor,
            CardAction.EXPIRE.value,
            card,
            now,
            {"state": card.state},
            {"state": targets[card.state], "closed_at": closed_at},
        )
        for card in cards
    ]
