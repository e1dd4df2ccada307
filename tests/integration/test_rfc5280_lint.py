"""RFC 5280 and RFC 6960 conformance, judged by pkilint (a linter nobody here wrote): every
certificate profile, the CA certificates, a CRL with entries and an OCSP response."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ekort.services.ca import authority, holder_certificates, status
from ekort.store.models import Certificate, CertificateAuthority, Crl, OcspResponse
from tests import instants as t
from tests import tools
from tests.integration.journeys import PIN, activated, sent

pytestmark = pytest.mark.django_db

FOREIGN = "Region Uppsala Person ID 3 CA v1"


def lint(tool: str, path: Path, *args: str) -> str:
    tools.require(tools.PKILINT)
    executable = tools.BIN / tool
    result = subprocess.run(
        [str(executable), "lint", *args, "-s", "WARNING", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return (result.stdout + result.stderr).strip()


@pytest.fixture
def documents(world, tmp_path):
    authority.init_foreign_issuer(
        name=FOREIGN, organisation="Region Uppsala", now=t.sthlm(2015, 1, 1)
    )
    card = activated(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    later = t.sthlm(2024, 3, 4, 10)
    holder_certificates.download_signature_certificate(
        actor=world.holder, card_id=card.pk, pin=PIN, signature_code="739164", now=later
    )
    holder_certificates.add_additional_certificate(
        actor=world.holder, card_id=card.pk, pin=PIN, issuer_name=FOREIGN, now=later
    )
    sent(world, "reserve", t.NEW_PROCESS, t.NEW_PROCESS)  # on hold: an entry on the CRL
    status.publish_due(later)
    files = {}
    for cert in Certificate.objects.all():
        files[f"card-{cert.profile}"] = bytes(cert.der)
    for ca in CertificateAuthority.objects.all():
        files[f"ca-{ca.role}-{ca.pk}"] = bytes(ca.certificate_der)
    for name, der in files.items():
        (tmp_path / f"{name}.der").write_bytes(der)
    crl = Crl.objects.filter(entries__gt=0).first()
    (tmp_path / "crl.der").write_bytes(bytes(crl.der))
    (tmp_path / "ocsp.der").write_bytes(bytes(OcspResponse.objects.first().der))
    return tmp_path


def test_every_certificate_passes_the_rfc5280_linter(documents):
    certificates = sorted(documents.glob("ca*-*.der")) + sorted(documents.glob("card-*.der"))
    assert {p.stem.split("-")[1] for p in certificates} >= {
        "auth",
        "signature",
        "additional",
        "root",
        "issuing",
        "ocsp",
    }
    for path in certificates:
        assert lint("lint_pkix_cert", path) == "", path.name


def test_the_authentication_certificate_has_a_upn_for_smart_card_logon(documents, settings):
    """Windows smart card logon finds the account by the UPN in subjectAltName: the holder's
    HSA-id at the configured domain (EKORT_CA_UPN_DOMAIN). pkilint passes it (above)."""
    from cryptography import x509

    from ekort.pki.certificates import SMARTCARD_LOGON

    cert = x509.load_der_x509_certificate((documents / "card-auth.der").read_bytes())
    assert SMARTCARD_LOGON in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    upn_oid = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
    [upn] = [
        name.value for name in san.get_values_for_type(x509.OtherName) if name.type_id == upn_oid
    ]
    hsa_id = Certificate.objects.get(profile="auth", status="valid").card.person.hsa_id
    text = f"{hsa_id}@{settings.EKORT_CA['upn_domain']}".encode()
    assert upn == b"\x0c" + bytes([len(text)]) + text  # a UTF8String


def test_the_crl_and_an_ocsp_response_pass_their_linters(documents):
    assert lint("lint_crl", documents / "crl.der", "-t", "CRL", "-p", "PKIX") == ""
    assert lint("lint_ocsp_response", documents / "ocsp.der") == ""


def test_the_linter_would_catch_a_bad_certificate(tmp_path):
    """The check can fail: a certificate with an OID arc beyond 32 bits is reported."""
    bad = tmp_path / "bad.der"
    bad.write_bytes(_certificate_with_huge_oid_arc())
    assert "FATAL" in lint("lint_pkix_cert", bad)


def _certificate_with_huge_oid_arc() -> bytes:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "bad")])
    now = dt.datetime.now(dt.UTC)
    huge = x509.ObjectIdentifier("2.25.245716478223386359446813935305302432271")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.OtherName(huge, b"\x0c\x01x")]), False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)
