"""The second ID administrator of a four-eyes hand-out (E11): approve it, or withdraw a wrong
registration.

The approver is neither the administrator who registered the hand-out (E11) nor whoever ordered
or holds the card (E3). The policy calendar and the pick-up deadline (R3) are judged again at
approval, and so is the recorded document, which must still be valid that day (E4). Two
approvals at once: the card row's lock lets one through; the other finds the card active (E1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from ekort.domain.errors import Refused
from ekort.domain.four_eyes import decide_approver
from ekort.domain.id_documents import DocumentKind, decide_identity_document
from ekort.domain.lifecycle import CardAction
from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.rulebook import rule
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import ApprovalOutcome, CardType, Role
from ekort.store.models import Card, HandOutApproval

from ..access import actor_label, require_role
from ..pki import issuance
from ..policy import current_calendar
from ._common import audit_card, locked_card, move, snapshot
from .handover import (
    deadline_passed,
    pending_hand_out,
    require_holder_age,
    require_separation_of_duties,
)


def _require_pending(card: Card, doing_en: str) -> HandOutApproval:
    pending = pending_hand_out(card)
    if pending is None:
        e11 = rule("E11")
        raise Refused(
            "E11",
            f"{e11.sv} Ingen registrerad utlämning väntar på godkännande för kortet.",
            f"{e11.en} No registered hand-out of this card awaits approval; nothing to {doing_en}.",
        )
    return pending


def approve_hand_out(*, actor: Any, card_id: int, now: datetime) -> Card:
    """Another ID administrator approves a registered hand-out: the card becomes active and its
    certificates are released, as at a one-administrator hand-out."""
    require_aware(now)
    require_role(actor, Role.ID_ADMIN)
    today = local_date(now)
    with transaction.atomic():
        card = locked_card(card_id)
        current_calendar().decide(PolicyAction.HAND_OUT, CardType(card.card_type), now).require()
        before = snapshot(card)
        move(card, CardAction.HAND_OUT)  # E1: the loser of two approvals finds it active
        pending = _require_pending(card, "approve")
        decide_approver(registered_by=pending.registered_by_id, approver=actor.pk).require()
        require_separation_of_duties(actor, card)
        deadline_passed("R3", card.pickup_deadline, today)
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
        after = {
            **snapshot(card, "activated_at"),
            "document_kind": check.document_kind,
            "registered_by": actor_label(pending.registered_by),
            "registered_at": pending.registered_at.isoformat(),
            "certificates_released": len(released),
        }
        audit_card(actor, CardAction.HAND_OUT.value, card, now, before, after)
        return card


def withdraw_hand_out(*, actor: Any, card_id: int, now: datetime, reason: str = "") -> Card:
    """The registrar or another ID administrator withdraws a wrong registration; the card stays
    awaiting pick-up and can be registered again."""
    require_aware(now)
    require_role(actor, Role.ID_ADMIN)
    note = str(reason)[:500]
    with transaction.atomic():
        card = locked_card(card_id)
        pending = _require_pending(card, "withdraw")
        pending.decided_by, pending.decided_at = actor, now
        pending.outcome = ApprovalOutcome.WITHDRAWN.value
        pending.note = note
        pending.save(update_fields=["decided_by", "decided_at", "outcome", "note"])
        state = snapshot(card)
        after = {**state, "registered_by": actor_label(pending.registered_by)}
        audit_card(actor, "hand_out_withdrawn", card, now, state, after, reason=note)
        return card
