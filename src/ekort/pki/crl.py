"""Certificate revocation lists (RFC 5280 §5): full CRLs, version 2, signed by the issuing CA.

A CRL names every certificate of its issuer that relying parties must not accept: revoked
ones and those on hold (cards issued but not yet activated are reported with reason
certificateHold until activation). Each entry has a CRLReason extension unless its reason is
None (or unspecified, which RFC 5280 §5.3.1 says to leave out); the CRL has an
AuthorityKeyIdentifier taken from the issuer's SubjectKeyIdentifier, and a CRLNumber.

Everything is encoded and signed by `cryptography`'s builders: a `RevokedCertificate` per entry
(`RevokedCertificateBuilder`, one shared extension list per reason), the whole list handed at
once to `CertificateRevocationListBuilder`'s constructor (`add_revoked_certificate` copies the
list on every call), then `sign`. The constructors do not check their arguments (the builder
methods do, one copy per call), so `build_crl` checks them itself, once per entry: a time
before 1950 would otherwise make `cryptography` panic rather than raise ValueError.

Speed (`make bench`, bench/crl.py, EC P-256): a million entries take about 7-9 s on one core:
about 3 s for the RevokedCertificates, 1.5-2.5 s to sign (the builder encodes the CRL and
parses it back), about 1 s for `public_bytes` (which encodes it once more) and about 1 s for
the check of the signature (`is_signature_valid` encodes the to-be-signed part again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

__all__ = ["RevokedEntry", "build_crl"]


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    serial: int
    revoked_at: dt.datetime  # aware
    # None: no reason code extension (RFC 5280: unspecified is omitted).
    reason: x509.ReasonFlags | None


# --- Checks, shared with `ocsp` -------------------------------------------------------------


def check_serial(serial: int) -> None:
    """RFC 5280 §4.1.2.2: positive, at most 20 octets (the same rule as `cryptography`'s)."""
    if type(serial) is not int or serial <= 0 or serial.bit_length() > 159:
        raise ValueError(f"A serial number is a positive integer of at most 159 bits: {serial!r}")


# UTCTime starts here (RFC 5280 §4.1.2.5); ekort has no earlier times to encode, and
# `cryptography` panics on them in a CRL.
EARLIEST = dt.datetime(1950, 1, 1, tzinfo=dt.UTC)


def check_time(name: str, value: object) -> None:
    """A timezone-aware datetime from 1950-01-01T00:00:00Z on; ValueError if not."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not {value!r}")
    if value < EARLIEST:
        raise ValueError(f"{name}: times start on 1950-01-01, not {value.isoformat()}")


# The reasons a CRL entry or an OCSP response reports. unspecified is left out (RFC 5280
# §5.3.1, like None); removeFromCRL belongs to delta CRLs only, which ekort does not issue.
REPORTED_REASONS: frozenset[x509.ReasonFlags] = frozenset(
    {
        x509.ReasonFlags.key_compromise,
        x509.ReasonFlags.ca_compromise,
        x509.ReasonFlags.affiliation_changed,
        x509.ReasonFlags.superseded,
        x509.ReasonFlags.cessation_of_operation,
        x509.ReasonFlags.certificate_hold,
        x509.ReasonFlags.privilege_withdrawn,
        x509.ReasonFlags.aa_compromise,
    }
)

SignatureHash = hashes.SHA256 | hashes.SHA384 | hashes.SHA512


def signature_hash(
    key: CertificateIssuerPrivateKeyTypes, hash_algorithm: hashes.HashAlgorithm | None
) -> SignatureHash:
    """The hash `key` signs with: `hash_algorithm`, or by default SHA-256 for P-256 and RSA,
    SHA-384 for P-384, SHA-512 for P-521. ValueError for other keys (ECDSA or RSA PKCS#1 v1.5,
    as `cryptography`'s builders sign with them) and other hashes."""
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"Signing keys are ECDSA or RSA, not {type(key).__name__}.")
    if hash_algorithm is None:
        if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
            return hashes.SHA512() if key.curve.key_size > 384 else hashes.SHA384()
        return hashes.SHA256()
    if not isinstance(hash_algorithm, SignatureHash):
        raise ValueError(f"Signatures use SHA-256, SHA-384 or SHA-512, not {hash_algorithm.name}.")
    return hash_algorithm


# --- CRL ------------------------------------------------------------------------------------


def _authority_key_identifier(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        raise ValueError(
            "The issuer certificate has no SubjectKeyIdentifier (RFC 5280 §4.2.1.2 requires one"
            " in CA certificates), so the CRL cannot name its key."
        ) from None
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _refuse(entry: RevokedEntry) -> NoReturn:
    """Raise the ValueError that says what is wrong with an entry the fast checks stopped."""
    check_serial(entry.serial)
    check_time("revoked_at", entry.revoked_at)
    if entry.reason not in (None, x509.ReasonFlags.unspecified, *REPORTED_REASONS):
        raise ValueError(
            f"A full CRL cannot carry reason {entry.reason!r} (serial {entry.serial:x})."
        )
    raise ValueError(f"A bad CRL entry: {entry!r}")  # not reached: one of the above raised


def _revoked_certificates(entries: Iterable[RevokedEntry]) -> list[x509.RevokedCertificate]:
    """A `RevokedCertificate` per entry, in order, each checked.

    The hot loop of a million-entry CRL: `RevokedCertificateBuilder`'s constructor (its
    methods would copy the builder three times and check again what is checked here), the
    extension lists made once per reason and looked up by identity (ReasonFlags members and
    None are singletons, and hashing an Enum runs Python code).
    """
    no_extensions: list[x509.Extension[x509.ExtensionType]] = []
    by_reason: dict[int, list[x509.Extension[x509.ExtensionType]]] = {
        id(None): no_extensions,
        id(x509.ReasonFlags.unspecified): no_extensions,
    }
    for reason in REPORTED_REASONS:
        by_reason[id(reason)] = [x509.Extension(x509.CRLReason.oid, False, x509.CRLReason(reason))]
    builder = x509.RevokedCertificateBuilder
    earliest = EARLIEST
    revoked: list[x509.RevokedCertificate] = []
    append = revoked.append
    seen: set[int] = set()
    add_seen = seen.add
    for entry in entries:
        serial, revoked_at = entry.serial, entry.revoked_at
        extensions = by_reason.get(id(entry.reason))
        try:
            # A naive time (or any other object) fails the comparison with TypeError.
            ok = (
                extensions is not None
                and type(serial) is int
                and serial > 0
                and serial.bit_length() <= 159
                and revoked_at >= earliest
            )
        except TypeError:
            ok = False
        if not ok:
            _refuse(entry)
        append(builder(serial, revoked_at, extensions).build())  # type: ignore[arg-type]
        add_seen(serial)
    if len(seen) != len(revoked):
        raise ValueError("A serial number appears more than once among the CRL entries.")
    return revoked


def build_crl(
    *,
    issuer_cert: x509.Certificate,
    signing_key: CertificateIssuerPrivateKeyTypes,
    entries: Iterable[RevokedEntry],
    number: int,
    this_update: dt.datetime,
    next_update: dt.datetime,
    hash_algorithm: hashes.HashAlgorithm | None = None,
) -> bytes:
    """A signed full CRL (DER) of `issuer_cert`, listing `entries` in the order given.

    `signing_key` is the issuer's key (any object `cryptography` could sign with, such as a
    key backend's signing-only key). `hash_algorithm` defaults to SHA-384 for P-384 keys and
    SHA-256 otherwise. Raises ValueError on bad input (a naive time or one before 1950, a
    duplicate or non-positive serial, reason removeFromCRL, a key that does not match the
    certificate).
    """
    check_time("this_update", this_update)
    check_time("next_update", next_update)
    if next_update <= this_update:
        raise ValueError("next_update must come after this_update.")
    if type(number) is not int or number < 0 or number.bit_length() > 159:
        raise ValueError(f"A CRL number is a non-negative integer of at most 159 bits: {number!r}")
    algorithm = signature_hash(signing_key, hash_algorithm)
    issuer_key = issuer_cert.public_key()
    # Before the work, not after: a wrong key never signs a useless CRL. The signature itself
    # is checked below.
    if signing_key.public_key() != issuer_key:
        raise ValueError("The signing key does not belong to the issuer certificate.")
    extensions: list[x509.Extension[x509.ExtensionType]] = [
        x509.Extension(
            x509.AuthorityKeyIdentifier.oid, False, _authority_key_identifier(issuer_cert)
        ),
        x509.Extension(x509.CRLNumber.oid, False, x509.CRLNumber(number)),
    ]
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=issuer_cert.subject,
        last_update=this_update,
        next_update=next_update,
        extensions=extensions,
        revoked_certificates=_revoked_certificates(entries),
    )
    crl = builder.sign(signing_key, algorithm)
    del builder
    # A key backend whose signatures do not verify (a token that signs with another key than
    # the one it reports) must not ship a CRL nobody can use.
    if not crl.is_signature_valid(issuer_key):  # type: ignore[arg-type]
        raise ValueError("The signing key does not belong to the issuer certificate.")
    return crl.public_bytes(serialization.Encoding.DER)
