"""What every card service shares: finding and locking the card, moving it along the lifecycle
table, and describing the change for the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ekort.domain.errors import NotFound, Refused
from ekort.domain.lifecycle import CardAction, CardState, next_state
from ekort.domain.rulebook import rule
from ekort.store.models import Card, Person

from .. import audit
from ..roles import actor_label


def locked_card(card_id: int) -> Card:
    """The card row, locked until the transaction ends (a no-op lock on SQLite, whose
    IMMEDIATE transactions already serialise writers)."""
    card = (
        Card.objects.select_for_update(of=("self",))
        .select_related("person", "order")
        .filter(pk=card_id)
        .first()
    )
    if card is None:
        raise NotFound(f"There is no card with id {card_id}.")
    return card


def snapshot(card: Card, *fields: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("state", *fields):
        value = getattr(card, name)
        values[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return values


def move(card: Card, action: CardAction) -> CardState:
    """Apply the lifecycle table to the card (E1 refuses an illegal transition)."""
    target = next_state(CardState(card.state), action)
    card.state = target.value
    return target


def card_change(
    actor: Any,
    action: str,
    card: Card,
    now: datetime,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str = "",
) -> audit.Change:
    """The audit entry of a change to `card`, for `audit.record` or `audit.record_many`."""
    return audit.Change(
        actor=actor_label(actor),
        action=action,
        object_type="card",
        object_id=str(card.pk),
        at=now,
        reason=reason,
        before=before,
        after={**after, "card_number": card.number},
    )


def audit_card(
    actor: Any,
    action: str,
    card: Card,
    now: datetime,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str = "",
) -> None:
    audit.record(card_change(actor, action, card, now, before, after, reason))


def require_registered_address(person: Person, rule_id: str) -> None:
    if not person.has_registered_address:
        r = rule(rule_id)
        raise Refused(
            rule_id,
            f"{r.sv} Personen saknar registrerad folkbokföringsadress i ekort.",
            f"{r.en} The person has no registered address recorded in ekort.",
        )
