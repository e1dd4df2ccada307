"""A person's and a card's history, read from the audit trail, newest first.

The trail names what changed by (object type, id); a person's history is the entries about
the person, each of their cards, each letter to them and each e-mail notice to them or about
their cards (`notice_sent`). Every lookup uses the trail's (object_type, object_id) index.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from ekort.store.models import AuditEntry, Card, Letter, Notice

MAX_ENTRIES = 500


def _newest_first(condition: Q, limit: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(condition).order_by("-seq")[:limit])


def _ids(values: Iterable[int]) -> list[str]:
    return [str(pk) for pk in values]


def _sent(notices: Q) -> list[str]:
    return _ids(Notice.objects.filter(notices, sent_at__isnull=False).values_list("pk", flat=True))


def card_history(card_id: int, *, limit: int = MAX_ENTRIES) -> list[AuditEntry]:
    """The entries about the card, its letters and the notices sent about it."""
    letters = _ids(Letter.objects.filter(card_id=card_id).values_list("pk", flat=True))
    notices = _sent(Q(card_id=card_id))
    condition = Q(object_type="card", object_id=str(card_id))
    if letters:
        condition |= Q(object_type="letter", object_id__in=letters)
    if notices:
        condition |= Q(object_type="notice", object_id__in=notices)
    return _newest_first(condition, limit)


def person_history(person_id: int, *, limit: int = MAX_ENTRIES) -> list[AuditEntry]:
    """The entries about the person, each of their cards and each letter to them, and the
    notices sent to them or about their cards."""
    card_ids = list(Card.objects.filter(person_id=person_id).values_list("pk", flat=True))
    cards = _ids(card_ids)
    letters = _ids(Letter.objects.filter(person_id=person_id).values_list("pk", flat=True))
    notices = _sent(Q(recipient_id=person_id) | Q(card_id__in=card_ids))
    condition = Q(object_type="person", object_id=str(person_id))
    if cards:
        condition |= Q(object_type="card", object_id__in=cards)
    if letters:
        condition |= Q(object_type="letter", object_id__in=letters)
    if notices:
        condition |= Q(object_type="notice", object_id__in=notices)
    return _newest_first(condition, limit)


def trail(*, action: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    """The whole trail, newest first (the security officer's Granskning), or one action's or
    one actor's entries. Read a page at a time: it walks the sequence backwards."""
    entries = AuditEntry.objects.order_by("-seq")
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor=actor)
    return entries
