"""CRLs: `build_crl` lists what it was given (serials, times in UTC to the second, reasons,
the header fields), OpenSSL reads the result, shows its entries and reasons, and rejects
revoked and held certificates with it; bad input is refused with ValueError. (A million
entries is timed by bench/crl.py (`make bench`), not here.)"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ekort.pki.crl import RevokedEntry, build_crl
from ekort.pki.signing_only import SigningOnlyEcKey, signing_only

from .hierarchy import hierarchy, leaf, name, write_cert, write_pki

Reason = x509.ReasonFlags
UTC = dt.UTC


def now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def crl_of(entries: list[RevokedEntry], number: int = 1, **kwargs: object) -> bytes:
    h = hierarchy()
    this_update = now() - dt.timedelta(minutes=5)
    arguments: dict[str, object] = {
        "issuer_cert": h.issuing,
        "signing_key": h.issuing_signer,
        "entries": entries,
        "number": number,
        "this_update": this_update,
        "next_update": this_update + dt.timedelta(days=1),
        **kwargs,
    }
    return build_crl(**arguments)  # type: ignore[arg-type]


def openssl(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )


EDGE_ENTRIES = [
    RevokedEntry(1, dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), Reason.key_compromise),
    RevokedEntry(0x7F, dt.datetime(1950, 1, 1, tzinfo=UTC), Reason.ca_compromise),
    RevokedEntry(0x80, dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), None),
    RevokedEntry(0xFF, dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC), Reason.superseded),
    RevokedEntry(0x100, dt.datetime(2050, 1, 1, tzinfo=UTC), Reason.affiliation_changed),
    RevokedEntry(
        2**159 - 1, dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), Reason.aa_compromise
    ),
    RevokedEntry(
        0x1234_5678_9ABC_DEF0,
        dt.datetime(2025, 6, 1, 1, 30, 15, 500, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        Reason.certificate_hold,
    ),
    RevokedEntry(2**64, dt.datetime(2025, 6, 1, tzinfo=UTC), Reason.cessation_of_operation),
    RevokedEntry(2**64 + 1, dt.datetime(2025, 6, 1, tzinfo=UTC), Reason.privilege_withdrawn),
    RevokedEntry(2**64 + 2, dt.datetime(2025, 6, 1, tzinfo=UTC), Reason.unspecified),
]


def test_edge_entries_are_listed_as_given(tmp_path: Path):
    """Serials of every length, times from 1950 to 9999 (UTCTime through 2049,
    GeneralizedTime from 2050), in another time zone or with fractions (dropped), every
    reason: the CRL says what the entries said, and OpenSSL reads it."""
    h = hierarchy()
    this_update = dt.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    next_update = dt.datetime(2050, 1, 1, tzinfo=UTC)  # GeneralizedTime from 2050
    der = build_crl(
        issuer_cert=h.issuing,
        signing_key=h.issuing_signer,
        entries=iter(EDGE_ENTRIES),  # any iterable
        number=2**159 - 1,
        this_update=this_update,
        next_update=next_update,
    )
    crl = x509.load_der_x509_crl(der)
    assert crl.public_bytes(serialization.Encoding.DER) == der
    assert crl.is_signature_valid(h.issuing.public_key())
    assert crl.signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA256
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA256)
    assert crl.issuer == h.issuing.subject
    assert crl.last_update_utc == this_update.replace(microsecond=0)
    assert crl.next_update_utc == next_update
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2**159 - 1
    assert [e.oid for e in crl.extensions] == [
        x509.AuthorityKeyIdentifier.oid,
        x509.CRLNumber.oid,
    ]
    assert not any(e.critical for e in crl.extensions)
    listed = []
    for revoked in crl:
        extensions = list(revoked.extensions)
        assert not any(e.critical for e in extensions)
        reason = extensions[0].value.reason if extensions else None
        listed.append((revoked.serial_number, revoked.revocation_date_utc, reason))
    assert listed == [
        (
            e.serial,
            e.revoked_at.astimezone(UTC).replace(microsecond=0),
            None if e.reason is Reason.unspecified else e.reason,
        )
        for e in EDGE_ENTRIES
    ]
    (tmp_path / "crl.der").write_bytes(der)
    shown = openssl("crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Next Update: Jan  1 00:00:00 2050 GMT" in shown.stdout
    assert "Revocation Date: Jan  1 00:00:00 1950 GMT" in shown.stdout
    assert "Revocation Date: Dec 31 23:59:59 1969 GMT" in shown.stdout
    assert "Revocation Date: Dec 31 23:59:59 9999 GMT" in shown.stdout
    assert "Revocation Date: May 31 23:30:15 2025 GMT" in shown.stdout  # from +02:00
    verified = openssl(
        *("crl", "-inform", "DER", "-in", "crl.der", "-noout", "-CAfile", "issuing.pem"),
        cwd=_with_pki(tmp_path),
    )
    assert "verify OK" in verified.stdout + verified.stderr


def _with_pki(directory: Path) -> Path:
    write_pki(hierarchy(), directory)
    return directory


def test_the_crl_names_its_issuer_number_and_entries():
    h = hierarchy()
    revoked_at = now() - dt.timedelta(days=2)
    entries = [
        RevokedEntry(0x10, revoked_at, Reason.key_compromise),
        RevokedEntry(0x11, revoked_at, Reason.certificate_hold),
        RevokedEntry(0x12, revoked_at, None),
    ]
    crl = x509.load_der_x509_crl(crl_of(entries, number=42))
    assert crl.issuer == h.issuing.subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = h.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert [r.serial_number for r in crl] == [0x10, 0x11, 0x12]
    reasons = []
    for revoked in crl:
        assert revoked.revocation_date_utc == revoked_at
        try:
            reasons.append(revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason)
        except x509.ExtensionNotFound:
            reasons.append(None)
    assert reasons == [Reason.key_compromise, Reason.certificate_hold, None]


def test_openssl_shows_the_entries_and_their_reasons(tmp_path: Path):
    revoked_at = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    entries = [
        RevokedEntry(0xA1, revoked_at, Reason.key_compromise),
        RevokedEntry(0xA2, revoked_at, Reason.certificate_hold),
        RevokedEntry(0xA3, revoked_at, Reason.superseded),
        RevokedEntry(0xA4, revoked_at, None),
        RevokedEntry(0xA5, revoked_at, Reason.unspecified),  # left out, like None
    ]
    (tmp_path / "crl.der").write_bytes(crl_of(entries, number=7))
    shown = openssl("crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "Version 2" in text
    assert "ecdsa-with-SHA256" in text
    assert "Issuer: C = SE, O = Testregionen, CN = Test Issuing CA" in text
    assert re.search(r"X509v3 CRL Number: *\n *7\n", text)
    assert "X509v3 Authority Key Identifier" in text
    blocks = re.split(r"\n\s*Serial Number: ", text.split("Revoked Certificates:")[1])[1:]
    by_serial = {block.split("\n")[0].strip(): block for block in blocks}
    assert set(by_serial) == {"A1", "A2", "A3", "A4", "A5"}
    for serial, reason in (("A1", "Key Compromise"), ("A2", "Certificate Hold")):
        assert "Revocation Date: Mar  4 05:06:07 2026 GMT" in by_serial[serial]
        assert f"X509v3 CRL Reason Code: \n                {reason}" in by_serial[serial]
    assert "Superseded" in by_serial["A3"]
    assert "CRL Reason Code" not in by_serial["A4"]
    assert "CRL Reason Code" not in by_serial["A5"]


def _verify(tmp_path: Path, certificate: x509.Certificate, crl_der: bytes) -> str:
    write_pki(hierarchy(), tmp_path)
    write_cert(certificate, tmp_path / "leaf.pem")
    crl = x509.load_der_x509_crl(crl_der)
    (tmp_path / "crl.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    result = openssl(
        *("verify", "-crl_check", "-CAfile", "chain.pem", "-CRLfile", "crl.pem", "leaf.pem"),
        cwd=tmp_path,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("reason", "listed"),
    [
        (None, False),
        (Reason.key_compromise, True),
        (Reason.certificate_hold, True),  # a card not yet activated
        (None, True),  # revoked, no reason given
    ],
)
def test_openssl_verify_checks_the_crl(
    tmp_path: Path, reason: x509.ReasonFlags | None, listed: bool
):
    h = hierarchy()
    certificate = leaf(h)
    others = [RevokedEntry(certificate.serial_number + i, now(), reason) for i in (1, 2)]
    mine = [RevokedEntry(certificate.serial_number, now() - dt.timedelta(hours=1), reason)]
    output = _verify(tmp_path, certificate, crl_of(others + mine if listed else others))
    if listed:
        assert "certificate revoked" in output
        assert "leaf.pem: OK" not in output
    else:
        assert output.strip() == "leaf.pem: OK"


def test_an_empty_crl_has_no_revoked_certificates_list(tmp_path: Path):
    der = crl_of([])
    crl = x509.load_der_x509_crl(der)
    assert len(crl) == 0
    assert crl.is_signature_valid(hierarchy().issuing.public_key())
    (tmp_path / "crl.der").write_bytes(der)
    shown = openssl("crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text", cwd=tmp_path)
    assert "No Revoked Certificates." in shown.stdout
    assert _verify(tmp_path, leaf(hierarchy()), der).strip() == "leaf.pem: OK"


def _ca(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, ski: bool = True) -> x509.Certificate:
    subject = name("Another CA")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(77)
        .not_valid_before(now() - dt.timedelta(days=1))
        .not_valid_after(now() + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    return builder.sign(key, hashes.SHA256())


@pytest.mark.parametrize(
    ("key_kind", "hash_algorithm", "expected", "shown"),
    [
        ("p384", None, hashes.SHA384, "ecdsa-with-SHA384"),
        ("p256", None, hashes.SHA256, "ecdsa-with-SHA256"),
        ("rsa", None, hashes.SHA256, "sha256WithRSAEncryption"),
        ("p256", hashes.SHA512(), hashes.SHA512, "ecdsa-with-SHA512"),
        ("rsa", hashes.SHA384(), hashes.SHA384, "sha384WithRSAEncryption"),
    ],
)
def test_the_hash_follows_the_key(
    tmp_path: Path,
    key_kind: str,
    hash_algorithm: hashes.HashAlgorithm | None,
    expected: type,
    shown: str,
):
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if key_kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP384R1() if key_kind == "p384" else ec.SECP256R1())
    ca = _ca(key)
    entries = [RevokedEntry(5, now(), Reason.key_compromise)]
    der = build_crl(
        issuer_cert=ca,
        signing_key=signing_only(key),
        entries=entries,
        number=3,
        this_update=now(),
        next_update=now() + dt.timedelta(hours=1),
        hash_algorithm=hash_algorithm,
    )
    crl = x509.load_der_x509_crl(der)
    assert isinstance(crl.signature_hash_algorithm, expected)
    assert crl.is_signature_valid(ca.public_key())
    # OpenSSL reads the signature algorithm and verifies the signature with it.
    write_cert(ca, tmp_path / "ca.pem")
    (tmp_path / "crl.der").write_bytes(der)
    checked = openssl(
        *("crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text", "-CAfile", "ca.pem"),
        cwd=tmp_path,
    )
    assert "verify OK" in checked.stderr, checked.stderr
    assert f"Signature Algorithm: {shown}" in checked.stdout


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([RevokedEntry(5, dt.datetime(2026, 1, 1), None)], "timezone-aware"),
        ([RevokedEntry(5, dt.datetime(1949, 12, 31, tzinfo=UTC), None)], "1950"),
        ([RevokedEntry(0, dt.datetime(2026, 1, 1, tzinfo=UTC), None)], "positive"),
        ([RevokedEntry(-3, dt.datetime(2026, 1, 1, tzinfo=UTC), None)], "positive"),
        ([RevokedEntry(2**159, dt.datetime(2026, 1, 1, tzinfo=UTC), None)], "159 bits"),
        ([RevokedEntry(5, dt.datetime(2026, 1, 1, tzinfo=UTC), Reason.remove_from_crl)], "reason"),
        (
            [
                RevokedEntry(5, dt.datetime(2026, 1, 1, tzinfo=UTC), None),
                RevokedEntry(5, dt.datetime(2026, 1, 2, tzinfo=UTC), Reason.superseded),
            ],
            "more than once",
        ),
    ],
)
def test_bad_entries_are_refused(entries: list[RevokedEntry], message: str):
    with pytest.raises(ValueError, match=message):
        crl_of(entries)


def test_bad_arguments_are_refused():
    h = hierarchy()
    with pytest.raises(ValueError, match="after"):
        crl_of([], this_update=now(), next_update=now() - dt.timedelta(seconds=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        crl_of([], this_update=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="CRL number"):
        crl_of([], number=-1)
    with pytest.raises(ValueError, match="SHA-256"):
        crl_of([], hash_algorithm=hashes.SHA1())  # noqa: S303 (refused)
    with pytest.raises(ValueError, match="does not belong"):
        crl_of([], signing_key=signing_only(h.responder_key))
    # A key backend that reports the issuer's public key but signs with another key: the
    # signature of the CRL is checked before it is returned.
    with pytest.raises(ValueError, match="does not belong"):
        crl_of([], signing_key=SigningOnlyEcKey(h.issuing.public_key(), h.responder_key.sign))
    # Times before 1950 are refused, not passed on (cryptography panics on them).
    with pytest.raises(ValueError, match="1950"):
        crl_of([], this_update=dt.datetime(1949, 12, 31, 23, 59, 59, tzinfo=UTC))
    with pytest.raises(ValueError, match="ECDSA or RSA"):
        crl_of([], signing_key=ed25519.Ed25519PrivateKey.generate())
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ValueError, match="SubjectKeyIdentifier"):
        crl_of([], issuer_cert=_ca(key, ski=False), signing_key=key)


def test_a_crl_of_an_issuer_with_another_name():
    """The issuer name is copied from the certificate as `cryptography` encodes it."""
    key = ec.generate_private_key(ec.SECP256R1())
    ca = _ca(key)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Another CA"
    der = build_crl(
        issuer_cert=ca,
        signing_key=key,
        entries=[],
        number=0,
        this_update=now(),
        next_update=now() + dt.timedelta(hours=1),
    )
    assert x509.load_der_x509_crl(der).issuer == ca.subject
