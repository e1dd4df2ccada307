"""Blocking a card. Never refused by the calendar: a block request must never be lost, not even
during the ordering and issuing stop (R4, NOTES.md). A block is final (E9)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.errors import InvalidInput, Refused
from ekort.domain.lifecycle import CardAction, CardState
from ekort.domain.rulebook import rule
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import BlockReason, Role
from ekort.store.models import Block, Card

from ..ca.revocation import revoke_cards
from ..roles import person_id_of, require_role
from ._common import audit_card, locked_card, move, snapshot

_STAFF_WHO_BLOCK = (Role.ID_ADMIN, Role.SUPPORT, Role.ISSUER_ADMIN)


def _require_may_block(actor: Any, card: Card) -> None:
    roles = require_role(actor, Role.HOLDER, Role.ORDERER, *_STAFF_WHO_BLOCK)
    if roles.intersection(_STAFF_WHO_BLOCK):
        return
    me = person_id_of(actor)
    if Role.HOLDER in roles and card.person_id == me:
        return
    if Role.ORDERER in roles and card.person.manager_id == me and me is not None:
        return
    e10 = rule("E10")
    raise Refused(
        "E10",
        f"{e10.sv} Du kan bara spärra dina egna kort eller dina medarbetares.",
        f"{e10.en} You can block only your own cards or those of people you manage.",
    )


def block(
    *, actor: Any, card_id: int, reason: object, requested_by: str, now: datetime, note: str = ""
) -> Card:
    require_aware(now)
    try:
        why = BlockReason(str(reason))
    except ValueError:
        reasons = ", ".join(BlockReason)
        raise InvalidInput(
            f"Unknown block reason {str(reason)[:30]!r}; use one of {reasons}."
        ) from None
    requester = requested_by.strip()[:200]
    if not requester:
        raise InvalidInput("Say who asked for the block (a name, or 'the holder').")
    with transaction.atomic():
        card = locked_card(card_id)
        _require_may_block(actor, card)
        if card.state == CardState.BLOCKED:
            e9 = rule("E9")
            raise Refused(
                "E9", f"{e9.sv} Kortet är redan spärrat.", f"{e9.en} The card is already blocked."
            )
        register_block(actor, card, CardAction.BLOCK, why, requester, now, note)
        return card


def register_block(
    actor: Any,
    card: Card,
    action: CardAction,
    why: BlockReason,
    requester: str,
    now: datetime,
    note: str,
) -> None:
    """Block a locked card in the caller's transaction: state, block record, revocation of its
    certificates and the audit entry (the replacement of a live card comes here too)."""
    before = snapshot(card)
    move(card, action)
    card.closed_at = now
    card.save(update_fields=["state", "closed_at"])
    Block.objects.create(
        card=card,
        reason=why,
        requested_by=requester,
        registered_by=actor,
        registered_at=now,
        note=note[:500],
    )
    # The certificates are revoked in the block's own transaction: relying parties get
    # "revoked" as soon as the block commits, and never a block without revocation.
    revoke_cards([card.pk], why, now)
    audit_card(
        actor,
        "block",
        card,
        now,
        before,
        {**snapshot(card, "closed_at"), "reason": why.value, "requested_by": requester},
        reason=note[:500],
    )
