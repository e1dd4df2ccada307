"""A locked PIN: PIN/PUK letters and PIN unlock at a card office, routed per card (R14-R16)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.access import ORDER_PIN_LETTER
from ekort.domain.chip import CardChip
from ekort.domain.errors import DomainError
from ekort.domain.letter_rules import order_needs_second_approval
from ekort.domain.lifecycle import CardAction
from ekort.domain.pins import CodeRequest, decide_codes, validate_pin
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import CardType, Generation, LetterKind, Role
from ekort.store.models import Card, Letter, LetterApproval

from .. import audit
from ..ca.backends import card_reader
from ..roles import person_id_of, require_access, require_role, roles_of
from .card_sets import Outcome, card_change, locked_cards, move, snapshot
from .production import queue_letter


def _routing(card: Card) -> tuple[CardType, Generation]:
    return CardType(card.card_type), Generation(card.generation)


def order_pin_letter(*, actor: Any, card_ids: Collection[int], now: datetime) -> Outcome:
    """A PIN/PUK letter to the registered address: photo cards only (R14, R15; R16 refuses
    reserve cards). The holder orders it for their own card; support and ID administrators
    may order it on the holder's behalf. One who also prints letters (an issuer administrator)
    orders one that waits for a second person's approval, as a letter sent again (E14,
    `print_queue.approve_letter`). The letter of each card is in `made`."""
    require_aware(now)
    require_role(actor, *ORDER_PIN_LETTER.roles)
    orderer_prints = Role.ISSUER_ADMIN in roles_of(actor)
    outcome = Outcome()
    changes: list[audit.Change] = []
    with transaction.atomic():

        def queue(card: Card) -> None:
            require_access(actor, ORDER_PIN_LETTER, card.person_id, card.person.manager_id)
            second = order_needs_second_approval(
                CardType(card.card_type),
                own_card=person_id_of(actor) == card.person_id,
                orderer_prints=orderer_prints,
            )
            noted = {"awaits_approval": True} if second else None
            letter, change = pin_letter_queued(actor, card, now, noted=noted)
            if second:  # E14: printed once another person approves it
                LetterApproval.objects.create(letter=letter, resent_by=actor, resent_at=now)
            outcome.made[card.pk] = letter
            changes.append(change)

        cards = outcome.sift(locked_cards(card_ids, outcome), queue)
        audit.append(changes)
    outcome.done = [card.pk for card in cards]
    return outcome


def pin_letter_waiting(card_id: int) -> bool:
    """A PIN/PUK letter of the card is in the print queue, not printed yet."""
    return Letter.objects.filter(
        card_id=card_id, kind=LetterKind.PIN_PUK_LETTER.value, printed_at__isnull=True
    ).exists()


def pin_letter_queued(
    actor: Any,
    card: Card,
    now: datetime,
    *,
    action: str = "order_pin_letter",
    noted: dict[str, Any] | None = None,
) -> tuple[Letter, audit.Change]:
    """Queue a PIN/PUK letter for a locked card in the caller's transaction, after the rules:
    the lifecycle (E1), then the codes (R14, R15; R16 refuses reserve cards), which also want
    a registered address and no other PIN/PUK letter of the card still in the print queue.
    Returns the letter and the audit entry, for the caller to append. Also used to re-send a
    PIN/PUK letter (`services.print_queue.resend_letter`)."""
    # The lifecycle first: a card not yet produced has no generation to route by (E1).
    before = snapshot(card)
    move(card, CardAction.ORDER_PIN_LETTER)
    decide_codes(
        CodeRequest.SEND_LETTER,
        *_routing(card),
        waiting=pin_letter_waiting(card.pk),  # the card's lock keeps it so until the commit
        has_address=card.person.has_registered_address,
    ).require()
    # Who ordered it (an account; a console has none): E14 at printing (print_queue).
    ordered_by = getattr(actor, "pk", None)
    letter = queue_letter(card, LetterKind.PIN_PUK_LETTER, now, ordered_by=ordered_by)
    after = {**snapshot(card), "letter_id": letter.pk, **(noted or {})}
    return letter, card_change(actor, action, card, now, before, after)


def unlock_pin(
    *,
    actor: Any,
    new_pins: Mapping[int, object],
    now: datetime,
    chip: CardChip | None = None,
) -> Outcome:
    """An ID administrator unlocks PINs at a card office: new-generation photo cards only
    (R14); older cards need the PUK (R15), reserve cards the PUK from their envelope (R16)."""
    require_aware(now)
    outcome = Outcome()
    pins: dict[int, str] = {}
    for card_id, pin in new_pins.items():
        try:
            pins[int(card_id)] = validate_pin(pin)  # E6: a bad PIN changes nothing
        except DomainError as problem:
            outcome.refused[int(card_id)] = problem
    if not pins:  # only unusable input: nothing more to say
        return outcome
    require_role(actor, Role.ID_ADMIN)
    changes: list[audit.Change] = []
    with transaction.atomic():

        def unlock(card: Card) -> None:
            before = snapshot(card)
            move(card, CardAction.UNLOCK_PIN)  # E1 before routing, as for the letter
            decide_codes(CodeRequest.UNLOCK_AT_OFFICE, *_routing(card)).require()
            after = {**snapshot(card), "pin_set": True}
            changes.append(card_change(actor, "unlock_pin", card, now, before, after))

        cards = outcome.sift(locked_cards(pins, outcome), unlock)
        audit.append(changes)
        # The chips come last, inside the transaction: if one fails, the audit entries go too.
        for card in cards:
            assert card.number is not None
            (chip or card_reader()).unlock_pin(card.number, pins[card.pk])
    outcome.done = [card.pk for card in cards]
    return outcome
