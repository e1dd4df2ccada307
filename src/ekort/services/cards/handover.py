"""Handing a card to its holder: the legacy hand-out and the new activation.

Both check the identity document (E4, R17) and the holder's age (E5), record the check, and
keep whoever ordered the card from completing it (E3). Activation also sets the PIN that the
holder types on the PIN pad (R9): it goes to the chip and nowhere else. A reserve card at
assurance level 3 takes two ID administrators (E11): `hand_out` and `activate` only register it
(no PIN is set then), and `four_eyes.approve_hand_out` / `four_eyes.approve_activation` complete
it, the latter while the holder types the PIN.

A card that becomes active blocks the card it replaces, if that one is still live, in the same
transaction (E12, `succession.superseded`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction

from ekort.domain.chip import CardChip
from ekort.domain.errors import DomainError, InvalidInput
from ekort.domain.four_eyes import (
    FourEyesStep,
    Registration,
    decide_four_eyes,
    decide_separation_of_duties,
    needs_second_approval,
)
from ekort.domain.id_documents import (
    DocumentKind,
    decide_holder_age,
    decide_identity_document,
    normalise_document_number,
)
from ekort.domain.identifiers import IdentityKind, parse_identity_number
from ekort.domain.lifecycle import CardAction, CardState, next_state
from ekort.domain.pins import validate_pin
from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import AssuranceLevel, CardType, CheckPurpose, Role
from ekort.store.models import Card, FourEyesApproval, IdentityCheck

from .. import audit
from ..ca import issuance
from ..ca.backends import card_reader
from ..policy import current_calendar
from ..roles import person_id_of, require_role
from .card_sets import Outcome, card_change, locked_cards, move, snapshot
from .succession import superseded


@dataclass(frozen=True)
class DocumentShown:
    """The identity document the ID administrator looked at, as they typed it in."""

    kind: object
    number: object
    expires_on: date | None
    digital: bool = False

    def checked(self) -> tuple[DocumentKind, str]:
        try:
            kind = DocumentKind(str(self.kind))
        except ValueError:
            kinds = ", ".join(DocumentKind)
            raise InvalidInput(f"Unknown document kind; use one of {kinds}.") from None
        return kind, normalise_document_number(self.number)


def require_separation_of_duties(actor: Any, card: Card) -> None:
    decide_separation_of_duties(
        ordered_it=card.order.ordered_by_id == actor.pk,
        holds_it=person_id_of(actor) == card.person_id,
    ).require()


def _check_identity(card: Card, document: DocumentShown, today: date) -> tuple[DocumentKind, str]:
    kind, number = document.checked()
    decide_identity_document(kind, document.expires_on, today, digital=document.digital).require()
    require_holder_age(card, today)
    return kind, number


def require_holder_age(card: Card, today: date) -> None:
    identity = parse_identity_number(card.person.identity_number, today=today)
    decide_holder_age(identity.birth_date, today, AssuranceLevel(card.assurance_level)).require()


def _record_check(
    actor: Any,
    card: Card,
    purpose: CheckPurpose,
    kind: DocumentKind,
    number: str,
    document: DocumentShown,
    now: datetime,
) -> IdentityCheck:
    assert document.expires_on is not None  # checked by decide_identity_document
    return IdentityCheck.objects.create(
        card=card,
        purpose=purpose,
        document_kind=kind,
        document_number=number,
        document_expires_on=document.expires_on,
        checked_by=actor,
        checked_at=now,
    )


@dataclass(frozen=True)
class Handover:
    """What differs between the two ways a card reaches its holder."""

    policy: PolicyAction
    action: CardAction
    purpose: CheckPurpose


_HAND_OUT = Handover(PolicyAction.HAND_OUT, CardAction.HAND_OUT, CheckPurpose.HAND_OUT)
_ACTIVATE = Handover(PolicyAction.ACTIVATE, CardAction.ACTIVATE, CheckPurpose.ACTIVATION)
# The way a card reaches its holder, by the purpose of its identity check.
HANDOVERS = {way.purpose: way for way in (_HAND_OUT, _ACTIVATE)}


def require_calendar(way: Handover, card: Card, now: datetime, *, last_day: bool) -> None:
    """The policy calendar: whether the day allows it at all (asked before the card's state,
    so that a refusal names the period's rule), then, with `last_day`, the card's own last day
    (R3 to collect it, R8 to activate it; asked once the lifecycle has let the card move)."""
    deadline = card.pickup_deadline if way is _HAND_OUT else card.activation_deadline
    kind = CardType(card.card_type)
    decision = current_calendar().decide(
        way.policy, kind, now, deadline=deadline if last_day else None
    )
    decision.require()


def registration_of(card: Card) -> tuple[FourEyesApproval | None, Registration | None]:
    """The registration waiting for the card's second ID administrator (E11), as a row and as
    the domain sees it."""
    pending = pending_approval(card)
    if pending is None:
        return None, None
    return pending, Registration(CheckPurpose(pending.purpose), pending.registered_by_id)


def _hand_over(
    way: Handover, actor: Any, card: Card, document: DocumentShown, now: datetime
) -> audit.Change:
    """Guard, move and record a hand-out or an activation of a locked card; every check comes
    before the first write. Returns the audit entry."""
    today = local_date(now)
    require_calendar(way, card, now, last_day=False)
    before = snapshot(card)
    move(card, way.action)  # E1: a blocked card says so, not that its last day passed
    require_calendar(way, card, now, last_day=True)
    require_separation_of_duties(actor, card)
    kind, number = _check_identity(card, document, today)
    card.activated_at, card.activated_by = now, actor
    card.save(update_fields=["state", "activated_at", "activated_by"])
    _record_check(actor, card, way.purpose, kind, number, document, now)
    released = issuance.release_hold(card, now)  # certificates good from now on (R8)
    after = {
        **snapshot(card, "activated_at"),
        "document_kind": kind.value,
        "certificates_released": len(released),
    }
    if way is _ACTIVATE:
        after["pin_set"] = True
    return card_change(actor, way.action.value, card, now, before, after)


def pending_approval(card: Card) -> FourEyesApproval | None:
    """The registration (hand-out or activation) waiting for a second ID administrator (E11)."""
    return (
        FourEyesApproval.objects.select_related("identity_check", "registered_by")
        .filter(card=card, outcome="")
        .first()
    )


def _register(
    way: Handover,
    actor: Any,
    card: Card,
    document: DocumentShown,
    now: datetime,
    *,
    pin_given: bool = False,
) -> audit.Change:
    """E11: the first of two ID administrators checks and records; the card does not move, its
    certificates stay on hold and, for an activation, no PIN is set yet."""
    today = local_date(now)
    require_calendar(way, card, now, last_day=False)
    next_state(CardState(card.state), way.action, CardType(card.card_type))  # E1, not moved yet
    require_calendar(way, card, now, last_day=True)
    decide_four_eyes(
        FourEyesStep.REGISTER,
        registration_of(card)[1],
        identity_kind=IdentityKind(card.person.identity_kind),
        pin_given=pin_given,
    ).require()
    require_separation_of_duties(actor, card)
    kind, number = _check_identity(card, document, today)
    check = _record_check(actor, card, way.purpose, kind, number, document, now)
    FourEyesApproval.objects.create(
        card=card,
        purpose=way.purpose.value,
        identity_check=check,
        registered_by=actor,
        registered_at=now,
    )
    state = snapshot(card)
    return card_change(
        actor,
        f"{way.purpose.value}_registered",
        card,
        now,
        state,
        {**state, "document_kind": kind.value, "awaiting_second_administrator": True},
    )


def needs_two(card: Card) -> bool:
    """Whether the card's hand-out or activation takes a second ID administrator (E11)."""
    return needs_second_approval(CardType(card.card_type), AssuranceLevel(card.assurance_level))


def hand_out(*, actor: Any, documents: Mapping[int, DocumentShown], now: datetime) -> Outcome:
    """Legacy path: each holder collects the card at a hand-out point by the deadline (R3),
    showing the identity document `documents` names for the card.

    A reserve card at assurance level 3 is only registered here and stays awaiting pick-up
    until another ID administrator approves it (E11, `approve_hand_out`)."""
    require_aware(now)
    require_role(actor, Role.ID_ADMIN)
    outcome = Outcome()
    changes: list[audit.Change] = []
    with transaction.atomic():

        def check_and_record(card: Card) -> None:
            document = documents[card.pk]
            if needs_two(card):
                changes.append(_register(_HAND_OUT, actor, card, document, now))
            else:
                changes.append(_hand_over(_HAND_OUT, actor, card, document, now))

        cards = outcome.sift(locked_cards(documents, outcome), check_and_record)
        changes += superseded(actor, cards, now)  # the cards these replace (E12)
        audit.append(changes)
    outcome.done = [card.pk for card in cards]
    return outcome


@dataclass(frozen=True)
class Activation:
    """What the holder brings to an activation: the identity document shown, and the PIN typed
    on the PIN pad (None for a card that takes two ID administrators: the PIN is chosen when
    the second one approves, E11)."""

    document: DocumentShown
    pin: object = None


def activate(
    *,
    actor: Any,
    activations: Mapping[int, Activation],
    now: datetime,
    chip: CardChip | None = None,
) -> Outcome:
    """New path: an ID administrator activates each card in person within its window (R7, R8);
    the holder chooses the PIN (R9).

    A reserve card at assurance level 3 is only registered here, without a PIN: the holder
    chooses it when another ID administrator approves (E11, `approve_activation`). A PIN given
    for such a card is refused rather than dropped, so that nobody believes it was set."""
    require_aware(now)
    outcome = Outcome()
    pins: dict[int, str] = {}
    for card_id, activation in activations.items():
        if activation.pin is None:
            continue
        try:
            pins[int(card_id)] = validate_pin(activation.pin)  # E6: a bad PIN changes nothing
        except DomainError as problem:
            outcome.refused[int(card_id)] = problem
    wanted = [card_id for card_id in activations if int(card_id) not in outcome.refused]
    if not wanted:  # only unusable input: nothing more to say
        return outcome
    require_role(actor, Role.ID_ADMIN)
    changes: list[audit.Change] = []
    with transaction.atomic():

        def check_and_record(card: Card) -> None:
            document = activations[card.pk].document
            if needs_two(card):
                changed = _register(
                    _ACTIVATE, actor, card, document, now, pin_given=card.pk in pins
                )
            elif card.pk not in pins:
                validate_pin(None)  # E6: the PIN is what an activation sets
                return
            else:
                changed = _hand_over(_ACTIVATE, actor, card, document, now)
            changes.append(changed)

        cards = outcome.sift(locked_cards(wanted, outcome), check_and_record)
        changes += superseded(actor, cards, now)  # the cards these replace (E12)
        audit.append(changes)
        # The chips come last, inside the transaction: if one fails, nothing above is kept.
        for card in cards:
            if card.pk in pins and not needs_two(card):
                assert card.number is not None  # every sent card was produced with a number
                (chip or card_reader()).set_pin(card.number, pins[card.pk])
    outcome.done = [card.pk for card in cards]
    return outcome
