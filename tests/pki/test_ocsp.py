"""OCSP: requests made by `openssl ocsp` are read, responses built from them satisfy
`openssl ocsp` (status, reason, signature by the delegated responder) and carry the fields
they were given, and bad requests get the right unsigned errors."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
import re
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp as cocsp

from ekort.pki import ocsp
from ekort.pki.ocsp import CertStatus, OcspProblem
from ekort.pki.signing_only import signing_only

from .hierarchy import hierarchy, leaf, write_cert, write_pki

Reason = x509.ReasonFlags
SHA1 = hashes.SHA1  # the CertID hash of OpenSSL and RFC 5019, not a security choice here
Status = cocsp.OCSPResponseStatus
UTC = dt.UTC


def now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def openssl(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )


def pki_dir(tmp_path: Path, *certificates: x509.Certificate) -> list[str]:
    """The hierarchy's PEM files, and leaf0.pem, leaf1.pem... for `certificates`."""
    write_pki(hierarchy(), tmp_path)
    names = [f"leaf{i}.pem" for i in range(len(certificates))]
    for certificate, file_name in zip(certificates, names, strict=True):
        write_cert(certificate, tmp_path / file_name)
    return names


def openssl_request(tmp_path: Path, *leaf_files: str, digest: str = "", nonce: bool = False):
    """The DER of `openssl ocsp -reqout` for the given leaf files."""
    args: list[str] = ["ocsp", "-issuer", "issuing.pem"]
    if digest:
        args.append(f"-{digest}")  # must come before -cert
    for file_name in leaf_files:
        args += ["-cert", file_name]
    args += ["-reqout", "req.der"]
    if not nonce:
        args.append("-no_nonce")
    made = openssl(*args, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    return (tmp_path / "req.der").read_bytes()


def respond(
    cert_id: ocsp.CertId,
    status: CertStatus,
    reason: x509.ReasonFlags | None = None,
    revoked_at: dt.datetime | None = None,
) -> bytes:
    h = hierarchy()
    this_update = now() - dt.timedelta(minutes=1)
    if status is CertStatus.REVOKED and revoked_at is None:
        revoked_at = this_update - dt.timedelta(days=1)
    return ocsp.build_response(
        issuer_cert=h.issuing,
        responder_cert=h.responder,
        responder_key=h.responder_signer,
        serial=cert_id.serial,
        status=status,
        revoked_at=revoked_at,
        reason=reason,
        this_update=this_update,
        next_update=this_update + dt.timedelta(hours=8),
        hash_algorithm=cert_id.hash_algorithm,
    )


def check_with_openssl(
    tmp_path: Path, response: bytes, leaf_file: str, *extra: str, digest: str = ""
) -> tuple[str, str]:
    (tmp_path / "resp.der").write_bytes(response)
    args = ["ocsp", "-respin", "resp.der", "-issuer", "issuing.pem", *extra]
    if digest:
        args.append(f"-{digest}")
    checked = openssl(*args, "-cert", leaf_file, cwd=tmp_path)
    return checked.stdout, checked.stderr


# --- Requests -------------------------------------------------------------------------------


@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_an_openssl_request_is_read(tmp_path: Path, digest: str):
    certificate = leaf(hierarchy())
    (leaf_file,) = pki_dir(tmp_path, certificate)
    cert_id = ocsp.parse_request(openssl_request(tmp_path, leaf_file, digest=digest))
    name_hash, key_hash = ocsp.issuer_hashes(hierarchy().issuing, digest)
    assert cert_id == ocsp.CertId(digest, name_hash, key_hash, certificate.serial_number, None)


def test_issuer_hashes_are_those_of_rfc_6960():
    """SHA-1 of the issuer's DER subject name and of its public key's BIT STRING contents,
    computed here independently (cryptography's own CertID, and by hand)."""
    h = hierarchy()
    certificate = leaf(h)
    for algorithm, hash_class in (("sha1", hashes.SHA1), ("sha256", hashes.SHA256)):
        request = (
            cocsp.OCSPRequestBuilder().add_certificate(certificate, h.issuing, hash_class()).build()
        )
        assert ocsp.issuer_hashes(h.issuing, algorithm) == (
            request.issuer_name_hash.hex(),
            request.issuer_key_hash.hex(),
        )
    point = h.issuing.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    name_hash = hashlib.sha1(h.issuing.subject.public_bytes()).hexdigest()  # noqa: S324
    assert ocsp.issuer_hashes(h.issuing) == (name_hash, hashlib.sha1(point).hexdigest())  # noqa: S324
    with pytest.raises(ValueError, match="sha1 or sha256"):
        ocsp.issuer_hashes(h.issuing, "md5")


def test_the_nonce_of_a_request_is_reported(tmp_path: Path):
    (leaf_file,) = pki_dir(tmp_path, leaf(hierarchy()))
    cert_id = ocsp.parse_request(openssl_request(tmp_path, leaf_file, nonce=True))
    assert cert_id.nonce is not None
    assert len(cert_id.nonce) == 16  # what OpenSSL sends


def test_a_signed_request_is_read_and_its_signature_ignored(tmp_path: Path):
    h = hierarchy()
    (leaf_file,) = pki_dir(tmp_path, leaf(h))
    (tmp_path / "signer.key").write_bytes(
        h.responder_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    made = openssl(
        *("ocsp", "-issuer", "issuing.pem", "-cert", leaf_file, "-reqout", "req.der"),
        *("-signer", "responder.pem", "-signkey", "signer.key", "-no_nonce"),
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    der = (tmp_path / "req.der").read_bytes()
    assert (
        ocsp.parse_request(der).serial
        == x509.load_pem_x509_certificate((tmp_path / leaf_file).read_bytes()).serial_number
    )


def _problem(der: bytes) -> Status:
    with pytest.raises(OcspProblem) as caught:
        ocsp.parse_request(der)
    return caught.value.status


def _request_with_padding(total: int) -> bytes:
    """A valid request carrying an unknown non-critical extension, `total` bytes long."""
    der = b""
    padding_size = total - 200
    for _ in range(5):
        padding = x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.2.3.4"), b"\x00" * padding_size
        )
        der = (
            cocsp.OCSPRequestBuilder(extensions=[x509.Extension(padding.oid, False, padding)])
            .add_certificate_by_hash(b"\x01" * 20, b"\x02" * 20, 5, SHA1())
            .build()
            .public_bytes(serialization.Encoding.DER)
        )
        padding_size += total - len(der)
    assert len(der) == total
    return der


def test_bad_requests_are_malformed(tmp_path: Path):
    h = hierarchy()
    leaf_files = pki_dir(tmp_path, leaf(h), leaf(h))
    two = openssl_request(tmp_path, *leaf_files)
    assert _problem(two) is Status.MALFORMED_REQUEST
    one = openssl_request(tmp_path, leaf_files[0])
    assert _problem(b"") is Status.MALFORMED_REQUEST
    assert _problem(random.Random(6960).randbytes(300)) is Status.MALFORMED_REQUEST
    assert _problem(b"\x00" * 10_001) is Status.MALFORMED_REQUEST
    assert _problem(one + b"\x00") is Status.MALFORMED_REQUEST  # trailing bytes
    assert _problem(one[:-1]) is Status.MALFORMED_REQUEST  # truncated
    # The size limit, on either side of it, for otherwise valid requests.
    assert ocsp.parse_request(_request_with_padding(ocsp.MAX_REQUEST_BYTES)).serial == 5
    assert _problem(_request_with_padding(ocsp.MAX_REQUEST_BYTES + 1)) is Status.MALFORMED_REQUEST


def _request_by_hash(name_hash: bytes, key_hash: bytes, serial: int) -> bytes:
    return (
        cocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash, key_hash, serial, SHA1())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )


def _shrink(der: bytes, old: bytes, new: bytes) -> bytes:
    """`der` with `old` replaced by the shorter `new`, and the lengths of the five nested
    SEQUENCEs around it (OCSPRequest, TBSRequest, requestList, Request, CertID) fixed."""
    assert der[:10:2] == b"\x30" * 5 and all(length < 0x80 for length in der[1:10:2])
    shrunk = bytearray(der.replace(old, new, 1))
    for i in (1, 3, 5, 7, 9):
        shrunk[i] -= len(old) - len(new)
    return bytes(shrunk)


def test_odd_cert_ids_are_malformed():
    ok = _request_by_hash(b"\x01" * 20, b"\x02" * 20, 7)
    assert ocsp.parse_request(ok).serial == 7
    # A name hash one byte short of SHA-1's length, in an otherwise good request.
    short = _shrink(ok, b"\x04\x14" + b"\x01" * 20, b"\x04\x13" + b"\x01" * 19)
    assert len(cocsp.load_der_ocsp_request(short).issuer_name_hash) == 19
    assert _problem(short) is Status.MALFORMED_REQUEST
    # Serials no certificate of ekort has: zero, negative, over 159 bits.
    assert ok.endswith(b"\x02\x01\x07")
    for serial_der in (b"\x02\x01\x00", b"\x02\x01\xf9"):
        odd = ok[:-3] + serial_der
        assert cocsp.load_der_ocsp_request(odd).serial_number in (0, -7)
        assert _problem(odd) is Status.MALFORMED_REQUEST
    assert _problem(_request_by_hash(b"\x01" * 20, b"\x02" * 20, 2**159)) is (
        Status.MALFORMED_REQUEST
    )


@pytest.mark.parametrize("digest", ["sha384", "sha512", "md5"])
def test_other_hash_algorithms_are_unauthorized(tmp_path: Path, digest: str):
    (leaf_file,) = pki_dir(tmp_path, leaf(hierarchy()))
    problem = _problem(openssl_request(tmp_path, leaf_file, digest=digest))
    assert problem is Status.UNAUTHORIZED


@pytest.mark.parametrize(
    "status",
    [
        Status.MALFORMED_REQUEST,
        Status.INTERNAL_ERROR,
        Status.TRY_LATER,
        Status.SIG_REQUIRED,
        Status.UNAUTHORIZED,
    ],
)
def test_error_responses_carry_their_status(tmp_path: Path, status: Status):
    der = ocsp.error_response(status)
    assert cocsp.load_der_ocsp_response(der).response_status is status
    assert der == bytes((0x30, 3, 0x0A, 1, status.value))
    (tmp_path / "err.der").write_bytes(der)
    shown = openssl("ocsp", "-respin", "err.der", "-resp_text", "-noverify", cwd=tmp_path)
    assert f"({status.value})" in shown.stdout + shown.stderr


def test_there_is_no_unsigned_success():
    with pytest.raises(ValueError, match="SUCCESSFUL"):
        ocsp.error_response(Status.SUCCESSFUL)


# --- GET ------------------------------------------------------------------------------------


def _request_with_plus_and_slash() -> tuple[bytes, str]:
    for serial in range(1, 10_000):
        der = _request_by_hash(b"\xfb" * 20, b"\xff" * 20, serial)
        text = base64.b64encode(der).decode()
        if "+" in text and "/" in text and text.endswith("="):
            return der, text
    raise AssertionError("no such request")


def test_get_paths_are_decoded():
    der, text = _request_with_plus_and_slash()
    unpadded = text.rstrip("=")
    for path in (
        text,  # as is: '/' and '+' unencoded
        urllib.parse.quote(text, safe=""),  # URL-encoded, as RFC 6960 A.1 asks
        urllib.parse.quote(text, safe="/"),
        unpadded,
        text.replace("+", " "),  # a '+' some server turned into a space
        text.replace("+", "-").replace("/", "_"),  # the URL-safe alphabet
        re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), urllib.parse.quote(text, safe="")),
    ):
        assert ocsp.ocsp_get_path_to_der(path) == der, path
    assert ocsp.parse_request(ocsp.ocsp_get_path_to_der(urllib.parse.quote(text, safe=""))).serial


