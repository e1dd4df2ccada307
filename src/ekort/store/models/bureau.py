"""The card bureau's production orders and the holders' photos kept for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .offices import CardOffice

USER = settings.AUTH_USER_MODEL


class BureauBatch(models.Model):
    """A production order for the card bureau: the cards one call of `produce` personalised,
    written to one file the bureau prints from (card number, name, photo, layout, R5). The
    photos are deleted when the bureau's delivery is confirmed."""

    produced_at = models.DateTimeField()
    produced_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    cards = models.PositiveIntegerField()
    file_name = models.CharField(max_length=100, blank=True)  # in the bureau directory, once named
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"bureau batch {self.pk} ({self.cards} cards)"


class CardPhoto(models.Model):
    """The holder's photo taken at the counter, AES-256-GCM encrypted (`services.ca.secrets`,
    bound to the card), kept until the bureau's delivery of the card is confirmed. A table of
    its own, so that no query of cards reads a picture."""

    card = models.OneToOneField(
        "ekort.Card", on_delete=models.PROTECT, primary_key=True, related_name="kept_photo"
    )
    ciphertext = models.BinaryField(editable=False)
    media_type = models.CharField(max_length=20)  # image/jpeg or image/png
    taken_at = models.DateTimeField()
    # Where it was taken: only ID administrators of that office may look at it.
    office = models.ForeignKey(
        CardOffice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"photo of card {self.card_id}"
