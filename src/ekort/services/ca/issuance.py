"""Personalising a card at production: the chip makes its keys, ekort's CA certifies them.

The authentication certificate (SITHS eID, R11) is issued with the card and put on hold: relying
parties see it as revoked (certificateHold) until the card is activated (R8), and as good after.
No OCSP response is signed ahead for it while it is on hold (`status.note_issued_on_hold`).
No Telia eID and no signature certificate are issued at delivery (R11, R12).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from ekort.domain.card_certificates import decide_certificate_holder
from ekort.domain.timekeeping import STOCKHOLM
from ekort.pki.certificates import DEFAULT_POLICY_OIDS, CardTemplate, Holder, Profile, card_template
from ekort.pki.keys import KeyAlgorithm
from ekort.store.models import Card, Certificate, CertificateAuthority
from ekort.store.sets import insert_rows

from .authority import ca_settings, certificate_of, endpoints, issuing_ca, signing_key_of
from .backends import card_reader
from .secrets import new_puk, seal
from .status import change_status

Status = Certificate.Status


def card_end(card: Card) -> dt.datetime:
    """The last instant of the card's validity: the end of its last day in Stockholm."""
    assert card.valid_until is not None
    next_day = card.valid_until + dt.timedelta(days=1)
    return dt.datetime.combine(next_day, dt.time.min, tzinfo=STOCKHOLM) - dt.timedelta(seconds=1)


def check_holder(card: Card) -> None:
    """Refuse a card whose holder cannot be named in a SITHS certificate (R11, decided by
    `card_certificates.decide_certificate_holder`)."""
    decide_certificate_holder(has_hsa_id=bool(card.person.hsa_id)).require()


def holder_of(card: Card) -> Holder:
    check_holder(card)
    person = card.person
    assert card.number is not None
    assert person.hsa_id
    return Holder(
        given_name=person.given_name,
        family_name=person.family_name,
        hsa_id=person.hsa_id,
        card_number=card.number,
        organisation=ca_settings().region,
    )


Templates = dict[tuple[int, Profile, bool], CardTemplate]


def _template(
    ca: CertificateAuthority, profile: Profile, public: Any, templates: Templates
) -> CardTemplate:
    """The CA's template for `profile` and keys like `public`, made once per `templates`
    (one batch, or one certificate)."""
    key = (ca.pk, profile, isinstance(public, ec.EllipticCurvePublicKey))
    if key not in templates:
        templates[key] = card_template(
            profile=profile,
            public=public,
            issuer=certificate_of(ca),
            issuer_key=signing_key_of(ca),
            endpoints=endpoints(ca),
            policy_oid=DEFAULT_POLICY_OIDS.get(ca.assurance_level, "2.5.29.32.0"),
            # Windows smart card logon with the SITHS eID; the additional certificate is
            # another region's, and names its holder in that region's domain, not ours.
            upn_domain=ca_settings().upn_domain if profile is Profile.AUTHENTICATION else "",
        )
    return templates[key]


_COLUMNS = (
    "card_id",
    "issuer_id",
    "profile",
    "serial",
    "subject",
    "not_before",
    "not_after",
    "der",
    "status",
    "status_changed_at",
    "revoked_at",
    "revocation_reason",
    "on_card",
)


def _certificate_row(
    card: Card,
    ca: CertificateAuthority,
    profile: Profile,
    public: Any,
    now: dt.datetime,
    status: str,
    templates: Templates,
) -> tuple[Any, ...]:
    """A certificate for `public`, as the row of `_COLUMNS` that stores it; a batch writes
    such rows without a model object per certificate, and passes one `templates` for all."""
    template = _template(ca, profile, public, templates)
    issued = template.issue_with_subject(
        holder=holder_of(card), public=public, now=now, not_after=card_end(card)
    )
    cert = issued.certificate
    return (
        card.pk,
        ca.pk,
        profile.value,
        format(cert.serial_number, "x"),
        issued.subject,
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        cert.public_bytes(serialization.Encoding.DER),
        status,
        now,
        None,
        "",
        True,
    )


_SERIAL, _DER = _COLUMNS.index("serial"), _COLUMNS.index("der")


def issue_certificate(
    *,
    card: Card,
    ca: CertificateAuthority,
    profile: Profile,
    public: Any,
    now: dt.datetime,
    status: str,
) -> tuple[Certificate, bytes]:
    """Certify a public key from the card; store the record. Returns it and the DER."""
    row = _certificate_row(card, ca, profile, public, now, status, {})
    record = Certificate(**dict(zip(_COLUMNS, row, strict=True)))
    record.save(force_insert=True)
    return record, row[_DER]


def _personalise_chip(card: Card, certify: Callable[[Any], bytes]) -> None:
    """PUK, the chip's authentication key and the certificate `certify` makes for it; sets
    the card's sealed PUK. The card is not saved, and the chip is on disk only after
    `card_reader().make_durable`, which must come before the commit."""
    from ekort.pki.card_token import KeySlot

    assert card.number is not None
    puk = new_puk()
    card_reader().personalise_new(
        card.number,
        puk=puk,
        slot=KeySlot.AUTH,
        algorithm=KeyAlgorithm(settings.EKORT_CARD_KEY_ALGORITHM),
        certify=certify,
    )
    card.puk_ciphertext = seal(puk, card.pk)


@dataclass(frozen=True)
class Personalised:
    serials: list[str]  # of the certificates, in the cards' order
    issuers: list[int]  # the CAs that issued them


def personalise(cards: Sequence[Card], now: dt.datetime) -> Personalised:
    """At production, in its transaction: each card's PUK (kept only sealed,
    `secrets.seal`), its chip's authentication key and the certificate for it, on hold until
    activation. The chips are made durable together (one wait for the disk, before the caller
    commits); the certificates are issued from one template per CA and stored in one insert.
    Sets each card's `puk_ciphertext`; the caller saves the cards, and calls
    `status.note_issued_on_hold` for the issuers last before it commits (it locks their rows:
    productions side by side then wait for each other only briefly). Every holder is checked
    (R11) before any chip is touched."""
    for card in cards:
        check_holder(card)
    authorities: dict[str, CertificateAuthority] = {}
    templates: Templates = {}
    rows: list[tuple[Any, ...]] = []
    for card in cards:
        level = card.assurance_level
        if level not in authorities:
            authorities[level] = issuing_ca(level, now)
        ca = authorities[level]

        def certify(public: Any, card: Card = card, ca: CertificateAuthority = ca) -> bytes:
            rows.append(
                _certificate_row(
                    card, ca, Profile.AUTHENTICATION, public, now, Status.ON_HOLD, templates
                )
            )
            der: bytes = rows[-1][_DER]
            return der

        _personalise_chip(card, certify)
    card_reader().make_durable([card.number for card in cards if card.number is not None])
    # One COPY: the ORM's bulk insert costs more per row. No id is read back: nothing signs
    # an OCSP response for a certificate on hold (status.note_issued_on_hold).
    insert_rows(Certificate, _COLUMNS, rows)
    return Personalised(
        serials=[row[_SERIAL] for row in rows], issuers=[ca.pk for ca in authorities.values()]
    )


def release_hold(card: Card, now: dt.datetime) -> list[int]:
    """At activation or hand-out: the card's certificates become good (R8)."""
    held = Certificate.objects.filter(card=card, status=Status.ON_HOLD)
    return change_status(held, now, status=Status.VALID)
