from __future__ import annotations

from django.db import models
from django.db.models import Q

from ekort.domain.notices import NoticeKind, NoticeStatus, Recipient

from .cards import Card
from .choices import choices
from .people import Person
from .pki import Certificate


class Notice(models.Model):
    """An e-mail notice about a card (or one of its certificates): to whom, which, when.

    Recorded by `ekort jobs run` the first time it is due (`services.notices`), once per card
    or certificate, kind, threshold and recipient (the holder, the manager), which is what
    makes a second run the same day send nothing new; then delivered, and marked sent. A
    delivery that fails leaves it pending with the failure noted, and the next run tries
    again. Never an identity number, a code or a postal address: the mail is rendered from
    the card and the person when it is sent.
    """

    # Indexed for the card's history (the unique constraint's index holds card notices only).
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="notices")
    certificate = models.ForeignKey(
        Certificate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    recipient = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="notices")
    role = models.CharField(max_length=10, choices=choices(Recipient))  # holder or manager
    kind = models.CharField(max_length=24, choices=choices(NoticeKind))
    days_before = models.PositiveSmallIntegerField()  # the threshold; 0 for news
    event_on = models.DateField()  # the day it tells of: the deadline, last valid day, block
    found_at = models.DateTimeField()  # when the job found it due and recorded it
    status = models.CharField(
        max_length=10, choices=choices(NoticeStatus), default=NoticeStatus.PENDING.value
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.EmailField(blank=True)  # the address it went to
    failure = models.CharField(max_length=300, blank=True)  # the last failed delivery's error

    class Meta:
        constraints = [
            # One notice per card (or certificate), kind, threshold and role: the manager is
            # told once, whoever it is then. The job's selection probes these indexes with the
            # card's (the certificate's) own columns only.
            models.UniqueConstraint(
                fields=["card", "kind", "days_before", "role"],
                condition=Q(certificate__isnull=True),
                name="one_notice_per_card_and_role",
            ),
            models.UniqueConstraint(
                fields=["certificate", "kind", "days_before", "role"],
                condition=Q(certificate__isnull=False),
                name="one_notice_per_certificate_and_role",
            ),
        ]
        # What the next run delivers: a small index, since a notice leaves it once sent.
        indexes = [
            models.Index(
                fields=["found_at"], condition=Q(status="pending"), name="notices_to_deliver"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} notice to {self.role} about card {self.card_id} ({self.status})"
