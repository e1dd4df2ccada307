"""CA rollover (`ekort ca renew`): an issuing CA gets a successor with a new key and certificate
before its end; new cards are certified by the successor, and the old CA goes on signing CRLs
and OCSP answers for its own certificates until it ends."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from django.core.management import CommandError, call_command

from ekort.domain.errors import InvalidInput
from ekort.services import cards
from ekort.services.ca import authority, status
from ekort.services.ca.issuance import card_end
from ekort.store.models import AuditEntry, Certificate, CertificateAuthority, OcspResponse
from tests import factories
from tests import instants as t
from tests.integration.journeys import sent

pytestmark = pytest.mark.django_db

Role = CertificateAuthority.Role
# The test hierarchy is made on 2015-01-01 with ten-year issuing CAs: they end on 2024-12-31,
# before cards produced in 2024 (valid five years) do.
RENEWED_AT = t.sthlm(2024, 2, 1, 9)
AFTER = t.sthlm(2024, 2, 6, 10)


def _auth(card) -> Certificate:
    return Certificate.objects.get(card=card, profile="auth")


def test_renewal_makes_a_successor_that_certifies_new_cards_for_their_whole_validity(pki, world):
    old = pki.issuing["3"]
    early = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    assert _auth(early).issuer_id == old.pk
    # Before the rollover a card's certificate ends with its issuer, long before the card.
    assert _auth(early).not_after == old.not_after < card_end(early)

    new = authority.renew_issuing_ca(old, now=RENEWED_AT, actor="utgivare")
    assert new.name == "ekort e-id Person ID 3 CA v2"
    assert (new.role, new.assurance_level, new.parent_id) == (Role.ISSUING, "3", pki.root.pk)
    assert new.key_ref != old.key_ref
    cert = authority.certificate_of(new)
    assert cert.public_key() != authority.certificate_of(old).public_key()
    assert cert.subject.rfc4514_string().startswith("CN=ekort e-id Person ID 3 CA v2")
    assert cert.issuer == authority.certificate_of(pki.root).subject
    cert.verify_directly_issued_by(authority.certificate_of(pki.root))
    assert new.not_before == RENEWED_AT
    assert new.not_after > old.not_after + timedelta(days=9 * 365)
    assert authority.responder_for(new).parent_id == new.pk
    entry = AuditEntry.objects.filter(action="ca_renewed").get()
    assert (entry.actor, entry.object_id) == ("utgivare", str(old.pk))

    assert authority.issuing_ca("3", RENEWED_AT - timedelta(seconds=1)).pk == old.pk
    assert authority.issuing_ca("3", RENEWED_AT).pk == new.pk
    colleague = factories.person(given="Karin", manager=world.manager, unit=world.unit)
    later = sent(world, "photo", AFTER, AFTER, person=colleague)
    record = _auth(later)
    assert record.issuer_id == new.pk
    assert record.not_after == card_end(later)  # the card's whole validity
    issued = x509.load_der_x509_certificate(bytes(record.der))
    issued.verify_directly_issued_by(cert)
    assert issued.not_valid_after_utc <= cert.not_valid_after_utc

    # The LoA2 CA was not renewed: its cards still come from it.
    assert authority.issuing_ca("2", AFTER).pk == pki.issuing["2"].pk


def test_the_old_ca_keeps_signing_crls_and_ocsp_for_its_certificates_until_it_ends(pki, world):
    old = pki.issuing["3"]
    early = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    new = authority.renew_issuing_ca(old, now=RENEWED_AT)
    cards.block(
        actor=world.support,
        reason="lost",
        requested_by="the holder",
        now=AFTER,
        card_ids=[early.pk],
    ).one()
    record = _auth(early)
    # The scheduler: the signers from 2015 have long expired, so it renews them first, then
    # signs what changed (the block's own on-commit refresh never runs in this test).
    built = {crl.issuer_id: crl for crl in status.publish_due(AFTER)}
    stored = OcspResponse.objects.get(issuer=old, serial=record.serial)
    answer = ocsp.load_der_ocsp_response(bytes(stored.der))
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    signer = authority.certificate_of(authority.responder_for(old))
    assert signer.issuer == authority.certificate_of(old).subject
    assert answer.certificates[0] == signer

    assert {old.pk, new.pk} <= set(built)
    old_crl = x509.load_der_x509_crl(bytes(built[old.pk].der))
    assert old_crl.is_signature_valid(authority.certificate_of(old).public_key())
    assert old_crl.get_revoked_certificate_by_serial_number(int(record.serial, 16)) is not None
    new_crl = x509.load_der_x509_crl(bytes(built[new.pk].der))
    assert new_crl.get_revoked_certificate_by_serial_number(int(record.serial, 16)) is None

    # Its last month: its OCSP signer is not renewed again and again, since the signer already
    # lasts as long as the CA can.
    last_month = old.not_after - timedelta(days=20)
    status.publish_due(last_month)
    signers = CertificateAuthority.objects.filter(role=Role.OCSP, parent=old).count()
    status.publish_due(last_month + timedelta(minutes=1))
    assert CertificateAuthority.objects.filter(role=Role.OCSP, parent=old).count() == signers

    # Once it has ended (and every certificate it issued with it), it signs no more CRLs.
    ended = old.not_after + timedelta(days=1)
    issuers = {crl.issuer_id for crl in status.publish_due(ended)}
    assert old.pk not in issuers
    assert new.pk in issuers


def test_renewal_is_refused_for_what_is_not_an_issuing_ca_in_force(pki):
    old = pki.issuing["3"]
    with pytest.raises(InvalidInput, match="issuing CA"):
        authority.renew_issuing_ca(pki.root, now=RENEWED_AT)
    with pytest.raises(InvalidInput, match="issuing CA"):
        authority.renew_issuing_ca(pki.responders["3"], now=RENEWED_AT)
    with pytest.raises(InvalidInput, match="ended"):
        authority.renew_issuing_ca(old, now=old.not_after + timedelta(seconds=1))
    new = authority.renew_issuing_ca(old, now=RENEWED_AT)
    with pytest.raises(InvalidInput, match="renewed already"):
        authority.renew_issuing_ca(old, now=AFTER)
    third = authority.renew_issuing_ca(new, now=AFTER)
    assert third.name == "ekort e-id Person ID 3 CA v3"


@pytest.fixture
def in_2024(settings):
    """The command reads the clock: simulated, while the test hierarchy is in force."""
    from ekort.services import clock

    settings.EKORT_SIMULATED_NOW = AFTER.isoformat()
    clock.reset()
    yield
    settings.EKORT_SIMULATED_NOW = ""
    clock.reset()


def test_ekort_ca_renew(pki, in_2024):
    out = StringIO()
    call_command("ca", "renew", "--ca", "ekort-e-id-person-id-2-ca-v1", stdout=out)
    said = out.getvalue()
    assert "Renewed ekort e-id Person ID 2 CA v1 as ekort e-id Person ID 2 CA v2" in said
    assert "ekort e-id Person ID 2 CA v1 goes on signing CRLs and OCSP answers" in said
    assert CertificateAuthority.objects.filter(name="ekort e-id Person ID 2 CA v2").exists()
    with pytest.raises(CommandError, match="--ca"):
        call_command("ca", "renew", stdout=StringIO())
    with pytest.raises(CommandError, match="No CA called"):
        call_command("ca", "renew", "--ca", "nobody", stdout=StringIO())
