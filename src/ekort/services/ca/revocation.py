"""Revoking a card's certificates when the card is blocked, in the block's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ekort.domain.revocation_reasons import REASON_CODE
from ekort.domain.vocabulary import BlockReason
from ekort.store.models import Certificate
from ekort.store.sets import Ids

from .status import refresh_after_commit

Status = Certificate.Status


def revoke_cards(
    card_ids: Sequence[int], reason: BlockReason, now: datetime, *, resign_held: bool = True
) -> list[int]:
    """Revoke every live certificate of these cards (set-based); OCSP follows on commit.

    A certificate that was good gets its "revoked" response signed on commit, always: that is
    what makes a block reach relying parties within a second. One that was on hold is already
    answered "revoked" (certificateHold); only the reason changes. With `resign_held=False`
    (the deadline sweeps, a million at a time) its response is left to the publisher
    (`status.reconcile`, run by `ekort jobs run` right after the sweeps and by `ekort ca
    publish`), which re-signs every response older than its certificate's status."""
    rows = list(
        Certificate.objects.filter(
            card_id__any_of=Ids(card_ids), status__in=[Status.ON_HOLD, Status.VALID]
        ).values_list("pk", "status")
    )
    ids = Ids(pk for pk, _ in rows)
    Certificate.objects.filter(pk__any_of=ids).update(
        status=Status.REVOKED,
        revoked_at=now,
        status_changed_at=now,
        revocation_reason=REASON_CODE[reason] or "unspecified",
    )
    refresh_after_commit(
        ids if resign_held else [pk for pk, was in rows if was != Status.ON_HOLD], now
    )
    return list(ids)
