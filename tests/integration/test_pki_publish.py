"""The publishing schedule: OCSP signers renewed before they expire, CRLs built when due
(debounced), and responses repaired after a crash between a commit and its refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509 import ocsp

from ekort.services.ca import authority, status
from ekort.store.models import Certificate, CertificateAuthority, Crl, OcspResponse
from tests import factories
from tests import instants as t
from tests.integration.journeys import sent

pytestmark = pytest.mark.django_db

Role = CertificateAuthority.Role


def _responses_verify_with(responder: CertificateAuthority) -> bool:
    key = authority.certificate_of(responder).public_key()
    for stored in OcspResponse.objects.filter(issuer=responder.parent):
        response = ocsp.load_der_ocsp_response(bytes(stored.der))
        key.verify(response.signature, response.tbs_response_bytes, *_args(response))
    return True


def _args(response):
    from cryptography.hazmat.primitives.asymmetric import ec

    return (ec.ECDSA(response.signature_hash_algorithm),)


def test_an_expiring_ocsp_signer_is_renewed_and_responses_resigned(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)  # signer from 2015 expired in 2016
    colleague = factories.person(given="Karin", manager=world.manager, unit=world.unit)
    held = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=colleague)  # no response
    status.refresh_responses(card.certificates.values_list("pk", flat=True), t.NEW_PROCESS)
    loa3 = authority.issuing_ca("3")
    old = authority.responder_for(loa3)
    status.publish_due(t.NEW_PROCESS)
    new = authority.responder_for(loa3)
    assert new.pk != old.pk
    assert new.not_after > t.NEW_PROCESS + timedelta(days=300)
    assert _responses_verify_with(new)
    assert OcspResponse.objects.filter(issuer=loa3, serial__in=card.certificates.values("serial"))
    # Only stored responses are signed again: one on hold since production stays on demand.
    assert not OcspResponse.objects.filter(serial__in=held.certificates.values("serial"))
    assert status.publish_due(t.NEW_PROCESS + timedelta(minutes=1)) == []  # nothing due
    assert authority.responder_for(loa3).pk == new.pk


def test_crls_are_built_when_due_and_debounced(world):
    built = status.publish_due(t.NEW_PROCESS)
    issuers = set(
        CertificateAuthority.objects.filter(role__in=status.CRL_ISSUERS).values_list(
            "pk", flat=True
        )
    )
    assert {crl.issuer_id for crl in built} == issuers
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)  # an on-hold certificate
    status.refresh_responses(card.certificates.values_list("pk", flat=True), t.NEW_PROCESS)
    soon = t.NEW_PROCESS + timedelta(seconds=10)
    assert status.publish_due(soon) == []  # within the debounce
    later = t.NEW_PROCESS + timedelta(seconds=40)
    (crl,) = status.publish_due(later)
    parsed = x509.load_der_x509_crl(bytes(crl.der))
    serial = int(card.certificates.get().serial, 16)
    entry = parsed.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.certificate_hold
    )
    nearly_stale = later + timedelta(hours=23)
    assert len(status.publish_due(nearly_stale)) == len(issuers)  # before nextUpdate


def test_reconcile_signs_what_a_crash_left_unsigned(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cert = card.certificates.get()
    OcspResponse.objects.filter(serial=cert.serial).delete()  # the refresh never ran
    Certificate.objects.filter(pk=cert.pk).update(
        status="revoked", revoked_at=t.NEW_PROCESS, revocation_reason="key_compromise"
    )
    assert status.reconcile(t.NEW_PROCESS) >= 1
    stored = OcspResponse.objects.get(issuer=cert.issuer, serial=cert.serial)
    response = ocsp.load_der_ocsp_response(bytes(stored.der))
    assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason == x509.ReasonFlags.key_compromise
    assert status.reconcile(t.NEW_PROCESS) == 0
    assert Crl.objects.count() == 0  # reconcile signs responses only


def test_responses_about_to_expire_are_signed_again(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cert = card.certificates.get()
    status.refresh_responses([cert.pk], t.NEW_PROCESS)  # valid 24 hours
    assert status.refresh_expiring(t.NEW_PROCESS + timedelta(hours=1)) == 0
    later = t.NEW_PROCESS + timedelta(hours=20)  # within the six-hour margin
    assert status.refresh_expiring(later) == 1
    stored = OcspResponse.objects.get(issuer=cert.issuer, serial=cert.serial)
    assert stored.this_update == later
