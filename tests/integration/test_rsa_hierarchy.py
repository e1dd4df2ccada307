"""The hierarchy with RSA keys instead of ECDSA: a card certificate chains and verifies with
OpenSSL, against a CRL, and its OCSP response is signed with RSA."""

from __future__ import annotations

import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp

from ekort.services.ca import authority, status
from ekort.store.models import OcspResponse
from tests import instants as t
from tests import tools
from tests.factories import world as make_world
from tests.integration.journeys import activated

pytestmark = [
    pytest.mark.django_db,
    tools.needs(tools.OPENSSL),
]


@pytest.fixture
def rsa_world(db, settings):
    settings.EKORT_CA = {
        **settings.EKORT_CA,
        "root_algorithm": "rsa-3072",
        "issuing_algorithm": "rsa-2048",
    }
    settings.EKORT_CARD_KEY_ALGORITHM = "rsa-2048"
    authority.init_hierarchy(now=t.sthlm(2015, 1, 1))
    return make_world()


def pem(der: bytes, kind: str = "CERTIFICATE") -> str:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


def test_rsa_card_certificate_verifies_with_openssl(
    rsa_world, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the OCSP refresh runs on commit
        card = activated(rsa_world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cert = card.certificates.get()
    issuing = authority.issuing_ca("3")
    root = issuing.parent
    assert isinstance(authority.certificate_of(root).public_key(), rsa.RSAPublicKey)
    crl = status.build_crl(issuing, t.NEW_PROCESS)
    root_crl = status.build_crl(root, t.NEW_PROCESS)
    (tmp_path / "leaf.pem").write_text(pem(bytes(cert.der)))
    (tmp_path / "chain.pem").write_text(
        pem(bytes(root.certificate_der)) + pem(bytes(issuing.certificate_der))
    )
    (tmp_path / "crls.pem").write_text(
        pem(bytes(crl.der), "X509 CRL") + pem(bytes(root_crl.der), "X509 CRL")
    )
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-attime",
            str(int(t.NEW_PROCESS.timestamp()) + 60),
            "-crl_check_all",
            "-CAfile",
            str(tmp_path / "chain.pem"),
            "-CRLfile",
            str(tmp_path / "crls.pem"),
            str(tmp_path / "leaf.pem"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.stdout.strip().endswith(": OK"), result.stdout + result.stderr
    stored = OcspResponse.objects.get(issuer=issuing, serial=cert.serial)
    response = ocsp.load_der_ocsp_response(bytes(stored.der))
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    responder = authority.certificate_of(authority.responder_for(issuing))
    assert isinstance(responder.public_key(), rsa.RSAPublicKey)
