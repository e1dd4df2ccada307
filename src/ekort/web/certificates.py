"""The certificates on a holder's card, in the words of Mina sidor (R11-R13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ekort.domain.revocation_reasons import REMOVED_FROM_CARD
from ekort.store.models import Card, Certificate

PROFILES: dict[str, Promise] = {
    Certificate.Profile.AUTHENTICATION: _("E-legitimation (SITHS eID)"),
    Certificate.Profile.SIGNATURE: _("Underskriftscertifikat"),
    Certificate.Profile.ADDITIONAL: _("Tilläggscertifikat"),
}

STATUSES: dict[str, Promise] = {
    Certificate.Status.ON_HOLD: _("Vilande tills kortet aktiveras"),
    Certificate.Status.VALID: _("Giltigt"),
    Certificate.Status.REVOKED: _("Spärrat"),
}
LIVE = (Certificate.Status.ON_HOLD, Certificate.Status.VALID)


@dataclass(frozen=True)
class CertificateRow:
    certificate: Certificate

    @property
    def profile(self) -> str:
        value = self.certificate.profile
        return str(PROFILES.get(value, value))

    @property
    def issuer(self) -> str:
        return self.certificate.issuer.name

    @property
    def serial(self) -> str:
        return self.certificate.serial

    @property
    def valid_until(self) -> datetime:
        return self.certificate.not_after

    @property
    def status(self) -> str:
        c = self.certificate
        if c.status == Certificate.Status.REVOKED and c.revocation_reason == REMOVED_FROM_CARD:
            return str(_("Borttaget från kortet"))
        return str(STATUSES.get(c.status, c.status))

    @property
    def is_live(self) -> bool:
        return self.certificate.status in LIVE and self.certificate.on_card


def certificate_rows(card: Card) -> list[CertificateRow]:
    """Every certificate the card has had, live ones first, newest first within each."""
    found = Certificate.objects.filter(card=card).select_related("issuer")
    rows = [CertificateRow(c) for c in found.order_by("-not_before", "-pk")]
    return sorted(rows, key=lambda row: not row.is_live)


def live_certificates(card: Card) -> QuerySet[Certificate]:
    """The certificates on the card now (removed and replaced ones are not)."""
    found = Certificate.objects.filter(card=card, status__in=LIVE, on_card=True)
    return found.select_related("issuer")


def live_certificate(card: Card, profile: str) -> Certificate | None:
    """The certificate of `profile` that is on the card now, if any."""
    return live_certificates(card).filter(profile=profile).first()
