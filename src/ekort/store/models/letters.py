"""The second person a letter with the PUK waits for when it is sent again (E14)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .cards import Letter


class LetterApproval(models.Model):
    """A letter with the PUK sent again by the support desk or an issuer administrator: it is
    not printed until another person approves it (E14), so that nobody re-sends a PUK and reads
    it alone. Kept after the approval, as the record of who did which half."""

    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, related_name="approval")
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    resent_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        state = "approved" if self.approved_at else "awaiting approval"
        return f"letter {self.letter_id} sent again ({state})"

    @property
    def awaiting(self) -> bool:
        return self.approved_at is None
