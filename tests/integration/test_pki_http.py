"""CRLs and CA certificates over HTTP, at the URLs the certificates name (CDP and AIA)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings

from ekort.domain.timekeeping import STOCKHOLM
from ekort.services.ca import backends
from ekort.services.ca.authority import (
    Hierarchy,
    certificate_of,
    endpoints,
    init_hierarchy,
    slug,
)
from ekort.services.ca.status import build_crl
from ekort.store.models import Certificate, CertificateAuthority
from tests.integration.test_ocsp_responder import issue, make_card

pytestmark = pytest.mark.django_db

Status = Certificate.Status


@dataclass
class Pki:
    now: datetime
    hierarchy: Hierarchy
    ca: CertificateAuthority
    revoked: Certificate
    good: Certificate


@pytest.fixture
def pki(settings: Any, tmp_path: Any) -> Iterator[Pki]:
    settings.EKORT_KEY_DIR = tmp_path / "keys"
    backends.reset()
    now = datetime.now(STOCKHOLM).replace(microsecond=0)
    hierarchy = init_hierarchy(now=now)
    ca = hierarchy.issuing["3"]
    card = make_card(now)
    yield Pki(
        now=now,
        hierarchy=hierarchy,
        ca=ca,
        revoked=issue(card, ca, now, Status.REVOKED, reason="key_compromise"),
        good=issue(card, ca, now, Status.VALID),
    )
    backends.reset()


def local(url: str) -> str:
    """The path of a public URL, which the test client requests."""
    assert url.startswith(django_settings.EKORT_PUBLIC_URL + "/")
    return urllib.parse.urlsplit(url).path


def test_the_crl_at_the_certificates_distribution_point(client, pki):
    cert = x509.load_der_x509_certificate(bytes(pki.good.der))
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    path = local(cdp[0].full_name[0].value)
    assert path == f"/pki/crl/{slug(pki.ca)}.crl"
    assert client.get(path).status_code == 404  # no CRL published yet

    build_crl(pki.ca, pki.now)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.is_signature_valid(certificate_of(pki.ca).public_key())
    assert crl.get_revoked_certificate_by_serial_number(int(pki.revoked.serial, 16))
    assert crl.get_revoked_certificate_by_serial_number(int(pki.good.serial, 16)) is None
    cache = response["Cache-Control"]
    assert "public" in cache
    assert 0 < int(cache.split("max-age=")[1].split(",")[0]) <= 3600
    assert response["Last-Modified"].endswith("GMT")


def test_the_latest_crl_is_served(client, pki):
    build_crl(pki.ca, pki.now)
    later = pki.now + timedelta(hours=1)
    Certificate.objects.filter(pk=pki.good.pk).update(
        status=Status.REVOKED, revoked_at=later, status_changed_at=later
    )
    second = build_crl(pki.ca, later)
    crl = x509.load_der_x509_crl(client.get(f"/pki/crl/{slug(pki.ca)}.crl").content)
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == second.number == 2
    assert crl.get_revoked_certificate_by_serial_number(int(pki.good.serial, 16))


def test_the_root_crl_at_the_issuing_cas_distribution_point(client, pki):
    issuing = certificate_of(pki.ca)
    cdp = issuing.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    path = local(cdp[0].full_name[0].value)
    build_crl(pki.hierarchy.root, pki.now)
    response = client.get(path)
    assert response.status_code == 200
    crl = x509.load_der_x509_crl(response.content)
    assert crl.issuer == certificate_of(pki.hierarchy.root).subject


def test_ca_certificates_at_the_aia_ca_issuers_url(client, pki):
    cert = x509.load_der_x509_certificate(bytes(pki.good.der))
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    url = next(
        d.access_location.value
        for d in aia
        if d.access_method == x509.AuthorityInformationAccessOID.CA_ISSUERS
    )
    assert url == endpoints(pki.ca).issuer_cert_url
    response = client.get(local(url))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-cert"
    assert response.content == bytes(pki.ca.certificate_der)
    issuer = x509.load_der_x509_certificate(response.content)
    cert.verify_directly_issued_by(issuer)

    pem = client.get(f"/pki/ca/{slug(pki.ca)}.pem")
    assert pem.status_code == 200
    assert pem["Content-Type"] == "application/x-pem-file"
    assert x509.load_pem_x509_certificate(pem.content) == issuer

    root = client.get(local(endpoints(pki.hierarchy.root).issuer_cert_url))
    assert root.status_code == 200
    issuer.verify_directly_issued_by(x509.load_der_x509_certificate(root.content))
    assert root.content == certificate_of(pki.hierarchy.root).public_bytes(
        serialization.Encoding.DER
    )


@pytest.mark.parametrize(
    "path",
    [
        "/pki/crl/no-such-ca.crl",
        "/pki/ca/no-such-ca.crt",
        "/pki/ca/no-such-ca.pem",
        "/pki/ca/ekort-e-id-person-id-3-ca-v1.der",
        "/pki/crl/ekort-e-id-person-id-3-ca-v1-ocsp.crl",  # OCSP signers are not published
    ],
)
def test_unknown_names_are_404(client, pki, path):
    response = client.get(path)
    assert response.status_code == 404


def test_the_404_says_what_is_missing(client, pki, settings):
    settings.DEBUG = False
    assert client.get(f"/pki/crl/{slug(pki.ca)}.crl").status_code == 404
    settings.DEBUG = True
    response = client.get("/pki/ca/no-such-ca.crt")
    assert b"No CA is published as" in response.content
    response = client.get(f"/pki/crl/{slug(pki.ca)}.crl")
    assert b"has published no CRL yet" in response.content


def test_public_read_only(client, pki):
    path = f"/pki/ca/{slug(pki.ca)}.crt"
    assert client.get(path).status_code == 200  # anonymous: no login
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 405