@pytest.mark.parametrize(
    "path",
    [
        "",
        "=",
        "====",
        "!!!!",
        "MAo=x",  # data after the padding
        "MAoB%",
        "MAo%ZZ",
        "%ff%fe",  # not UTF-8
        "A",  # one character too many for base64
        "MA.o",
        "MA%0Ao=",  # a newline
        "MAo=MAo=",  # padding in the middle
        "A" * 20_000,  # longer than any request can be
        base64.b64encode(b"\x30" * 10_001).decode(),  # decodes to more than the limit
    ],
)
def test_bad_get_paths_are_malformed(path: str):
    with pytest.raises(OcspProblem) as caught:
        ocsp.ocsp_get_path_to_der(path)
    assert caught.value.status is Status.MALFORMED_REQUEST


# --- Responses ------------------------------------------------------------------------------


@pytest.mark.parametrize("digest", ["sha1", "sha256"])
@pytest.mark.parametrize(
    ("status", "reason", "shown"),
    [
        (CertStatus.GOOD, None, "good"),
        (CertStatus.REVOKED, Reason.key_compromise, "revoked"),
        (CertStatus.REVOKED, Reason.certificate_hold, "revoked"),  # not yet activated
        (CertStatus.REVOKED, None, "revoked"),
        (CertStatus.UNKNOWN, None, "unknown"),
    ],
)
def test_openssl_accepts_the_response(
    tmp_path: Path,
    digest: str,
    status: CertStatus,
    reason: x509.ReasonFlags | None,
    shown: str,
):
    (leaf_file,) = pki_dir(tmp_path, leaf(hierarchy()))
    cert_id = ocsp.parse_request(openssl_request(tmp_path, leaf_file, digest=digest))
    response = respond(cert_id, status, reason)
    out, err = check_with_openssl(
        tmp_path, response, leaf_file, "-CAfile", "chain.pem", "-no_nonce", digest=digest
    )
    assert "Response verify OK" in err, err
    assert "WARNING" not in out + err
    assert f"{leaf_file}: {shown}\n" in out
    if reason is not None:
        expected = {
            Reason.key_compromise: "keyCompromise",
            Reason.certificate_hold: "certificateHold",
        }
        assert f"Reason: {expected[reason]}" in out
    elif status is CertStatus.REVOKED:
        assert "Reason:" not in out
        assert "Revocation Time:" in out
    # Trusting the responder certificate directly works as well.
    out, err = check_with_openssl(
        tmp_path, response, leaf_file, "-VAfile", "responder.pem", "-no_nonce", digest=digest
    )
    assert "Response verify OK" in err
    assert f"{leaf_file}: {shown}\n" in out


