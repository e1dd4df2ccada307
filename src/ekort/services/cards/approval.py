"""The second ID administrator of a four-eyes hand-out or activation (E11): approve it, or
withdraw a wrong registration.

The approver is neither the administrator who registered it (E11) nor whoever ordered or holds
the card (E3). The policy calendar and the deadline (R3 for a hand-out, R8 for an activation)
are judged again at approval, and so is the recorded document, which must still be valid that
day (E4). An activation is approved while the holder types the PIN on the PIN pad (R9); it goes
to the chip last, inside the transaction. An approved card blocks the card it replaces, if that
one is still live (E12, `succession`). Two approvals at once: the card row's lock lets one
through; the other finds the card active (E1).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.chip import CardChip
from ekort.domain.errors import DomainError
from ekort.domain.four_eyes import FourEyesStep, decide_four_eyes
from ekort.domain.id_documents import DocumentKind, decide_identity_document
from ekort.domain.lifecycle import CardAction
from ekort.domain.pins import validate_pin
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import ApprovalOutcome, CheckPurpose, Role
from ekort.store.models import Card, FourEyesApproval

from .. import audit
from ..ca import issuance
from ..ca.backends import card_reader
from ..roles import actor_label, require_role
from .card_sets import Outcome, card_change, locked_cards, move, snapshot
from .handover import (
    HANDOVERS,
    registration_of,
    require_calendar,
    require_holder_age,
    require_separation_of_duties,
)
from .succession import superseded


def _require_pending(
    card: Card, step: FourEyesStep, actor: Any, purpose: CheckPurpose | None = None
) -> FourEyesApproval:
    pending, waiting = registration_of(card)
    decide_four_eyes(step, waiting, purpose=purpose, actor=actor.pk).require()
    assert pending is not None
    return pending


def _approve(
    actor: Any, card: Card, action: CardAction, purpose: CheckPurpose, now: datetime
) -> dict[str, Any]:
    """The checks and records common to both approvals; the caller holds the card's lock and
    returns the audit entry's `after`, less what only it knows."""
    today = local_date(now)
    require_calendar(HANDOVERS[purpose], card, now, last_day=False)
    move(card, action)  # E1: the loser of two approvals finds the card active
    require_calendar(HANDOVERS[purpose], card, now, last_day=True)
    pending = _require_pending(card, FourEyesStep.APPROVE, actor, purpose)
    require_separation_of_duties(actor, card)
    check = pending.identity_check
    decide_identity_document(
        DocumentKind(check.document_kind), check.document_expires_on, today
    ).require()
    require_holder_age(card, today)
    card.activated_at, card.activated_by = now, actor
    card.save(update_fields=["state", "activated_at", "activated_by"])
    pending.decided_by, pending.decided_at = actor, now
    pending.outcome = ApprovalOutcome.APPROVED.value
    pending.save(update_fields=["decided_by", "decided_at", "outcome"])
    released = issuance.release_hold(card, now)  # certificates good from now on
    return {
        **snapshot(card, "activated_at"),
        "document_kind": check.document_kind,
        "registered_by": actor_label(pending.registered_by),
        "registered_at": pending.registered_at.isoformat(),
        "certificates_released": len(released),
    }


def approve_hand_out(*, actor: Any, card_ids: Collection[int], now: datetime) -> Outcome:
    """Another ID administrator approves registered hand-outs: each card becomes active and its
    certificates are released, as at a one-administrator hand-out."""
    require_aware(now)
    require_role(actor, Role.ID_ADMIN)
    outcome = Outcome()
    changes: list[audit.Change] = []
    with transaction.atomic():

        def approve(card: Card) -> None:
            before = snapshot(card)
            after = _approve(actor, card, CardAction.HAND_OUT, CheckPurpose.HAND_OUT, now)
            changes.append(card_change(actor, CardAction.HAND_OUT.value, card, now, before, after))

        cards = outcome.sift(locked_cards(card_ids, outcome), approve)
        changes += superseded(actor, cards, now)  # the cards these replace (E12)
        audit.append(changes)
    outcome.done = [card.pk for card in cards]
    return outcome


def approve_activation(
    *, actor: Any, pins: Mapping[int, object], now: datetime, chip: CardChip | None = None
) -> Outcome:
    """Another ID administrator approves registered activations while each holder types the PIN
    (R9): the PIN is set on the chip, the card becomes active and its certificates are
    released, as at a one-administrator activation."""
    require_aware(now)
    outcome = Outcome()
    chosen: dict[int, str] = {}
    for card_id, pin in pins.items():
        try:
            chosen[int(card_id)] = validate_pin(pin)  # E6: a bad PIN changes nothing
        except DomainError as problem:
            outcome.refused[int(card_id)] = problem
    if not chosen:  # only unusable input: nothing more to say
        return outcome
    require_role(actor, Role.ID_ADMIN)
    changes: list[audit.Change] = []
    with transaction.atomic():

        def approve(card: Card) -> None:
            before = snapshot(card)
            after = _approve(actor, card, CardAction.ACTIVATE, CheckPurpose.ACTIVATION, now)
            after["pin_set"] = True
            changes.append(card_change(actor, CardAction.ACTIVATE.value, card, now, before, after))

        cards = outcome.sift(locked_cards(chosen, outcome), approve)
        changes += superseded(actor, cards, now)  # the cards these replace (E12)
        audit.append(changes)
        # The chips come last, inside the transaction: if one fails, nothing above is kept.
        for card in cards:
            assert card.number is not None  # every sent card was produced with a number
            (chip or card_reader()).set_pin(card.number, chosen[card.pk])
    outcome.done = [card.pk for card in cards]
    return outcome


def withdraw_hand_out(
    *, actor: Any, card_ids: Collection[int], now: datetime, reason: str = ""
) -> Outcome:
    """The registrar or another ID administrator withdraws wrong registrations, of hand-outs
    or of activations; each card stays as it was and can be registered again."""
    require_aware(now)
    require_role(actor, Role.ID_ADMIN)
    note = str(reason)[:500]
    outcome = Outcome()
    changes: list[audit.Change] = []
    with transaction.atomic():

        def withdraw(card: Card) -> None:
            pending = _require_pending(card, FourEyesStep.WITHDRAW, actor)
            pending.decided_by, pending.decided_at = actor, now
            pending.outcome = ApprovalOutcome.WITHDRAWN.value
            pending.note = note
            pending.save(update_fields=["decided_by", "decided_at", "outcome", "note"])
            state = snapshot(card)
            after = {**state, "registered_by": actor_label(pending.registered_by)}
            action = f"{pending.purpose}_withdrawn"
            changes.append(card_change(actor, action, card, now, state, after, reason=note))

        cards = outcome.sift(locked_cards(card_ids, outcome), withdraw)
        audit.append(changes)
    outcome.done = [card.pk for card in cards]
    return outcome
