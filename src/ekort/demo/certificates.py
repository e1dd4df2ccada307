"""Certificates in the demo: ekort's CA hierarchy and another region's issuer, made as of the
history's start; the certificates a holder adds in self-service (R12, R13); and the OCSP
responses and CRLs published as of the build instant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from ekort.services.ca import authority, holder_certificates, status
from ekort.store.models import CertificateAuthority

from .cards import CardRef, Plan
from .timeline import HISTORY_START

# Another region's person CA: the additional certificates on cards come from it (R13).
FOREIGN_ISSUER = "Region Uppsala Person ID 3 CA v1"


def create_issuers() -> None:
    """ekort's CA hierarchy (unless `ekort ca init` made it already) and another region's
    issuer for the additional certificates on cards (R13), both as of the history's start."""
    if not CertificateAuthority.objects.filter(role=CertificateAuthority.Role.ROOT).exists():
        authority.init_hierarchy(now=HISTORY_START, actor="ekort demo")
    if not CertificateAuthority.objects.filter(name=FOREIGN_ISSUER).exists():
        authority.init_foreign_issuer(
            name=FOREIGN_ISSUER, organisation="Region Uppsala", now=HISTORY_START
        )


def self_service(plan: Plan, card: CardRef, at: datetime) -> None:
    """At home, in self-service: a signature certificate with a code of the holder's own
    (R12), and an additional certificate from another region (R13), later swapped."""
    holder = plan.user_of_person[card.holder]
    code = plan.pin()
    pin = card.pin  # as chosen at activation; a later unlock in the plan must not leak in

    def download() -> None:
        holder_certificates.download_signature_certificate(
            actor=holder, card_id=card.pk, pin=pin, signature_code=code, now=at
        )
        holder_certificates.add_additional_certificate(
            actor=holder, card_id=card.pk, pin=pin, issuer_name=FOREIGN_ISSUER, now=at
        )

    plan.event(at, f"{card.holder} downloads self-service certificates", download)
    later = at + timedelta(days=60)
    plan.event(
        later,
        f"{card.holder} swaps the additional certificate",
        lambda: holder_certificates.add_additional_certificate(
            actor=holder,
            card_id=card.pk,
            pin=pin,
            issuer_name=FOREIGN_ISSUER,
            now=later,
            swap=True,
        ),
    )


def publish(build_at: datetime) -> None:
    """Responses signed at historical instants have long expired: once the demo is committed,
    sign them as of the build instant and publish the CRLs, as the scheduler would."""
    transaction.on_commit(lambda: status.publish_due(build_at))