def test_the_nonce_is_not_echoed(tmp_path: Path):
    """A client that sent a nonce (openssl without -no_nonce) gets a valid response without
    one, and says so."""
    (leaf_file,) = pki_dir(tmp_path, leaf(hierarchy()))
    cert_id = ocsp.parse_request(openssl_request(tmp_path, leaf_file, nonce=True))
    response = respond(cert_id, CertStatus.GOOD)
    assert not cocsp.load_der_ocsp_response(response).extensions
    out, err = check_with_openssl(tmp_path, response, leaf_file, "-CAfile", "chain.pem")
    assert "WARNING: no nonce in response" in out + err
    assert "Response verify OK" in err
    assert f"{leaf_file}: good" in out


def test_a_response_answers_only_its_own_hash_algorithm(tmp_path: Path):
    (leaf_file,) = pki_dir(tmp_path, leaf(hierarchy()))
    cert_id = ocsp.parse_request(openssl_request(tmp_path, leaf_file))
    response = respond(cert_id, CertStatus.GOOD)  # a SHA-1 CertID
    out, _ = check_with_openssl(
        tmp_path, response, leaf_file, "-CAfile", "chain.pem", "-no_nonce", digest="sha256"
    )
    assert "No Status found" in out


@pytest.mark.parametrize(
    ("status", "revoked_at", "reason"),
    [
        (CertStatus.GOOD, None, None),
        (CertStatus.UNKNOWN, None, None),
        (CertStatus.REVOKED, dt.datetime(2025, 12, 24, 15, 0, 1, tzinfo=UTC), None),
        (CertStatus.REVOKED, dt.datetime(2025, 12, 24, 15, 0, 1, tzinfo=UTC), Reason.superseded),
        (CertStatus.REVOKED, dt.datetime(2025, 12, 24, 15, 0, 1, tzinfo=UTC), Reason.unspecified),
        (CertStatus.REVOKED, dt.datetime(1960, 1, 1, tzinfo=UTC), Reason.certificate_hold),
        (  # another time zone, and a fraction of a second (dropped)
            CertStatus.REVOKED,
            dt.datetime(2050, 1, 1, 1, 30, 15, 999_999, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            Reason.key_compromise,
        ),
    ],
)
@pytest.mark.parametrize(
    ("digest", "hash_class"), [("sha1", hashes.SHA1), ("sha256", hashes.SHA256)]
)
def test_the_response_carries_what_it_was_given(
    status: CertStatus,
    revoked_at: dt.datetime | None,
    reason: x509.ReasonFlags | None,
    digest: str,
    hash_class: type[hashes.HashAlgorithm],
):
    h = hierarchy()
    this_update = dt.datetime(2026, 5, 6, 7, 8, 9, 123_456, tzinfo=UTC)
    next_update = this_update + dt.timedelta(hours=12)
    context = ocsp.make_responder_context(h.issuing, h.responder, h.responder_signer)
    serial = 0x8000_0000_0000_0000_0000_0000_0000_0001
    before = now()
    der = ocsp.build_response(
        context=context,
        serial=serial,
        status=status,
        revoked_at=revoked_at,
        reason=reason,
        this_update=this_update,
        next_update=next_update,
        hash_algorithm=digest,
    )
    after = dt.datetime.now(UTC)
    response = cocsp.load_der_ocsp_response(der)
    assert response.public_bytes(serialization.Encoding.DER) == der
    assert response.response_status is Status.SUCCESSFUL
    assert before <= response.produced_at_utc <= after  # the time of signing
    assert response.certificates == [h.responder]
    assert response.signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA256
    public_key = h.responder.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
    (single,) = response.responses
    assert isinstance(single.hash_algorithm, hash_class)
    assert (single.issuer_name_hash.hex(), single.issuer_key_hash.hex()) == ocsp.issuer_hashes(
        h.issuing, digest
    )
    assert single.serial_number == serial
    assert single.certificate_status is cocsp.OCSPCertStatus[status.name]
    assert single.this_update_utc == this_update.replace(microsecond=0)
    assert single.next_update_utc == next_update.replace(microsecond=0)
    if revoked_at is None:
        assert single.revocation_time_utc is None
    else:
        assert single.revocation_time_utc == revoked_at.astimezone(UTC).replace(microsecond=0)
    # unspecified is left out, like None (as in CRLs).
    assert single.revocation_reason is (None if reason is Reason.unspecified else reason)
    assert len(list(response.extensions)) == 0  # no nonce
    assert len(list(response.single_extensions)) == 0


def test_openssl_shows_the_fields(tmp_path: Path):
    """`openssl ocsp -resp_text` reads the response as it was meant: byKey ResponderID,
    GeneralizedTimes, the reason, the responder certificate."""
    h = hierarchy()
    this_update = dt.datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    der = ocsp.build_response(
        issuer_cert=h.issuing,
        responder_cert=h.responder,
        responder_key=h.responder_signer,
        serial=0xABCDEF,
        status=CertStatus.REVOKED,
        revoked_at=dt.datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC),
        reason=Reason.key_compromise,
        this_update=this_update,
        next_update=this_update + dt.timedelta(hours=8),
    )
    (tmp_path / "resp.der").write_bytes(der)
    shown = openssl("ocsp", "-respin", "resp.der", "-resp_text", "-noverify", cwd=tmp_path)
    text = shown.stdout
    assert "OCSP Response Status: successful (0x0)" in text
    assert "Response Type: Basic OCSP Response" in text
    key_hash = ocsp.issuer_hashes(h.responder)[1].upper()
    assert f"Responder Id: {key_hash}" in text
    assert "Hash Algorithm: sha1" in text
    assert "Serial Number: ABCDEF" in text
    assert "Cert Status: revoked" in text
    assert "Revocation Time: May  1 12:00:00 2026 GMT" in text
    assert "Revocation Reason: keyCompromise (0x1)" in text
    assert "This Update: May  6 07:08:09 2026 GMT" in text
    assert "Next Update: May  6 15:08:09 2026 GMT" in text
    assert "Signature Algorithm: ecdsa-with-SHA256" in text
    assert h.responder.public_bytes(serialization.Encoding.PEM).decode() in text


