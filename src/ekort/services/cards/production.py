"""Photographing, producing and sending a card."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from ekort.domain.card_numbers import format_card_number
from ekort.domain.errors import InvalidInput, Refused
from ekort.domain.lifecycle import CardAction, CardState
from ekort.domain.policy_calendar import PolicyAction, PolicyCalendar
from ekort.domain.rulebook import rule
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import CardType, DeliveryPath, LetterKind, Role
from ekort.store.models import Card, CardNumberSequence, Letter

from .. import audit
from ..ca import issuance
from ..ca.backends import card_reader
from ..policy import current_calendar
from ..roles import require_role
from ._common import (
    audit_card,
    card_change,
    locked_card,
    move,
    require_registered_address,
    snapshot,
)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
_PHOTO_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _check_photo(photo: object) -> bytes:
    if not isinstance(photo, bytes | bytearray) or not photo:
        raise InvalidInput("The photo is missing; take or upload a JPEG or PNG picture.")
    if len(photo) > MAX_PHOTO_BYTES:
        raise InvalidInput("The photo is larger than 5 MB; take it again at a lower resolution.")
    if not bytes(photo).startswith(_PHOTO_SIGNATURES):
        raise InvalidInput("The photo must be a JPEG or PNG picture.")
    return bytes(photo)


def photograph(*, actor: Any, card_id: int, photo: object, now: datetime) -> Card:
    """An ID administrator takes the holder's photo at a card office (R2, E7)."""
    require_aware(now)
    picture = _check_photo(photo)
    require_role(actor, Role.ID_ADMIN)
    with transaction.atomic():
        card = locked_card(card_id)
        current_calendar().decide(PolicyAction.PHOTOGRAPH, CardType(card.card_type), now).require()
        before = snapshot(card)
        move(card, CardAction.PHOTOGRAPH)
        card.photo_sha256 = hashlib.sha256(picture).hexdigest()
        card.photographed_at, card.photographed_by = now, actor
        card.save(update_fields=["state", "photo_sha256", "photographed_at", "photographed_by"])
        audit_card(
            actor,
            "photograph",
            card,
            now,
            before,
            snapshot(card, "photo_sha256", "photographed_at"),
        )
        return card


def next_card_numbers(count: int) -> list[str]:
    """The next `count` card numbers, under one lock of the counter. A number whose chip exists
    already was taken by a production that was undone after the chip had been personalised (a
    failure, or a killed process, rolls the counter back but not the chip): that chip is
    spoiled, and its number is skipped."""
    if count < 1:
        return []
    prefix = settings.EKORT_CARD_NUMBER_PREFIX
    sequence, _ = CardNumberSequence.objects.get_or_create(prefix=prefix)
    sequence = CardNumberSequence.objects.select_for_update().get(pk=sequence.pk)
    reader = card_reader()
    numbers: list[str] = []
    while len(numbers) < count:
        wanted = count - len(numbers)
        first = sequence.last_value + 1
        sequence.last_value += wanted
        candidates = [format_card_number(prefix, n) for n in range(first, first + wanted)]
        spoiled = reader.existing(candidates)
        numbers += [number for number in candidates if number not in spoiled]
    sequence.save(update_fields=["last_value"])
    return numbers


def reserve_card_numbers(count: int) -> list[str]:
    """`next_card_numbers` in a transaction of its own when called outside one: the counter is
    locked for a moment, not for a whole batch, so that producers running side by side (`ekort
    bulk produce --workers N`) do not wait for each other. A number reserved and then not
    used (a refused card, an undone batch) is a gap in the series, as a spoiled chip's is."""
    with transaction.atomic():
        return next_card_numbers(count)


def check_producible(card: Card, calendar: PolicyCalendar, now: datetime) -> None:
    """Refuse a card that may not be produced at `now` (the calendar, R2), before anything."""
    kind = CardType(card.card_type)
    calendar.decide(PolicyAction.ISSUE, kind, now).require()
    if kind == CardType.PHOTO and card.state == CardState.ORDERED:
        r2 = rule("R2")
        raise Refused(
            "R2",
            f"{r2.sv} Fotokortet måste fotograferas innan det tillverkas.",
            f"{r2.en} A photo card is photographed before it is produced.",
        )


PRODUCED_FIELDS = ["state", "number", "generation", "sis_marked", "valid_until", "produced_at"]


def mark_produced(card: Card, number: str, calendar: PolicyCalendar, now: datetime) -> None:
    """Card number, generation (R5), SIS marking (R17), validity; not saved."""
    kind = CardType(card.card_type)
    card.number = number
    card.generation = calendar.generation_at(now).value
    card.sis_marked = calendar.sis_marked(kind, now)
    card.valid_until = calendar.valid_until(kind, now)
    card.produced_at = now


