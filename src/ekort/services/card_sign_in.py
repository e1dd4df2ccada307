"""Signing in with the card (E16): the certificate a browser presented, checked against
ekort's own records, decided by `ekort.domain.card_sign_in`, and written to the audit trail.

The TLS-terminating proxy (deploy/nginx/ekort.conf) has asked for the certificate and verified
it against ekort's CA chain; the portal passes on what the proxy said (`verified`) and the
certificate, but only from the proxy it trusts (`ekort.web.card_sign_in`). Here the certificate
is looked up by its issuer and serial among the certificates ekort issued from its issuing CAs
and compared byte for byte with the one on record, so a certificate from anyone else, one with
a made-up serial or one the proxy did not verify never signs in. The person is found by the
HSA-id in the subject's serialNumber, and must be the card's holder, with one active account.

Every sign-in and every refusal is an audit entry (`card_sign_in`, `card_sign_in_refused`) on
the card when the certificate is ekort's, else on the certificate's fingerprint; a signed-in
session whose card stops passing (`recheck`: blocked, revoked, expired, another certificate) is
ended with `card_session_ended`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from django.contrib.auth.models import User
from django.db import transaction

from ekort.domain.card_sign_in import (
    PresentedCertificate,
    decide_card_sign_in,
    roles_at,
)
from ekort.domain.errors import Decision
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import AssuranceLevel, Role
from ekort.store.models import Account, Certificate, CertificateAuthority

from . import audit
from .roles import roles_of

# What the proxy says of a certificate it verified (nginx's $ssl_client_verify).
VERIFIED = "SUCCESS"
# A PEM certificate of a card is about 1 kB; anything far larger is not one.
MAX_PEM_CHARACTERS = 16_384


@dataclass(frozen=True)
class CardSignIn:
    """The answer for one presented certificate: the decision, and when allowed the account,
    the level it signed in at and the roles that level gives (`roles_at`)."""

    decision: Decision
    fingerprint: str  # SHA-256 of the certificate's DER, hex; "" for none or unreadable
    user: User | None = None
    level: AssuranceLevel | None = None
    roles: frozenset[Role] = frozenset()
    certificate_id: int | None = None
    card_id: int | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # for the audit entry

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


@dataclass
class _Found:
    presented: PresentedCertificate | None
    fingerprint: str = ""
    user: User | None = None
    certificate: Certificate | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def _parse(pem: str | None) -> x509.Certificate | None:
    if not pem or len(pem) > MAX_PEM_CHARACTERS:
        return None
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None


def _subject_serial(cert: x509.Certificate) -> str:
    values = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    value = values[0].value if values else ""
    return value if isinstance(value, str) else ""


def _on_record(cert: x509.Certificate, der: bytes) -> Certificate | None:
    """The certificate ekort issued from one of its issuing CAs that is `der`, byte for
    byte; None for any other."""
    issuer_hash = hashlib.sha1(cert.issuer.public_bytes(), usedforsecurity=False).hexdigest()
    issuers = CertificateAuthority.objects.filter(
        role=CertificateAuthority.Role.ISSUING, name_sha1=issuer_hash
    )
    record = (
        Certificate.objects.select_related("card__person", "issuer")
        .filter(issuer__in=issuers, serial=format(cert.serial_number, "x"))
        .first()
    )
    if record is None or bytes(record.der) != der:
        return None
    return record


def _examine(pem: str | None, verified: str) -> _Found:
    cert = _parse(pem)
    if cert is None:
        if pem:
            return _Found(
                PresentedCertificate(verified_by_proxy=False, ours=False),
                facts={"certificate": "unreadable"},
            )
        return _Found(None)
    der = cert.public_bytes(Encoding.DER)
    found = _Found(
        PresentedCertificate(verified_by_proxy=verified == VERIFIED, ours=False),
        fingerprint=hashlib.sha256(der).hexdigest(),
        facts={
            "serial": format(cert.serial_number, "x")[:40],
            "issuer": cert.issuer.rfc4514_string()[:200],
            "proxy": verified[:80] or "NONE",
        },
    )
    record = _on_record(cert, der)
    if record is None:
        found.facts["subject"] = cert.subject.rfc4514_string()[:200]
        return found
    card, person = record.card, record.card.person
    hsa_id = _subject_serial(cert)
    names_holder = bool(hsa_id) and hsa_id == person.hsa_id
    accounts = list(
        Account.objects.select_related("user").filter(person=person, user__is_active=True)
    )
    user = accounts[0].user if len(accounts) == 1 else None
    found.user, found.certificate = user, record
    found.facts.update(profile=record.profile, card_state=card.state, status=record.status)
    found.presented = PresentedCertificate(
        verified_by_proxy=verified == VERIFIED,
        ours=True,
        profile=record.profile,
        status=record.status,
        card_state=card.state,
        not_before=record.not_before,
        not_after=record.not_after,
        level=AssuranceLevel(record.issuer.assurance_level),
        names_holder=names_holder,
        accounts=len(accounts),
        roles=roles_of(user) if user is not None else frozenset(),
    )
    return found


def _answer(found: _Found, now: datetime) -> CardSignIn:
    decision = decide_card_sign_in(found.presented, now)
    record = found.certificate
    allowed = decision.allowed
    presented = found.presented
    level = presented.level if presented is not None and allowed else None
    held = presented.roles if presented is not None else frozenset()
    return CardSignIn(
        decision=decision,
        fingerprint=found.fingerprint,
        user=found.user if allowed else None,
        level=level,
        roles=roles_at(level, held),
        certificate_id=record.pk if record is not None else None,
        card_id=record.card_id if record is not None else None,
        facts=found.facts,
    )


def _audit(result: CardSignIn, action: str, *, user: Any, now: datetime, address: str) -> None:
    if user is not None:
        actor = str(user.get_username())
    else:
        actor = f"certificate:{result.fingerprint[:16]}" if result.fingerprint else "anonymous"
    if result.card_id is not None:
        object_type, object_id = "card", str(result.card_id)
    else:
        object_type, object_id = "certificate", result.fingerprint[:40] or "none"
    after: dict[str, Any] = {**result.facts, "address": address[:64]}
    if result.level is not None:
        after["level"] = result.level.value
        after["roles"] = sorted(result.roles)
    with transaction.atomic():
        audit.append(
            [
                audit.Change(
                    actor=actor[:150],
                    action=action,
                    object_type=object_type,
                    object_id=object_id,
                    at=now,
                    reason=f"{result.decision.rule}: {result.decision.en}"[:500],
                    after=after,
                )
            ]
        )


def sign_in(pem: str | None, verified: str, *, now: datetime, address: str = "") -> CardSignIn:
    """Decide whether the certificate `pem` (as the proxy passed it, with its verification
    result `verified`) signs in at `now`, and write the sign-in or its refusal to the audit
    trail. `address` is the client's, for the trail."""
    require_aware(now)
    found = _examine(pem, verified)
    result = _answer(found, now)
    action = "card_sign_in" if result.allowed else "card_sign_in_refused"
    # A refusal names the account it would have been when there is one (a blocked card's
    # holder), so the trail shows whose card was turned away.
    _audit(result, action, user=found.user, now=now, address=address)
    return result


def recheck(
    pem: str | None, verified: str, *, user: Any, fingerprint: str, now: datetime, address: str = ""
) -> CardSignIn:
    """A request of a session signed in with the card: the same certificate presented again,
    still passing E16 for the same account. When it does not (a card blocked meanwhile, a
    certificate expired, another certificate or none), the refusal is written to the audit
    trail as `card_session_ended`, and the caller ends the session."""
    require_aware(now)
    found = _examine(pem, verified)
    if found.presented is not None:
        same = found.fingerprint == fingerprint and found.user == user
        found.presented = replace(found.presented, same_as_session=same)
    result = _answer(found, now)
    if not result.allowed:
        _audit(result, "card_session_ended", user=user, now=now, address=address)
    return result