def test_what_the_response_says():
    h = hierarchy()
    this_update = now()
    revoked_at = this_update - dt.timedelta(days=3)
    der = ocsp.build_response(
        issuer_cert=h.issuing,
        responder_cert=h.responder,
        responder_key=h.responder_signer,
        serial=12345,
        status=CertStatus.REVOKED,
        revoked_at=revoked_at,
        reason=Reason.certificate_hold,
        this_update=this_update,
        next_update=this_update + dt.timedelta(hours=4),
    )
    response = cocsp.load_der_ocsp_response(der)
    assert response.response_status is Status.SUCCESSFUL
    point = h.responder.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert response.responder_key_hash == hashlib.sha1(point).digest()  # noqa: S324
    assert response.responder_name is None
    assert response.certificates == [h.responder]
    assert this_update <= response.produced_at_utc <= dt.datetime.now(UTC)
    assert len(list(response.extensions)) == 0  # no nonce
    (single,) = response.responses
    assert single.serial_number == 12345
    assert isinstance(single.hash_algorithm, hashes.SHA1)
    assert single.certificate_status is cocsp.OCSPCertStatus.REVOKED
    assert single.revocation_time_utc == revoked_at
    assert single.revocation_reason is Reason.certificate_hold
    assert single.this_update_utc == this_update
    assert single.next_update_utc == this_update + dt.timedelta(hours=4)
    assert (single.issuer_name_hash.hex(), single.issuer_key_hash.hex()) == ocsp.issuer_hashes(
        h.issuing
    )
    public_key = h.responder.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))