def produced_change(
    actor: Any, card: Card, now: datetime, before: dict[str, Any], serial: str
) -> audit.Change:
    return card_change(
        actor,
        "produce",
        card,
        now,
        before,
        {
            **snapshot(card, "generation", "sis_marked", "valid_until"),
            "certificate_serial": serial,
        },
    )


def produce(*, actor: Any, card_id: int, now: datetime) -> Card:
    """Personalise the card: card number, generation (R5), SIS marking (R17), validity."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN)
    calendar = current_calendar()
    with transaction.atomic():
        card = locked_card(card_id)
        check_producible(card, calendar, now)
        before = snapshot(card)
        move(card, CardAction.PRODUCE)
        mark_produced(card, next_card_numbers(1)[0], calendar, now)
        card.save(update_fields=PRODUCED_FIELDS)
        # The chip makes its authentication key and ekort's CA certifies it, on hold until
        # the card is activated (R8, R11); a failure here undoes the production.
        certificate = issuance.personalise(card, now)
        audit.record(produced_change(actor, card, now, before, certificate.serial))
        return card


LETTER_COLUMNS = (
    "kind",
    "card_id",
    "person_id",
    "recipient_name",
    "street_address",
    "postal_code",
    "postal_town",
    "queued_at",
)


def letter_values(card: Card, kind: LetterKind, now: datetime) -> tuple[Any, ...]:
    """A letter to the card holder's registered address as it is now, as the values of
    `LETTER_COLUMNS` (a batch writes them as rows: `store.bulk.insert_rows`)."""
    person = card.person
    return (
        str(kind),
        card.pk,
        person.pk,
        person.full_name,
        person.street_address,
        person.postal_code,
        person.postal_town,
        now,
    )


def new_letter(card: Card, kind: LetterKind, now: datetime) -> Letter:
    """A letter to the card holder's registered address as it is now; not saved."""
    return Letter(**dict(zip(LETTER_COLUMNS, letter_values(card, kind, now), strict=True)))


def _queue_letter(card: Card, kind: LetterKind, now: datetime) -> Letter:
    letter = new_letter(card, kind, now)
    letter.save()
    return letter


SENT_FIELDS = ["state", "delivery_path", "sent_at", "pickup_deadline", "activation_deadline"]


def mark_sent(card: Card, calendar: PolicyCalendar, now: datetime) -> list[LetterKind]:
    """Guard and move a produced card to sent by the path the calendar sets for `now`; returns
    the letters that go with it. Not saved; a refusal changes nothing."""
    kind = CardType(card.card_type)
    calendar.decide(PolicyAction.ISSUE, kind, now).require()
    path = calendar.delivery_path(now)
    require_registered_address(card.person, "R6" if path == DeliveryPath.HOME else "R3")
    if path == DeliveryPath.HOME:
        move(card, CardAction.SEND_HOME)
        card.activation_deadline = calendar.activation_deadline(now)
        letters = [LetterKind.COVER_LETTER]
    else:
        move(card, CardAction.SEND_CODE_ENVELOPE)
        card.pickup_deadline = calendar.pickup_deadline(now)
        letters = []
    # The code envelope goes to the registered address on the legacy path; a reserve card
    # always carries its PUK in an envelope, as no code letter can be ordered later (R16).
    if path == DeliveryPath.CODE_ENVELOPE or kind == CardType.RESERVE:
        letters.append(LetterKind.CODE_ENVELOPE)
    card.delivery_path, card.sent_at = path.value, now
    return letters


def sent_change(
    actor: Any, card: Card, now: datetime, before: dict[str, Any], letters: list[LetterKind]
) -> audit.Change:
    return card_change(
        actor,
        "send",
        card,
        now,
        before,
        {
            **snapshot(card, "delivery_path", "sent_at", "pickup_deadline", "activation_deadline"),
            "letters": [str(k) for k in letters],
        },
    )


def send(*, actor: Any, card_id: int, now: datetime) -> Card:
    """Dispatch a produced card by the path the calendar sets for `now`: a code envelope with
    a pick-up deadline (R3), or the card sent home inactive with an activation deadline (R6, R8)."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN)
    calendar = current_calendar()
    with transaction.atomic():
        card = locked_card(card_id)
        before = snapshot(card)
        letters = mark_sent(card, calendar, now)
        card.save(update_fields=SENT_FIELDS)
        for letter in letters:
            _queue_letter(card, letter, now)
        audit.record(sent_change(actor, card, now, before, letters))
        return card
