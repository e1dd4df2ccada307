"""Blocking cards. Never refused by the calendar: a block request must never be lost, not even
during the ordering and issuing stop (R4, docs/domain-notes.md). A block is final (E9).

`block` is what a person asks for; `blocked` is the change itself, which a replacement (of a
lost card, say) and the deadline sweeps (R3, R8) make too: the same rows and the same audit
entries, whoever blocks. It also takes the cards' unprinted letters out of the print queue: a
blocked card gets no cover letter, and its PUK goes out in no letter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.access import BLOCK
from ekort.domain.errors import InvalidInput
from ekort.domain.lifecycle import CardAction, CardState, next_state
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import BlockReason
from ekort.store.models import Block, Card, Letter
from ekort.store.sets import Ids, insert_alike, update_returning

from .. import audit
from ..ca.revocation import revoke_cards
from ..roles import Job, account_id_of, actor_label, require_access, require_role
from .card_sets import CardRef, Outcome, card_change, locked_cards


def block_reason(reason: object) -> BlockReason:
    try:
        return BlockReason(str(reason))
    except ValueError:
        reasons = ", ".join(BlockReason)
        raise InvalidInput(f"Unknown block reason; use one of {reasons}.") from None


def block(
    *,
    actor: Any,
    card_ids: Collection[int],
    reason: object,
    requested_by: str,
    now: datetime,
    note: str = "",
) -> Outcome:
    """Block the cards: the holder's own, a manager's staff's, or any for staff (E10)."""
    require_aware(now)
    why = block_reason(reason)
    requester = requested_by.strip()[:200]
    if not requester:
        raise InvalidInput("Say who asked for the block (a name, or 'the holder').")
    require_role(actor, *BLOCK.roles)
    outcome = Outcome()
    with transaction.atomic():

        def check(card: Card) -> None:
            require_access(actor, BLOCK, card.person_id, card.person.manager_id)
            # E9 for a blocked card, E1 for one never issued or no longer live
            next_state(CardState(card.state), CardAction.BLOCK)

        cards = outcome.sift(locked_cards(card_ids, outcome), check)
        refs = [CardRef(card.pk, card.state, card.number) for card in cards]
        audit.append(blocked(actor, refs, CardAction.BLOCK, why, requester, note, now))
    outcome.done = [card.pk for card in cards]
    return outcome


def blocked(
    actor: Any,
    cards: Sequence[CardRef],
    action: CardAction,
    why: BlockReason,
    requester: str,
    note: str,
    now: datetime,
) -> list[audit.Change]:
    """Block locked cards in the caller's transaction: their state, their block records and the
    revocation of their certificates. Returns the audit entries, for the caller to append last.

    The certificates are revoked in the block's own transaction: relying parties get "revoked"
    as soon as the block commits, and never a block without revocation. A job's block leaves
    the responses of certificates that were on hold to the publisher (`revoke_cards`)."""
    if not cards:
        return []
    note = note[:500]
    ids = Ids(card.pk for card in cards)
    insert_alike(
        Block,
        "card_id",
        ids,
        {
            "reason": why.value,
            "requested_by": requester,
            "registered_by_id": account_id_of(actor),
            "registered_at": now,
            "note": note,
        },
    )
    by_source: dict[str, list[int]] = {}
    for card in cards:
        by_source.setdefault(card.state, []).append(card.pk)
    targets = {state: next_state(CardState(state), action).value for state in by_source}
    for state, pks in by_source.items():
        Card.objects.filter(pk__any_of=ids if len(by_source) == 1 else Ids(pks)).update(
            state=targets[state], closed_at=now
        )
    revoke_cards(ids, why, now, resign_held=not isinstance(actor, Job))
    letters = withdraw_letters(actor, ids, now)
    closed_at = now.isoformat()
    # One `before` and one `after` (the card number aside) per source state, shared by its
    # cards' entries: `audit.append` renders a shared one once.
    befores = {state: {"state": state} for state in by_source}
    afters = {
        state: {
            "state": target,
            "closed_at": closed_at,
            "reason": why.value,
            "requested_by": requester,
        }
        for state, target in targets.items()
    }
    # The letters' entries first, the cards' last, as a block's have always come.
    return letters + [
        card_change(actor, "block", card, now, befores[card.state], afters[card.state], reason=note)
        for card in cards
    ]


def withdraw_letters(actor: Any, card_ids: Ids, now: datetime) -> list[audit.Change]:
    """Take the cards' letters that wait in the print queue out of it, in the block's
    transaction: one UPDATE for the whole set, which returns the letters it took (no query per
    card, none before it). Returns an audit entry per letter, `letter_withdrawn`."""
    withdrawn = update_returning(
        Letter.objects.filter(
            card_id__any_of=card_ids, printed_at__isnull=True, withdrawn_at__isnull=True
        ),
        {"withdrawn_at": now},
        ("id", "kind", "card_id"),
    )
    if not withdrawn:
        return []
    label, at = actor_label(actor), now.isoformat()
    return [
        audit.Change(
            actor=label,
            action="letter_withdrawn",
            object_type="letter",
            object_id=str(pk),
            at=now,
            before={"withdrawn_at": None},
            after={"withdrawn_at": at, "kind": kind, "card_id": card_id, "card_blocked": True},
        )
        for pk, kind, card_id in sorted(withdrawn)
    ]