def _fields(der: bytes) -> tuple[object, ...]:
    """What a response says, but producedAt (the clock) and the signature (random k)."""
    response = cocsp.load_der_ocsp_response(der)
    (single,) = response.responses
    return (
        response.responder_key_hash,
        response.certificates,
        response.signature_algorithm_oid,
        single.hash_algorithm.name,
        single.issuer_name_hash,
        single.issuer_key_hash,
        single.serial_number,
        single.certificate_status,
        single.revocation_time_utc,
        single.revocation_reason,
        single.this_update_utc,
        single.next_update_utc,
    )


def test_the_keyword_and_context_ways_agree():
    h = hierarchy()
    this_update = now()
    common = {
        "serial": 99,
        "status": CertStatus.GOOD,
        "revoked_at": None,
        "reason": None,
        "this_update": this_update,
        "next_update": this_update + dt.timedelta(hours=1),
    }
    by_keywords = ocsp.build_response(
        issuer_cert=h.issuing, responder_cert=h.responder, responder_key=h.responder_key, **common
    )
    context = ocsp.make_responder_context(h.issuing, h.responder, h.responder_key)
    by_context = ocsp.build_response(context=context, **common)
    assert _fields(by_keywords) == _fields(by_context)
    # A plain string status is taken too.
    assert cocsp.load_der_ocsp_response(
        ocsp.build_response(context=context, **{**common, "status": "unknown"})
    ).certificate_status is (cocsp.OCSPCertStatus.UNKNOWN)


