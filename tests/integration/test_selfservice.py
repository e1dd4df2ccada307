"""Self-service certificates: the signature certificate (R12) and the one additional
certificate from another region (R13), on a real (virtual) chip, certified by ekort's CA."""

from __future__ import annotations

import pytest
from cryptography import x509

from ekort.domain.errors import InvalidInput, Refused
from ekort.pki.card_token import KeySlot
from ekort.services.ca import authority, holder_certificates
from ekort.services.ca.backends import card_reader
from ekort.store.models import AuditEntry, Certificate
from tests import instants as t
from tests.integration.journeys import PIN, activated, sent

pytestmark = pytest.mark.django_db

FOREIGN = "Region Uppsala Person ID 3 CA v1"
LATER = t.sthlm(2024, 3, 4, 10)


@pytest.fixture
def card(world):
    authority.init_foreign_issuer(
        name=FOREIGN, organisation="Region Uppsala", now=t.sthlm(2015, 1, 1)
    )
    return activated(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)


def test_cards_are_delivered_with_the_authentication_certificate_only(card):
    """R11, R12: one certificate at delivery, the SITHS eID; no signature certificate."""
    profiles = list(Certificate.objects.filter(card=card).values_list("profile", "status"))
    assert profiles == [("auth", "valid")]
    assert card_reader().open(card.number).slots_in_use() == [KeySlot.AUTH]


def test_holder_downloads_a_signature_certificate_with_a_code_of_their_own(world, card):
    record = holder_certificates.download_signature_certificate(
        actor=world.holder, card_id=card.pk, pin=PIN, signature_code="739164", now=LATER
    )
    cert = x509.load_der_x509_certificate(bytes(record.der))
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.content_commitment
    assert not usage.digital_signature
    token = card_reader().open(card.number)
    assert token.certificate(KeySlot.SIGNATURE) == bytes(record.der)
    token.verify_pin(PIN)  # as the holder would at the computer
    signature = token.sign(KeySlot.SIGNATURE, b"a prescription", "739164")
    cert.public_key().verify(signature, b"a prescription", *_verify_args(cert))
    with pytest.raises(Refused) as refused:
        holder_certificates.download_signature_certificate(
            actor=world.holder, card_id=card.pk, pin=PIN, signature_code="739164", now=LATER
        )
    assert refused.value.rule == "R12"


def _verify_args(cert):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    if isinstance(cert.public_key(), ec.EllipticCurvePublicKey):
        return (ec.ECDSA(hashes.SHA256()),)
    return (padding.PKCS1v15(), hashes.SHA256())


def test_only_the_holder_and_only_with_the_pin(world, card):
    with pytest.raises(Refused) as refused:
        holder_certificates.download_signature_certificate(
            actor=world.orderer, card_id=card.pk, pin=PIN, signature_code="739164", now=LATER
        )
    assert refused.value.rule == "E10"
    entries = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as wrong:
        holder_certificates.download_signature_certificate(
            actor=world.holder, card_id=card.pk, pin="111999", signature_code="739164", now=LATER
        )
    assert "111999" not in str(wrong.value)
    assert Certificate.objects.filter(card=card, profile="signature").count() == 0
    assert AuditEntry.objects.count() == entries


def test_a_card_not_yet_activated_gets_no_self_service_certificates(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    with pytest.raises(Refused) as refused:
        holder_certificates.download_signature_certificate(
            actor=world.holder, card_id=card.pk, pin=PIN, signature_code="739164", now=LATER
        )
    assert refused.value.rule == "E1"


def test_one_additional_certificate_at_a_time_then_swap_and_remove(world, card):
    first = holder_certificates.add_additional_certificate(
        actor=world.holder, card_id=card.pk, pin=PIN, issuer_name=FOREIGN, now=LATER
    )
    assert first.issuer.name == FOREIGN
    with pytest.raises(Refused) as refused:
        holder_certificates.add_additional_certificate(
            actor=world.holder, card_id=card.pk, pin=PIN, issuer_name=FOREIGN, now=LATER
        )
    assert refused.value.rule == "R13"
    second = holder_certificates.add_additional_certificate(
        actor=world.holder, card_id=card.pk, pin=PIN, issuer_name=FOREIGN, now=LATER, swap=True
    )
    first.refresh_from_db()
    assert (first.status, first.revocation_reason, first.on_card) == (
        "revoked",
        "superseded",
        False,
    )
    token = card_reader().open(card.number)
    assert token.certificate(KeySlot.ADDITIONAL) == bytes(second.der)
    holder_certificates.remove_additional_certificate(
        actor=world.holder, card_id=card.pk, pin=PIN, now=LATER
    )
    second.refresh_from_db()
    assert second.status == "revoked"
    assert token.certificate(KeySlot.ADDITIONAL) is None
    with pytest.raises(Refused) as none_left:
        holder_certificates.remove_additional_certificate(
            actor=world.holder, card_id=card.pk, pin=PIN, now=LATER
        )
    assert none_left.value.rule == "R13"


def test_unknown_foreign_issuer_is_refused(world, card):
    with pytest.raises(Refused) as refused:
        holder_certificates.add_additional_certificate(
            actor=world.holder, card_id=card.pk, pin=PIN, issuer_name="Nowhere CA", now=LATER
        )
    assert refused.value.rule == "R13"
