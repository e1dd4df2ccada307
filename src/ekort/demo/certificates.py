"""Certificates in the demo: ekort's CA hierarchy and another region's issuer, made as of the
history's start; the certificates a holder adds in self-service (R12, R13); and the OCSP
responses and CRLs published as of the build instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import transaction

from ekort.services.ca import authority, holder_certificates, status
from ekort.store.models import CertificateAuthority

from .cards import CardRef, Plan
from .timeline import HISTORY_START, instant

# Another region's person CA: the additional certificates on cards come from it (R13).
FOREIGN_ISSUER = "Region Uppsala Person ID 3 CA v1"
# An issuing CA lives ten years (EKORT_CA_ISSUING_YEARS) and a card at most five: the issuer
# renews each issuing CA five years into its life, so that no card made after that outlives
# the CA that certifies it (its certificate would end before the card).
RENEW_AFTER_YEARS = 5


def create_issuers() -> None:
    """ekort's CA hierarchy (unless `ekort ca init` made it already) and another region's
    issuer for the additional certificates on cards (R13), both as of the history's start."""
    if not CertificateAuthority.objects.filter(role=CertificateAuthority.Role.ROOT).exists():
        authority.init_hierarchy(now=HISTORY_START, actor="ekort demo")
    if not CertificateAuthority.objects.filter(name=FOREIGN_ISSUER).exists():
        authority.init_foreign_issuer(
            name=FOREIGN_ISSUER, organisation="Region Uppsala", now=HISTORY_START
        )


def plan_renewals(plan: Plan) -> None:
    """The CA rollovers of the history (`ekort ca renew`), every RENEW_AFTER_YEARS years from
    the hierarchy's making, on a working morning: those after the build instant are left out
    with the rest of the future."""
    for n in range(1, 20):
        year = HISTORY_START.year + n * RENEW_AFTER_YEARS
        at = instant(plan.workday(date(year, HISTORY_START.month, HISTORY_START.day)), "07:30")
        if at > plan.build_at:
            return
        plan.event(at, "the issuer renews the issuing CAs", _renewal(at))


def _renewal(at: datetime) -> Callable[[], None]:
    def renew() -> None:
        for level in authority.ca_settings().issuing_names:
            authority.renew_issuing_ca(authority.issuing_ca(level, at), now=at)

    return renew


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