@pytest.mark.parametrize(
    ("key_kind", "expected"),
    [("p384", x509.SignatureAlgorithmOID.ECDSA_WITH_SHA384), ("rsa", None)],
)
def test_the_signature_hash_follows_the_responder_key(
    tmp_path: Path, key_kind: str, expected: x509.ObjectIdentifier | None
):
    """A P-384 responder signs with SHA-384, an RSA one with sha256WithRSAEncryption; the
    CA answering for itself (no delegated responder) is accepted by OpenSSL too."""
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if key_kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        expected = x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    else:
        key = ec.generate_private_key(ec.SECP384R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Self-answering CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now() - dt.timedelta(days=1))
        .not_valid_after(now() + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    this_update = now() - dt.timedelta(minutes=1)
    der = ocsp.build_response(
        issuer_cert=ca,
        responder_cert=ca,
        responder_key=signing_only(key),
        serial=ca.serial_number,
        status=CertStatus.GOOD,
        revoked_at=None,
        reason=None,
        this_update=this_update,
        next_update=this_update + dt.timedelta(hours=1),
    )
    assert cocsp.load_der_ocsp_response(der).signature_algorithm_oid == expected
    write_cert(ca, tmp_path / "ca.pem")
    (tmp_path / "resp.der").write_bytes(der)
    checked = openssl(
        *("ocsp", "-respin", "resp.der", "-issuer", "ca.pem", "-CAfile", "ca.pem"),
        *("-no_nonce", "-cert", "ca.pem"),
        cwd=tmp_path,
    )
    assert "Response verify OK" in checked.stderr, checked.stderr
    assert "ca.pem: good" in checked.stdout


def test_bad_response_arguments_are_refused():
    h = hierarchy()
    context = ocsp.make_responder_context(h.issuing, h.responder, h.responder_signer)
    this_update = now()
    good = {
        "context": context,
        "serial": 5,
        "status": CertStatus.GOOD,
        "revoked_at": None,
        "reason": None,
        "this_update": this_update,
        "next_update": this_update + dt.timedelta(hours=1),
    }
    ocsp.build_response(**good)
    cases = [
        ({"status": CertStatus.REVOKED}, "needs revoked_at"),
        ({"revoked_at": this_update}, "go with a revoked status"),
        ({"reason": Reason.key_compromise}, "go with a revoked status"),
        (
            {
                "status": CertStatus.REVOKED,
                "revoked_at": this_update,
                "reason": Reason.remove_from_crl,
            },
            "reason",
        ),
        ({"hash_algorithm": "sha384"}, "sha1 or sha256"),
        ({"serial": 0}, "positive"),
        ({"serial": 2**159}, "159 bits"),
        ({"this_update": dt.datetime(2026, 1, 1)}, "timezone-aware"),
        ({"next_update": dt.datetime(2099, 1, 1)}, "timezone-aware"),
        ({"status": CertStatus.REVOKED, "revoked_at": dt.datetime(2026, 1, 1)}, "timezone-aware"),
        ({"status": CertStatus.REVOKED, "revoked_at": dt.datetime(1949, 1, 1, tzinfo=UTC)}, "1950"),
        ({"this_update": dt.datetime(1949, 12, 31, 23, 59, 59, tzinfo=UTC)}, "1950"),
        ({"next_update": this_update}, "after"),
        ({"status": "suspended"}, "suspended"),
        # producedAt is the time of signing: cryptography's builder sets it.
        ({"produced_at": this_update}, "producedAt"),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            ocsp.build_response(**{**good, **change})
    with pytest.raises(TypeError, match="context"):
        ocsp.build_response(**{**good, "context": None, "issuer_cert": h.issuing})
    with pytest.raises(TypeError, match="not both"):
        ocsp.build_response(**{**good, "responder_cert": h.responder})


def test_the_responder_must_be_entitled_to_answer():
    h = hierarchy()
    certificate = leaf(h)
    with pytest.raises(ValueError, match="not issued by the CA"):
        ocsp.make_responder_context(h.root, h.responder, h.responder_key)
    with pytest.raises(ValueError, match="OCSPSigning"):
        # A certificate of the CA, but not one for signing OCSP responses.
        ocsp.make_responder_context(h.issuing, certificate, h.responder_key)
    with pytest.raises(ValueError, match="does not belong"):
        ocsp.make_responder_context(h.issuing, h.responder, signing_only(h.issuing_key))
    # The CA may also answer for itself.
    context = ocsp.make_responder_context(h.issuing, h.issuing, h.issuing_key)
    assert context.responder_cert == h.issuing
