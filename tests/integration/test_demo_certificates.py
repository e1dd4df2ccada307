"""The demo's certificates as a relying party sees them at the build instant: the issuing CAs
were renewed in the history before any card could outlive them, and every certificate still
valid verifies up to the root (checked by OpenSSL, at the build instant)."""

from __future__ import annotations

import subprocess
from io import StringIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command

from ekort.domain.timekeeping import parse_instant
from ekort.services.ca.issuance import card_end
from ekort.store.models import Certificate, CertificateAuthority
from tests import tools

pytestmark = [
    pytest.mark.django_db,
    tools.needs(tools.OPENSSL),
]

LATE = "2026-11-28T10:00+01:00"
Role = CertificateAuthority.Role


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def test_every_demo_certificate_in_force_verifies_and_none_outlives_its_card_needlessly(
    tmp_path: Path,
) -> None:
    call_command("demo", "--at", LATE, stdout=StringIO())
    at = parse_instant(LATE)

    for level in ("3", "2"):
        issuing = list(
            CertificateAuthority.objects.filter(role=Role.ISSUING, assurance_level=level).order_by(
                "not_before"
            )
        )
        assert [ca.name for ca in issuing] == [
            f"ekort e-id Person ID {level} CA v1",
            f"ekort e-id Person ID {level} CA v2",
        ]
        first, second = issuing
        # Renewed five years into the first one's ten, so that a card made after that (valid
        # five years at most) never outlives the CA that certifies it.
        assert first.not_before.year + 5 == second.not_before.year
        assert second.not_after > first.not_after

    cas = {ca.pk: ca for ca in CertificateAuthority.objects.all()}
    successors = {ca.pk for ca in cas.values() if ca.role == Role.ISSUING and "v2" in ca.name}
    checked = 0
    for record in Certificate.objects.select_related("card", "issuer"):
        issuer = cas[record.issuer_id]
        assert record.not_after <= issuer.not_after, record
        cert = x509.load_der_x509_certificate(bytes(record.der))
        if record.profile == "auth" and record.issuer_id in successors:
            # From the successor, which outlasts every card: for the card's whole life.
            assert record.not_after == card_end(record.card), record
        if record.not_after <= at:
            continue
        chain = [issuer]
        while chain[-1].parent_id is not None:
            chain.append(cas[chain[-1].parent_id])
        (tmp_path / "root.pem").write_bytes(_pem(bytes(chain[-1].certificate_der)))
        untrusted = b"".join(_pem(bytes(ca.certificate_der)) for ca in chain[:-1])
        (tmp_path / "untrusted.pem").write_bytes(
            untrusted or _pem(bytes(chain[-1].certificate_der))
        )
        (tmp_path / "leaf.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        ran = subprocess.run(
            [
                *("openssl", "verify", "-attime", str(int(at.timestamp()))),
                *("-CAfile", "root.pem", "-untrusted", "untrusted.pem", "leaf.pem"),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert ran.returncode == 0, (record.profile, issuer.name, ran.stdout + ran.stderr)
        checked += 1
    assert checked > 40
