"""What holders do in self-service ("Mina sidor") with the certificates on their card:
download a signature certificate and choose its code (R12), and add, remove or swap the
additional certificate from another region (R13). Whether the holder may is decided in
`ekort.domain.card_certificates`, which the holder's pages ask too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from ekort.domain.access import OWN_CERTIFICATES
from ekort.domain.card_certificates import (
    AdditionalChange,
    decide_additional_certificate,
    decide_signature_certificate,
)
from ekort.domain.errors import InvalidInput
from ekort.domain.lifecycle import CardAction, CardState, next_state
from ekort.domain.pins import validate_pin
from ekort.domain.revocation_reasons import REMOVED_FROM_CARD
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import CardType
from ekort.pki.card_codes import entered_pin
from ekort.pki.certificates import Profile
from ekort.pki.keys import KeyAlgorithm
from ekort.store.locks import lock_card
from ekort.store.models import Card, Certificate, CertificateAuthority

from .. import audit
from ..roles import actor_label, require_access, require_role
from .authority import issuing_ca
from .backends import card_reader
from .issuance import issue_certificate
from .status import change_status, note_issued

Status = Certificate.Status
LIVE = (Status.ON_HOLD, Status.VALID)


def _own_active_card(actor: Any, card_id: int) -> Card:
    """The holder's own card (E10), active: the lifecycle lets only an active card's
    certificates change (E1)."""
    require_role(actor, *OWN_CERTIFICATES.roles)
    card = lock_card(card_id)
    require_access(actor, OWN_CERTIFICATES, card.person_id, card.person.manager_id)
    next_state(CardState(card.state), CardAction.MANAGE_CERTIFICATES, CardType(card.card_type))
    return card


def _slot(name: str) -> Any:
    from ekort.pki.card_token import KeySlot

    return KeySlot(name)


def _live(card: Card, profile: Profile) -> Certificate | None:
    return Certificate.objects.filter(
        card=card, profile=profile.value, status__in=LIVE, on_card=True
    ).first()


def _audit(actor: Any, action: str, card: Card, now: datetime, **after: object) -> None:
    audit.append(
        [
            audit.Change(
                actor=actor_label(actor),
                action=action,
                object_type="card",
                object_id=str(card.pk),
                at=now,
                after={"card_number": card.number, **after},
            ),
        ]
    )


def download_signature_certificate(
    *, actor: Any, card_id: int, pin: object, signature_code: object, now: datetime
) -> Certificate:
    """R12: the holder asks for a signature certificate and chooses its code; the chip makes
    the key, and ekort's CA certifies it. Never done at delivery."""
    require_aware(now)
    code = validate_pin(signature_code)  # same format rules as the PIN (E6)
    with transaction.atomic():
        card = _own_active_card(actor, card_id)
        has_signature = _live(card, Profile.SIGNATURE) is not None
        decide_signature_certificate(has_signature=has_signature).require()
        assert card.number is not None
        token = _unlocked_token(card, pin)
        token.set_signature_code(code)
        public = token.generate_key(
            _slot("signature"), KeyAlgorithm(settings.EKORT_CARD_KEY_ALGORITHM)
        )
        record, der = issue_certificate(
            card=card,
            ca=issuing_ca(card.assurance_level, now),
            profile=Profile.SIGNATURE,
            public=public,
            now=now,
            status=Status.VALID,
        )
        token.put_certificate(_slot("signature"), der)
        note_issued(record, now)
        _audit(actor, "signature_certificate", card, now, serial=record.serial)
        return record


def _foreign_issuers() -> dict[str, CertificateAuthority]:
    """Other regions' issuers of additional certificates, by name (a handful at most)."""
    found = CertificateAuthority.objects.filter(role=CertificateAuthority.Role.FOREIGN)
    return {issuer.name: issuer for issuer in found}


def _unlocked_token(card: Card, pin: object) -> Any:
    """The holder's card with the PIN verified: the chip changes keys only for its holder.

    The PIN is the one the holder has, not one being chosen: a code too simple to be chosen
    (E6) is no refusal here but simply a wrong PIN, and the chip counts the try
    (`entered_pin`)."""
    from ekort.pki.card_token import TokenError

    assert card.number is not None
    token = card_reader().open(card.number)
    try:
        token.verify_pin(entered_pin(pin))
    except TokenError as problem:  # wrong PIN, PIN blocked, card locked: said plainly
        raise InvalidInput(str(problem)) from None
    return token


def _remove_additional(token: Any, card: Card, current: Certificate, now: datetime) -> None:
    change_status(
        Certificate.objects.filter(pk=current.pk),
        now,
        status=Status.REVOKED,
        reason=REMOVED_FROM_CARD,
        on_card=False,
    )
    token.clear_slot(_slot("additional"))


def add_additional_certificate(
    *,
    actor: Any,
    card_id: int,
    pin: object,
    issuer_name: str,
    now: datetime,
    swap: bool = False,
) -> Certificate:
    """R13: at most one additional certificate at a time. With swap=True the one on the card
    is removed (and revoked) in the same transaction as the new one is added."""
    require_aware(now)
    with transaction.atomic():
        card = _own_active_card(actor, card_id)
        issuers = _foreign_issuers()
        current = _live(card, Profile.ADDITIONAL)
        decide_additional_certificate(
            AdditionalChange.SWAP if swap else AdditionalChange.ADD,
            has_additional=current is not None,
            issuer=issuer_name,
            foreign_issuers=issuers.keys(),
        ).require()
        issuer = issuers[issuer_name]
        token = _unlocked_token(card, pin)
        if current is not None:
            _remove_additional(token, card, current, now)
        public = token.generate_key(
            _slot("additional"), KeyAlgorithm(settings.EKORT_CARD_KEY_ALGORITHM)
        )
        record, der = issue_certificate(
            card=card,
            ca=issuer,
            profile=Profile.ADDITIONAL,
            public=public,
            now=now,
            status=Status.VALID,
        )
        token.put_certificate(_slot("additional"), der)
        note_issued(record, now)
        _audit(
            actor,
            "swap_additional" if current else "add_additional",
            card,
            now,
            serial=record.serial,
            issuer=issuer.name,
        )
        return record


def remove_additional_certificate(
    *, actor: Any, card_id: int, pin: object, now: datetime
) -> Certificate:
    require_aware(now)
    with transaction.atomic():
        card = _own_active_card(actor, card_id)
        current = _live(card, Profile.ADDITIONAL)
        decide_additional_certificate(
            AdditionalChange.REMOVE, has_additional=current is not None
        ).require()
        assert current is not None
        _remove_additional(_unlocked_token(card, pin), card, current, now)
        _audit(actor, "remove_additional", card, now, serial=current.serial)
        return current
