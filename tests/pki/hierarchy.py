"""A small test PKI made with `cryptography` directly (not with the code under test).

root (EC P-384, self-signed) -> issuing (EC P-256) -> an OCSP responder (EKU OCSPSigning,
id-pkix-ocsp-nocheck) and end-entity certificates with a CRL distribution point and an AIA.
Plain functions, so that tests call them; `hierarchy()` is made once per test session.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from ekort.pki.signing_only import signing_only

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
OCSP_URL = "http://ocsp.test.invalid/issuing"
CRL_URL = "http://crl.test.invalid/issuing.crl"
CA_ISSUERS_URL = "http://aia.test.invalid/issuing.cer"

_serials = itertools.count(0x1000_0000_0000_0001)


@dataclass(frozen=True)
class Hierarchy:
    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    issuing_key: ec.EllipticCurvePrivateKey
    issuing: x509.Certificate
    responder_key: ec.EllipticCurvePrivateKey
    responder: x509.Certificate

    @property
    def issuing_signer(self) -> ec.EllipticCurvePrivateKey:
        """The issuing key as the key backends hand it out: it signs, nothing more."""
        key = signing_only(self.issuing_key)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key

    @property
    def responder_signer(self) -> ec.EllipticCurvePrivateKey:
        key = signing_only(self.responder_key)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key


def name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Testregionen"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    issuer_public_key: ec.EllipticCurvePublicKey,
    days: int,
    serial: int | None = None,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(next(_serials) if serial is None else serial)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False
        )
    )


def _key_usage(*, signature: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@functools.cache
def hierarchy() -> Hierarchy:
    root_key = ec.generate_private_key(ec.SECP384R1())
    root_name = name("Test Root CA")
    root = (
        _builder(root_name, root_name, root_key.public_key(), root_key.public_key(), 3650)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(root_key, hashes.SHA384())
    )

    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing_name = name("Test Issuing CA")
    issuing = (
        _builder(issuing_name, root_name, issuing_key.public_key(), root_key.public_key(), 1825)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(root_key, hashes.SHA384())
    )

    responder_key = ec.generate_private_key(ec.SECP256R1())
    responder = (
        _builder(
            name("Test Issuing CA OCSP"),
            issuing_name,
            responder_key.public_key(),
            issuing_key.public_key(),
            60,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .sign(issuing_key, hashes.SHA256())
    )
    return Hierarchy(root_key, root, issuing_key, issuing, responder_key, responder)


def leaf(h: Hierarchy, common_name: str = "Anna Andersson", serial: int | None = None):
    """An end-entity certificate from the issuing CA, with CDP and AIA (OCSP, CA issuers)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        _builder(
            name(common_name), h.issuing.subject, key.public_key(), h.issuing_key.public_key(), 30
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(CRL_URL)], None, None, None
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(OCSP_URL)
                    ),
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(CA_ISSUERS_URL),
                    ),
                ]
            ),
            critical=False,
        )
        .sign(h.issuing_key, hashes.SHA256())
    )


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def write_pki(h: Hierarchy, directory: Path) -> None:
    """root.pem, issuing.pem, chain.pem (root and issuing), responder.pem in `directory`."""
    (directory / "root.pem").write_bytes(pem(h.root))
    (directory / "issuing.pem").write_bytes(pem(h.issuing))
    (directory / "chain.pem").write_bytes(pem(h.root, h.issuing))
    (directory / "responder.pem").write_bytes(pem(h.responder))


def write_cert(certificate: x509.Certificate, path: Path) -> Path:
    path.write_bytes(pem(certificate))
    return path
