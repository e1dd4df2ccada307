"""Revoking a card's certificates when the card is blocked, in the block's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ekort.domain.revocation_reasons import REASON_CODE
from ekort.domain.vocabulary import BlockReason
from ekort.store.models import Certificate
from ekort.store.sets import Ids

from .status import change_status

Status = Certificate.Status


def revoke_cards(
    card_ids: Sequence[int], reason: BlockReason, now: datetime, *, resign_held: bool = True
) -> list[int]:
    """Revoke every live certificate of these cards (set-based, `status.change_status`).

    A certificate that was good gets its "revoked" response signed on commit, always: that is
    what makes a block reach relying parties within a second. One that was on hold is already
    answered "revoked" (certificateHold); only the reason changes, and the responder answers it
    with the new reason after its next poll (the block moves the issuers' status revision on).
    With `resign_held=False` (the deadline sweeps, a million at a time) its response is left
    to the publisher (`status.reconcile`, run by `ekort jobs run` right after the sweeps and by
    `ekort ca publish`), which re-signs every response older than its certificate's status."""
    live = Certificate.objects.filter(
        card_id__any_of=Ids(card_ids), status__in=[Status.ON_HOLD, Status.VALID]
    )
    return change_status(
        live,
        now,
        status=Status.REVOKED,
        reason=REASON_CODE[reason] or "unspecified",
        sign_held=resign_held,
    )
