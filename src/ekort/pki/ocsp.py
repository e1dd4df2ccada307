"""OCSP (RFC 6960): reading requests, and signing the responses that answer them.

ekort's responder answers from responses made ahead of time: whenever a certificate's status
changes, and on every refresh, a signed response per certificate is built and stored, so that
answering a request is a lookup by its CertID (issuer name hash, issuer key hash, serial).

Nonces: a pre-made response cannot carry the nonce of a request that has not been made yet, so
responses never include one, whatever the request had. RFC 6960 §4.4.1 leaves nonces to the
responder's discretion and RFC 5019 (the lightweight profile for high-volume responders) has
responders ignore them; `CertId.nonce` reports what the request carried, nothing more. Clients
that send a nonce by default, such as `openssl ocsp`, print "WARNING: no nonce in response"
unless run with `-no_nonce`.

Responses are signed by a delegated responder certificate (RFC 6960 §4.2.2.2: issued by the
CA, extended key usage id-kp-OCSPSigning, and in ekort with id-pkix-ocsp-nocheck), name it by
the SHA-1 hash of its key (ResponderID byKey), and include it in `certs` so clients can verify
without fetching it. A response answers a CertID made with SHA-1 (what OpenSSL and most clients
send) or, when asked for, SHA-256. producedAt is the time of signing (`cryptography`'s builder
sets it from the clock).

Everything is encoded and signed by `cryptography`'s OCSPResponseBuilder. `build_response`
runs once per certificate on every refresh (hundreds of thousands), so a `ResponderContext`
holds what does not change from one response to the next: the checked responder certificate
and key, the signature hash, the issuer's name and key hashes for each CertID algorithm, and
a builder with the ResponderID and certs already set (builders are immutable, so it is shared
safely between threads); each response adds its one SingleResponse to it and signs.

Requests: `parse_request` takes an OCSPRequest with exactly one CertID (RFC 5019 §2.1.1, and
what ekort's pre-made responses can answer). Its problems map to the unsigned error statuses
of RFC 6960 §2.3:

- malformedRequest: empty, over MAX_REQUEST_BYTES, not DER of an OCSPRequest, not exactly one
  CertID, hashes whose length does not fit the hash algorithm, a serial that is not a positive
  integer of at most 159 bits (RFC 5280 §4.1.2.2: no certificate of ekort has another), an
  unreadable nonce. A signed request is read like an unsigned one: its signature is not checked
  and grants nothing (signing is the requestor's option, RFC 6960 §4.1.2; a responder that
  insisted on it would answer sigRequired, and this one does not).
- unauthorized: a CertID hashed with an algorithm other than SHA-1 or SHA-256. The request is
  well formed, but no issuer this responder serves can be named that way, which is how RFC 5019
  §2.2.3 says to answer for certificates the responder is not authoritative for.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import string
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from .crl import REPORTED_REASONS, check_serial, check_time, signature_hash

__all__ = [
    "MAX_REQUEST_BYTES",
    "SUPPORTED_HASHES",
    "CertId",
    "CertStatus",
    "OcspProblem",
    "ResponderContext",
    "build_response",
    "error_response",
    "issuer_hashes",
    "make_responder_context",
    "ocsp_get_path_to_der",
    "parse_request",
]

MAX_REQUEST_BYTES = 10_000

# CertID hash algorithms, by name.
_CERT_ID_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,  # what OpenSSL and RFC 5019 clients send; not a security choice here
    "sha256": hashes.SHA256,
}
SUPPORTED_HASHES = tuple(_CERT_ID_ALGORITHMS)
_DIGEST_SIZES = {name: algorithm.digest_size for name, algorithm in _CERT_ID_ALGORITHMS.items()}

_Status = ocsp.OCSPResponseStatus


class OcspProblem(Exception):
    """A request that gets no signed answer: `status` is the unsigned error to send instead
    (`error_response(problem.status)`)."""

    status: ocsp.OCSPResponseStatus

    def __init__(self, status: ocsp.OCSPResponseStatus, message: str = "") -> None:
        super().__init__(message or status.name)
        self.status = status


@dataclass(frozen=True)
class CertId:
    hash_algorithm: str  # "sha1" or "sha256"
    issuer_name_hash: str  # lower-case hex
    issuer_key_hash: str  # lower-case hex
    serial: int
    nonce: bytes | None  # present in the request (never echoed: see the module docstring)


class CertStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


# --- Certificates: the subject name and key, as CertIDs hash them ---------------------------


def _subject_and_key(certificate: x509.Certificate) -> tuple[bytes, bytes]:
    """The DER of the subject Name and the subjectPublicKey bits (RFC 6960 §4.1.1), as
    `cryptography` encodes them.

    Clients hash the bytes of the certificate, so the encodings are checked to be those in
    the certificate (they are for DER: a certificate whose name or key is encoded otherwise,
    such as an EC point in compressed form, is refused rather than given CertIDs that no
    client would send).
    """
    subject = certificate.subject.public_bytes()
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        bits = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    elif isinstance(key, rsa.RSAPublicKey):
        bits = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        bits = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raise ValueError(f"CertIDs name EC, RSA or EdDSA issuer keys, not {type(key).__name__}.")
    tbs = certificate.tbs_certificate_bytes
    if subject not in tbs or bits not in tbs:
        raise ValueError(
            "The certificate's subject name or key is not in the DER that `cryptography` writes,"
            " so the CertIDs clients make from it cannot be computed."
        )
    return subject, bits


def _hashes(certificate: x509.Certificate, algorithm: str) -> tuple[bytes, bytes]:
    if algorithm not in _CERT_ID_ALGORITHMS:
        raise ValueError(f"CertIDs are hashed with {' or '.join(SUPPORTED_HASHES)}.")
    subject, key = _subject_and_key(certificate)
    return hashlib.new(algorithm, subject).digest(), hashlib.new(algorithm, key).digest()


def issuer_hashes(issuer_cert: x509.Certificate, algorithm: str = "sha1") -> tuple[str, str]:
    """(issuer name hash, issuer key hash) in lower-case hex, as a CertID names this issuer."""
    name_hash, key_hash = _hashes(issuer_cert, algorithm)
    return name_hash.hex(), key_hash.hex()


# --- Requests -------------------------------------------------------------------------------


def parse_request(der: bytes) -> CertId:
    """The one CertID of a DER OCSPRequest; OcspProblem if the request cannot be answered."""
    if not isinstance(der, bytes | bytearray | memoryview) or not 0 < len(der) <= MAX_REQUEST_BYTES:
        raise OcspProblem(_Status.MALFORMED_REQUEST, "empty or oversized request")
    try:
        request = ocsp.load_der_ocsp_request(bytes(der))
    except Exception as error:  # ValueError mostly; whatever it is, the input is to blame
        raise OcspProblem(_Status.MALFORMED_REQUEST, f"not an OCSP request: {error}") from None
    try:
        algorithm = request.hash_algorithm.name
    except UnsupportedAlgorithm:
        algorithm = "unsupported"
    if algorithm not in _CERT_ID_ALGORITHMS:
        raise OcspProblem(_Status.UNAUTHORIZED, f"CertID hashed with {algorithm}")
    name_hash, key_hash = request.issuer_name_hash, request.issuer_key_hash
    if len(name_hash) != _DIGEST_SIZES[algorithm] or len(key_hash) != _DIGEST_SIZES[algorithm]:
        raise OcspProblem(_Status.MALFORMED_REQUEST, f"CertID hashes are not {algorithm}")
    serial = request.serial_number
    if serial <= 0 or serial.bit_length() > 159:
        raise OcspProblem(_Status.MALFORMED_REQUEST, "serial number out of range")
    try:
        nonce: bytes | None = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        nonce = None
    except Exception:  # a nonce (or another extension) that does not parse
        raise OcspProblem(_Status.MALFORMED_REQUEST, "unreadable request extensions") from None
    return CertId(algorithm, name_hash.hex(), key_hash.hex(), serial, nonce)


_BASE64 = frozenset(string.ascii_letters + string.digits + "+/")
# Percent-encoding at most triples the base64 text, which is 4/3 of the DER.
_MAX_GET_PATH = 3 * 4 * (MAX_REQUEST_BYTES // 3 + 1)


def ocsp_get_path_to_der(path_segment: str) -> bytes:
    """The DER request in a GET URL (RFC 6960 A.1: the URL-encoded base64 after the
    responder's path), percent-encoded or not: it may hold '/' and '+' as they are.

    Lenient where clients differ: a '+' that became a space, the URL-safe alphabet ('-', '_'),
    missing '=' padding. Anything else that is not base64 is malformedRequest.
    """
    malformed = OcspProblem(_Status.MALFORMED_REQUEST, "not a base64 OCSP request")
    if not path_segment or len(path_segment) > _MAX_GET_PATH:
        raise malformed
    try:
        text = urllib.parse.unquote(path_segment, errors="strict")
    except UnicodeDecodeError:
        raise malformed from None
    text = text.replace(" ", "+").replace("-", "+").replace("_", "/").rstrip("=")
    if not text or len(text) % 4 == 1 or not _BASE64.issuperset(text):
        raise malformed
    try:
        der = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise malformed from None
    if not 0 < len(der) <= MAX_REQUEST_BYTES:
        raise malformed
    return der


_ERRORS: dict[ocsp.OCSPResponseStatus, bytes] = {}


def error_response(status: ocsp.OCSPResponseStatus) -> bytes:
    """The unsigned OCSPResponse (DER) of an error status: malformedRequest, internalError,
    tryLater, sigRequired or unauthorized."""
    der = _ERRORS.get(status)
    if der is None:
        response = ocsp.OCSPResponseBuilder.build_unsuccessful(status)
        der = _ERRORS[status] = response.public_bytes(serialization.Encoding.DER)
    return der


# --- Responses ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ResponderContext:
    """What every response of one issuer and responder shares, checked and computed once:
    made by `make_responder_context`, passed to `build_response(context=...)`."""

    issuer_cert: x509.Certificate
    responder_cert: x509.Certificate
    responder_key: CertificateIssuerPrivateKeyTypes
    signature_hash: hashes.HashAlgorithm  # what the responder key signs with
    # CertID hash algorithm name -> (issuer name hash, issuer key hash, the algorithm).
    cert_ids: dict[str, tuple[bytes, bytes, hashes.HashAlgorithm]]
    # ResponderID (byKey) and certs (the responder certificate) set, no response yet.
    builder: ocsp.OCSPResponseBuilder


def make_responder_context(
    issuer_cert: x509.Certificate,
    responder_cert: x509.Certificate,
    responder_key: CertificateIssuerPrivateKeyTypes,
) -> ResponderContext:
    """Check that `responder_cert` may answer for `issuer_cert` and that `responder_key` is its
    key, and compute what its responses share. ValueError if not."""
    if responder_cert != issuer_cert:
        try:
            responder_cert.verify_directly_issued_by(issuer_cert)
        except (ValueError, TypeError, InvalidSignature):
            raise ValueError("The OCSP responder certificate is not issued by the CA.") from None
        try:
            usages = responder_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        except x509.ExtensionNotFound:
            usages = None
        if usages is None or ExtendedKeyUsageOID.OCSP_SIGNING not in usages.value:
            raise ValueError("The OCSP responder certificate lacks extended key usage OCSPSigning.")
    if responder_key.public_key() != responder_cert.public_key():
        raise ValueError("The responder key does not belong to the responder certificate.")
    cert_ids = {}
    for name, algorithm in _CERT_ID_ALGORITHMS.items():
        name_hash, key_hash = _hashes(issuer_cert, name)
        cert_ids[name] = (name_hash, key_hash, algorithm())
    builder = (
        ocsp.OCSPResponseBuilder()
        .responder_id(ocsp.OCSPResponderEncoding.HASH, responder_cert)
        .certificates([responder_cert])
    )
    return ResponderContext(
        issuer_cert=issuer_cert,
        responder_cert=responder_cert,
        responder_key=responder_key,
        signature_hash=signature_hash(responder_key, None),
        cert_ids=cert_ids,
        builder=builder,
    )


# The last context made from certificates and a key passed to build_response, reused while the
# same objects come again (strong references, so their ids cannot be reused meanwhile). One
# assignment replaces it, so threads see either the old or the new one, both valid.
_last_context: tuple[object, object, object, ResponderContext] | None = None


def _context_for(
    issuer_cert: x509.Certificate | None,
    responder_cert: x509.Certificate | None,
    responder_key: CertificateIssuerPrivateKeyTypes | None,
) -> ResponderContext:
    global _last_context
    if issuer_cert is None or responder_cert is None or responder_key is None:
        raise TypeError("build_response needs context, or issuer_cert, responder_cert and key.")
    last = _last_context
    if (
        last is not None
        and last[0] is issuer_cert
        and last[1] is responder_cert
        and last[2] is responder_key
    ):
        return last[3]
    context = make_responder_context(issuer_cert, responder_cert, responder_key)
    _last_context = (issuer_cert, responder_cert, responder_key, context)
    return context


_CERT_STATUS = {
    CertStatus.GOOD: ocsp.OCSPCertStatus.GOOD,
    CertStatus.REVOKED: ocsp.OCSPCertStatus.REVOKED,
    CertStatus.UNKNOWN: ocsp.OCSPCertStatus.UNKNOWN,
}
_DER = serialization.Encoding.DER


def build_response(
    *,
    issuer_cert: x509.Certificate | None = None,
    responder_cert: x509.Certificate | None = None,
    responder_key: CertificateIssuerPrivateKeyTypes | None = None,
    context: ResponderContext | None = None,
    serial: int,
    status: CertStatus,
    revoked_at: dt.datetime | None,
    reason: x509.ReasonFlags | None,
    this_update: dt.datetime,
    next_update: dt.datetime,
    hash_algorithm: str = "sha1",
    produced_at: dt.datetime | None = None,
) -> bytes:
    """A successful OCSPResponse (DER) with one SingleResponse for (issuer, serial).

    Give either `context` (from `make_responder_context`, the fast way for many responses) or
    `issuer_cert`, `responder_cert` and `responder_key` (a context is made from them, and
    reused while the same three objects are passed). `hash_algorithm` is that of the CertID
    ("sha1" or "sha256"): a request matches only a response with its algorithm. `revoked_at`
    (required) and `reason` (optional; None and unspecified are left out) only with
    REVOKED. Times are timezone-aware, from 1950 on, to the second (fractions are dropped).
    producedAt is the time of signing, set by `cryptography`'s builder: `produced_at` is
    kept for callers of the former signature and must be None. No nonce (see the module
    docstring).
    """
    if context is None:
        context = _context_for(issuer_cert, responder_cert, responder_key)
    elif issuer_cert is not None or responder_cert is not None or responder_key is not None:
        raise TypeError("build_response takes context, or the certificates and key: not both.")
    cert_id = context.cert_ids.get(hash_algorithm)
    if cert_id is None:
        raise ValueError(f"CertIDs are hashed with {' or '.join(SUPPORTED_HASHES)}.")
    if type(serial) is not int or serial <= 0 or serial.bit_length() > 159:
        check_serial(serial)

    status = CertStatus(status)
    if status is CertStatus.REVOKED:
        if revoked_at is None:
            raise ValueError("A revoked status needs revoked_at.")
        check_time("revoked_at", revoked_at)
        if reason is x509.ReasonFlags.unspecified:
            reason = None  # left out, as in CRLs
        elif reason is not None and reason not in REPORTED_REASONS:
            raise ValueError(f"OCSP does not report reason {reason!r}.")
    elif revoked_at is not None or reason is not None:
        raise ValueError(f"revoked_at and reason go with a revoked status, not {status}.")
    check_time("this_update", this_update)
    check_time("next_update", next_update)
    if next_update <= this_update:
        raise ValueError("next_update must come after this_update.")
    if produced_at is not None:
        raise ValueError(
            "producedAt is the time of signing, which cryptography's OCSPResponseBuilder sets;"
            " pass produced_at=None."
        )

    name_hash, key_hash, algorithm = cert_id
    response = context.builder.add_response_by_hash(
        name_hash,
        key_hash,
        serial,
        algorithm,
        _CERT_STATUS[status],
        this_update,
        next_update,
        revoked_at,
        reason,
    ).sign(context.responder_key, context.signature_hash)
    return response.public_bytes(_DER)
