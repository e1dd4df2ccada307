"""Test-only: a demo or test card's certificate and private key as PEM files, for curl and
Playwright to present as a client certificate, and a certificate of another CA.

A virtual card's chip (`ekort.pki.virtual_card`) keeps its private keys in the card reader's
chip file; tests read it from there. Nothing in ekort exports a card's key: a real card never
lets it go.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ekort.services.ca import backends
from ekort.store.models import Card, Certificate


@dataclass(frozen=True)
class ClientCertificate:
    cert: Path
    key: Path

    @property
    def pem(self) -> str:
        return self.cert.read_text(encoding="ascii")

    @property
    def escaped(self) -> str:
        """As nginx passes it on ($ssl_client_escaped_cert)."""
        return quote(self.pem, safe="")


def certificate_pem(card: Card, profile: str = "auth") -> str:
    record = Certificate.objects.get(card=card, profile=profile)
    cert = x509.load_der_x509_certificate(bytes(record.der))
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _write_key(key_der: bytes, path: Path) -> Path:
    key = serialization.load_der_private_key(key_der, password=None)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def export_card(card: Card, directory: Path, profile: str = "auth") -> ClientCertificate:
    """The card's certificate and its private key, read from the virtual chip, as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    chip = backends.card_reader().stored(card.number)
    key_der = base64.b64decode(chip["keys"][profile])
    cert = directory / f"card-{card.number}-{profile}.crt"
    cert.write_text(certificate_pem(card, profile), encoding="ascii")
    return ClientCertificate(cert, _write_key(key_der, directory / f"card-{card.number}.key"))


def foreign_card(hsa_id: str, directory: Path) -> ClientCertificate:
    """A client certificate from a CA of nobody ekort knows, naming `hsa_id` in its subject's
    serialNumber as one of ekort's would."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some Other Region CA")])
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Someone Else"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, hsa_id),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path = directory / "foreign.crt"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return ClientCertificate(cert_path, _write_key(key_der, directory / "foreign.key"))
