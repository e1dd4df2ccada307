"""Revoking a card's certificates when the card is blocked, in the block's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ekort.domain.revocation import REASON_CODE
from ekort.domain.vocabulary import BlockReason
from ekort.store.models import Certificate

from .status import refresh_after_commit

Status = Certificate.Status


def revoke_cards(card_ids: Sequence[int], reason: BlockReason, now: datetime) -> list[int]:
    """Revoke every live certificate of these cards (set-based); OCSP follows on commit."""
    ids = list(
        Certificate.objects.filter(
            card_id__in=card_ids, status__in=[Status.ON_HOLD, Status.VALID]
        ).values_list("pk", flat=True)
    )
    Certificate.objects.filter(pk__in=ids).update(
        status=Status.REVOKED,
        revoked_at=now,
        status_changed_at=now,
        revocation_reason=REASON_CODE[reason] or "unspecified",
    )
    refresh_after_commit(ids, now)
    return ids
