"""Many cards at once, straight into the tables, for the deadline sweeps.

The services are the only way cards get there in production; these rows look like what they
leave behind (a state, a card number and the deadline dates) without walking each card along
its lifecycle. `tests/integration/journeys.py` walks cards through the real services.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import User

from ekort.store.models import AuditEntry, Block, Card, CardOrder, Certificate, Person

_numbers = itertools.count(1)

FAR_FUTURE = date(2029, 1, 1)


def cards(
    person: Person,
    ordered_by: User,
    n: int,
    *,
    state: str,
    ordered_at: datetime,
    card_type: str = "photo",
    pickup_deadline: date | None = None,
    activation_deadline: date | None = None,
    valid_until: date | None = FAR_FUTURE,
) -> list[Card]:
    """`n` cards for `person` in `state`, with the given deadlines."""
    orders = CardOrder.objects.bulk_create(
        [
            CardOrder(
                person=person, card_type=card_type, ordered_by=ordered_by, ordered_at=ordered_at
            )
            for _ in range(n)
        ]
    )
    Card.objects.bulk_create(
        [
            Card(
                order=order,
                person=person,
                card_type=card_type,
                state=state,
                number=f"BULK{next(_numbers):010d}",
                generation="legacy",
                produced_at=ordered_at,
                sent_at=ordered_at,
                valid_until=valid_until,
                pickup_deadline=pickup_deadline,
                activation_deadline=activation_deadline,
            )
            for order in orders
        ]
    )
    # Read back so that every card has its primary key on every database.
    return list(Card.objects.filter(order__in=orders).order_by("pk"))


def states(cards_: Iterable[Card]) -> list[str]:
    pks = [card.pk for card in cards_]
    by_pk = dict(Card.objects.filter(pk__in=pks).values_list("pk", "state"))
    return [by_pk[pk] for pk in pks]


def audit_entries(card: Card, action: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type="card", object_id=str(card.pk), action=action)
    )


def block_reason(card: Card) -> str | None:
    return Block.objects.filter(card=card).values_list("reason", flat=True).first()


def signature_certificate(
    card: Card, issuer: object, *, issued: datetime, ends: datetime
) -> Certificate:
    """A valid signature certificate on the card, as a row only (its DER a placeholder): what
    the notices read of a certificate, its end date."""
    return Certificate.objects.create(
        card=card,
        issuer=issuer,
        profile="signature",
        serial="5eed",
        subject="CN=Erik Eriksson",
        not_before=issued,
        not_after=ends,
        der=b"\x30\x00",
        status="valid",
        status_changed_at=issued,
    )
