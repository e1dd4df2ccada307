"""When a replacement card is activated (or handed out), the card it replaces is blocked in the
same transaction, as replaced: its certificates are revoked with reason superseded (E12).

A card replaced because it was lost, stolen or misused was blocked when the replacement was
ordered; one replaced for any other reason stayed usable until now. The chain is followed back:
a replacement of a replacement that never got activated (lost in the post, say) also retires
the card the first one was to replace. The block is `blocking.blocked`, the one block writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from ekort.domain.lifecycle import LIVE_STATES, CardAction, CardState
from ekort.domain.renewal import SUPERSEDED
from ekort.store.locks import lock_cards
from ekort.store.models import Card

from .. import audit
from .blocking import blocked
from .card_sets import CardRef

NOTE = "superseded: the replacement card was activated"


def superseded(actor: Any, cards: Sequence[Card], now: datetime) -> list[audit.Change]:
    """Block the live cards that the now active `cards` replace, directly or down the chain,
    in the caller's transaction; returns their audit entries, for the caller to append. Whoever
    ordered the replacement is the one who asked for the block."""
    successors = [card for card in cards if card.state == CardState.ACTIVE]
    # predecessor id -> the id of the user who ordered the replacement that retires it
    pending = {
        card.order.replaces_id: card.order.ordered_by_id
        for card in successors
        if card.order.replaces_id is not None
    }
    seen: set[int] = set()
    retiring: dict[int, list[CardRef]] = {}
    while pending:
        seen |= pending.keys()
        following: dict[int, int] = {}
        for old in lock_cards(sorted(pending)):
            orderer = pending[old.pk]
            if old.state in LIVE_STATES:
                retiring.setdefault(orderer, []).append(CardRef(old.pk, old.state, old.number))
            earlier = old.order.replaces_id
            if earlier is not None and earlier not in seen:
                following[earlier] = orderer
        pending = following
    if not retiring:
        return []
    users = get_user_model()
    names = dict(
        users.objects.filter(pk__in=list(retiring)).values_list("pk", users.USERNAME_FIELD)
    )
    changes: list[audit.Change] = []
    for orderer, refs in sorted(retiring.items()):
        refs.sort()
        changes += blocked(actor, refs, CardAction.REPLACE, SUPERSEDED, names[orderer], NOTE, now)
    return changes
