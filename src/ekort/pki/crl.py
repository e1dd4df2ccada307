"""Certificate revocation lists (RFC 5280 §5): full CRLs, version 2, signed by the issuing CA.

A CRL names every certificate of its issuer that relying parties must not accept: revoked
ones and those on hold (cards issued but not yet activated are reported with reason
certificateHold until activation). Each entry has a CRLReason extension unless its reason is
None (or unspecified, which RFC 5280 §5.3.1 says to leave out); the CRL has a CRLNumber and an
AuthorityKeyIdentifier taken from the issuer's SubjectKeyIdentifier.

Speed: an issuing CA may have a million entries. `cryptography`'s builders spend several
microseconds per entry (a `RevokedCertificate` is encoded and parsed back, and the signed CRL
is serialised once more for `public_bytes`), so the list of entries is DER-encoded here
directly; the few header fields take their encodings from `cryptography` (names, extension
values), and the result is parsed back and its signature checked against the issuer
certificate before it is returned. The tests compare the to-be-signed bytes with the builder's
output byte for byte.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

__all__ = ["RevokedEntry", "build_crl"]


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    serial: int
    revoked_at: dt.datetime  # aware
    # None: no reason code extension (RFC 5280: unspecified is omitted).
    reason: x509.ReasonFlags | None


# --- DER, shared with `ocsp` --------------------------------------------------------------


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    size = (n.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + n.to_bytes(size, "big")


def der_tlv(tag: int, content: bytes) -> bytes:
    """One DER element: a one-byte tag, the definite length, the content."""
    return bytes((tag,)) + der_length(len(content)) + content


def der_positive_integer(value: int) -> bytes:
    """The content octets of a non-negative INTEGER (a leading zero when the top bit is set)."""
    return value.to_bytes((value.bit_length() + 8) // 8, "big")


def check_serial(serial: int) -> None:
    """RFC 5280 §4.1.2.2: positive, at most 20 octets (the same rule as `cryptography`'s)."""
    if type(serial) is not int or serial <= 0 or serial.bit_length() > 159:
        raise ValueError(f"A serial number is a positive integer of at most 159 bits: {serial!r}")


def check_aware(name: str, value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not {value!r}")


# The code of each reason (RFC 5280 §5.3.1). unspecified is left out; removeFromCRL belongs to
# delta CRLs only, which ekort does not issue.
REASON_CODES: dict[x509.ReasonFlags, int] = {
    x509.ReasonFlags.key_compromise: 1,
    x509.ReasonFlags.ca_compromise: 2,
    x509.ReasonFlags.affiliation_changed: 3,
    x509.ReasonFlags.superseded: 4,
    x509.ReasonFlags.cessation_of_operation: 5,
    x509.ReasonFlags.certificate_hold: 6,
    x509.ReasonFlags.privilege_withdrawn: 9,
    x509.ReasonFlags.aa_compromise: 10,
}

_OID_ECDSA = bytes.fromhex("2a8648ce3d0403")  # 1.2.840.10045.4.3
_OID_RSA_PKCS1 = bytes.fromhex("2a864886f70d0101")  # 1.2.840.113549.1.1
_SIGNATURE_OIDS: dict[str, tuple[bytes, bytes]] = {
    # hash name: (ecdsa-with-..., ...WithRSAEncryption)
    "sha256": (_OID_ECDSA + b"\x02", _OID_RSA_PKCS1 + b"\x0b"),
    "sha384": (_OID_ECDSA + b"\x03", _OID_RSA_PKCS1 + b"\x0c"),
    "sha512": (_OID_ECDSA + b"\x04", _OID_RSA_PKCS1 + b"\x0d"),
}


def default_hash(public_key: object) -> hashes.HashAlgorithm:
    """SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.key_size > 384:
            return hashes.SHA512()
        if public_key.curve.key_size > 256:
            return hashes.SHA384()
    return hashes.SHA256()


_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class Signer:
    """How a key signs: ECDSA, or RSA PKCS#1 v1.5 (as `cryptography`'s builders sign), with
    SHA-256/384/512, and the AlgorithmIdentifier (DER) that says so."""

    __slots__ = ("_ecdsa", "algorithm_identifier", "hash_algorithm", "sign")

    def __init__(
        self, key: CertificateIssuerPrivateKeyTypes, hash_algorithm: hashes.HashAlgorithm | None
    ) -> None:
        algorithm = hash_algorithm or default_hash(key.public_key())
        if type(algorithm) is not _HASHES.get(algorithm.name):
            raise ValueError(f"Signatures use SHA-256, SHA-384 or SHA-512, not {algorithm.name}.")
        self.hash_algorithm = algorithm
        ecdsa_oid, rsa_oid = _SIGNATURE_OIDS[algorithm.name]
        self.sign: Callable[[bytes], bytes]
        if isinstance(key, ec.EllipticCurvePrivateKey):
            ecdsa = self._ecdsa = ec.ECDSA(algorithm)
            self.algorithm_identifier = der_tlv(0x30, der_tlv(0x06, ecdsa_oid))
            self.sign = lambda data: key.sign(data, ecdsa)
        elif isinstance(key, rsa.RSAPrivateKey):
            self._ecdsa = None
            self.algorithm_identifier = der_tlv(0x30, der_tlv(0x06, rsa_oid) + b"\x05\x00")
            self.sign = lambda data: key.sign(data, padding.PKCS1v15(), algorithm)
        else:
            raise ValueError(f"Signing keys are ECDSA or RSA, not {type(key).__name__}.")

    def verify(self, public_key: object, signature: bytes, data: bytes) -> None:
        """Raises InvalidSignature unless `public_key` verifies the signature."""
        if self._ecdsa is not None and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, self._ecdsa)
        elif self._ecdsa is None and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), self.hash_algorithm)
        else:
            raise InvalidSignature

    def signature_fields(self, tbs: bytes) -> tuple[bytes, bytes]:
        """(signatureAlgorithm + signature BIT STRING, raw signature) for a to-be-signed blob."""
        signature = self.sign(tbs)
        return self.algorithm_identifier + der_tlv(0x03, b"\x00" + signature), signature


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EARLIEST = -631_152_000  # 1950-01-01T00:00:00Z, the start of UTCTime (RFC 5280 §4.1.2.5)
_HOUR_MINUTE = [f"{h:02d}{m:02d}".encode() for h in range(24) for m in range(60)]
_SECOND = [f"{s:02d}Z".encode() for s in range(60)]


class TimeEncoder:
    """DER of instants, to the second, with the date part cached: a million a second or so.

    RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050; `generalized` forces
    GeneralizedTime (OCSP, RFC 6960). Sub-second parts are dropped, as `cryptography` does.
    """

    def __init__(self, *, generalized: bool = False) -> None:
        self._generalized = generalized
        self.days: dict[int, bytes] = {}

    def day(self, day: int) -> bytes:
        """The tag, length and date part of a time on `day` (days since 1970-01-01)."""
        date = _EPOCH + dt.timedelta(days=day)
        if not self._generalized and date.year < 2050:
            prefix = b"\x17\x0d" + f"{date.year % 100:02d}{date.month:02d}{date.day:02d}".encode()
        else:
            prefix = b"\x18\x0f" + f"{date.year:04d}{date.month:02d}{date.day:02d}".encode()
        if len(self.days) > 100_000:
            self.days.clear()
        self.days[day] = prefix
        return prefix

    def __call__(self, value: dt.datetime) -> bytes:
        if not isinstance(value, dt.datetime) or value.utcoffset() is None:
            raise ValueError(f"Times must be timezone-aware datetimes, not {value!r}")
        seconds = math.floor(value.timestamp())
        if seconds < _EARLIEST:
            raise ValueError(f"Times start on 1950-01-01, not {value.isoformat()}")
        day, second_of_day = divmod(seconds, 86400)
        prefix = self.days.get(day) or self.day(day)
        return prefix + _HOUR_MINUTE[second_of_day // 60] + _SECOND[second_of_day % 60]


# --- CRL ------------------------------------------------------------------------------------

_CRL_REASON_OID = bytes.fromhex("0603551d15")  # OBJECT IDENTIFIER 2.5.29.21


def _entry_extensions() -> dict[x509.ReasonFlags | None, bytes]:
    """crlEntryExtensions holding a non-critical CRLReason, for each reason; b"" for none."""
    encoded: dict[x509.ReasonFlags | None, bytes] = {None: b"", x509.ReasonFlags.unspecified: b""}
    for reason in REASON_CODES:
        value = x509.CRLReason(reason).public_bytes()
        extension = der_tlv(0x30, _CRL_REASON_OID + der_tlv(0x04, value))
        encoded[reason] = der_tlv(0x30, extension)
    return encoded


_ENTRY_EXTENSIONS = _entry_extensions()


def _extension(extension: x509.ExtensionType) -> bytes:
    """A non-critical Extension, its value encoded by `cryptography`."""
    oid = x509.ObjectIdentifier(extension.oid.dotted_string)
    return der_tlv(0x30, _oid_der(oid) + der_tlv(0x04, extension.public_bytes()))


def _oid_der(oid: x509.ObjectIdentifier) -> bytes:
    arcs = [int(arc) for arc in oid.dotted_string.split(".")]
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return der_tlv(0x06, bytes(body))


def _authority_key_identifier(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        # RFC 5280 requires CA certificates to have one; fall back to its method (1).
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _encode_entries(entries: Iterable[RevokedEntry]) -> tuple[list[bytes], int]:
    """The DER of each revokedCertificates element, and their total length.

    The loop is the hot path of a million-entry CRL (about 2 µs an entry), hence the inlined
    time encoding for instants after 1970 (TimeEncoder handles the rest and the errors).
    """
    time_der = TimeEncoder()
    days = time_der.days
    day_prefix = time_der.day
    hour_minute, second = _HOUR_MINUTE, _SECOND
    extensions = _ENTRY_EXTENSIONS
    seen: set[int] = set()
    add_seen = seen.add
    encoded: list[bytes] = []
    append = encoded.append
    total = 0
    for entry in entries:
        serial = entry.serial
        bits = serial.bit_length()
        if serial <= 0 or bits > 159:
            check_serial(serial)
        try:
            extension = extensions[entry.reason]
        except KeyError:
            raise ValueError(
                f"A full CRL cannot carry reason {entry.reason!r} (serial {serial:x})."
            ) from None
        revoked_at = entry.revoked_at
        if revoked_at.tzinfo is not None and (seconds := int(revoked_at.timestamp())) >= 0:
            day = seconds // 86400
            of_day = seconds - day * 86400
            time = (days.get(day) or day_prefix(day)) + hour_minute[of_day // 60]
            time += second[of_day % 60]
        else:
            time = time_der(revoked_at)
        serial_der = serial.to_bytes((bits + 8) >> 3, "big")
        body = b"\x02" + bytes((len(serial_der),)) + serial_der + time + extension
        item = b"\x30" + bytes((len(body),)) + body  # at most 22 + 17 + 14 bytes: short form
        append(item)
        total += len(item)
        add_seen(serial)
    if len(seen) != len(encoded):
        raise ValueError("A serial number appears more than once among the CRL entries.")
    return encoded, total


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
    SHA-256 otherwise. Raises ValueError on bad input (a naive time, a duplicate or
    non-positive serial, reason removeFromCRL, a key that does not match the certificate).
    """
    check_aware("this_update", this_update)
    check_aware("next_update", next_update)
    if next_update <= this_update:
        raise ValueError("next_update must come after this_update.")
    if type(number) is not int or number < 0 or number.bit_length() > 159:
        raise ValueError(f"A CRL number is a non-negative integer of at most 159 bits: {number!r}")

    signer = Signer(signing_key, hash_algorithm)
    time_der = TimeEncoder()
    crl_extensions = _extension(_authority_key_identifier(issuer_cert)) + _extension(
        x509.CRLNumber(number)
    )
    items, total = _encode_entries(entries)

    parts = [
        b"\x02\x01\x01",  # version v2
        signer.algorithm_identifier,
        issuer_cert.subject.public_bytes(),
        time_der(this_update),
        time_der(next_update),
    ]
    if items:  # RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked
        parts.append(b"\x30" + der_length(total))
        parts.extend(items)
    parts.append(der_tlv(0xA0, der_tlv(0x30, crl_extensions)))
    tbs = der_tlv(0x30, b"".join(parts))
    del items, parts

    signature_fields, signature = signer.signature_fields(tbs)
    # Cheap safety nets (a tenth of a second at a million entries): the issuer certificate's
    # key verifies the signature, so a wrong key never ships a useless CRL, and the result
    # parses.
    try:
        signer.verify(issuer_cert.public_key(), signature, tbs)
    except InvalidSignature:
        raise ValueError("The signing key does not belong to the issuer certificate.") from None
    der = der_tlv(0x30, tbs + signature_fields)
    x509.load_der_x509_crl(der)
    return der
