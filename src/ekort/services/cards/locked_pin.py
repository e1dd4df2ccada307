"""PIN/PUK letters and PIN unlock, routed per card (R14-R16)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.chip import CardChip
from ekort.domain.errors import Refused
from ekort.domain.lifecycle import CardAction
from ekort.domain.pins import decide_office_unlock, decide_pin_letter, validate_pin
from ekort.domain.rulebook import rule
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import CardType, Generation, LetterKind, Role
from ekort.store.models import Card, Letter

from ..ca.backends import card_reader
from ..roles import person_id_of, require_role
from ._common import audit_card, locked_card, move, require_registered_address, snapshot
from .production import _queue_letter


def _routing(card: Card) -> tuple[CardType, Generation]:
    return CardType(card.card_type), Generation(card.generation)


def order_pin_letter(*, actor: Any, card_id: int, now: datetime) -> Letter:
    """A PIN/PUK letter to the registered address: photo cards only (R14, R15; R16 refuses
    reserve cards). The holder orders it for their own card; support and ID administrators
    may order it on the holder's behalf."""
    require_aware(now)
    roles = require_role(actor, Role.HOLDER, Role.SUPPORT, Role.ID_ADMIN)
    with transaction.atomic():
        card = locked_card(card_id)
        on_behalf = roles.intersection({Role.SUPPORT, Role.ID_ADMIN})
        if not on_behalf and card.person_id != person_id_of(actor):
            e10 = rule("E10")
            raise Refused(
                "E10",
                f"{e10.sv} Du kan bara beställa brev till dina egna kort.",
                f"{e10.en} You can order letters for your own cards only.",
            )
        return queue_pin_letter(actor, card, now)


def queue_pin_letter(
    actor: Any,
    card: Card,
    now: datetime,
    *,
    action: str = "order_pin_letter",
    noted: dict[str, Any] | None = None,
) -> Letter:
    """Queue a PIN/PUK letter for a locked card in the caller's transaction, after the rules:
    the lifecycle (E1), the routing (R14, R15; R16 refuses reserve cards) and the registered
    address. Also used to re-send a PIN/PUK letter (`services.letters.resend_letter`)."""
    # The lifecycle first: a card not yet produced has no generation to route by (E1).
    before = snapshot(card)
    move(card, CardAction.ORDER_PIN_LETTER)
    decision = decide_pin_letter(*_routing(card))
    decision.require()
    require_registered_address(card.person, decision.rule)  # R14 or R15, per card
    letter = _queue_letter(card, LetterKind.PIN_PUK_LETTER, now)
    after = {**snapshot(card), "letter_id": letter.pk, **(noted or {})}
    audit_card(actor, action, card, now, before, after)
    return letter


def unlock_pin(
    *, actor: Any, card_id: int, new_pin: object, now: datetime, chip: CardChip | None = None
) -> Card:
    """An ID administrator unlocks the PIN at a card office: new-generation photo cards only
    (R14); older cards need the PUK (R15), reserve cards the PUK from their envelope (R16)."""
    require_aware(now)
    pin = validate_pin(new_pin)
    require_role(actor, Role.ID_ADMIN)
    with transaction.atomic():
        card = locked_card(card_id)
        before = snapshot(card)
        move(card, CardAction.UNLOCK_PIN)  # E1 before routing, as for the letter
        decide_office_unlock(*_routing(card)).require()
        audit_card(actor, "unlock_pin", card, now, before, {**snapshot(card), "pin_set": True})
        # The chip comes last, inside the transaction: if it fails, the audit entry goes too.
        assert card.number is not None
        (chip or card_reader()).unlock_pin(card.number, pin)
        return card
