"""The OCSP responder (`ekort.responder`), driven in-process through ASGI by hand.

A real CA hierarchy (encrypted key files in a temporary directory), certificates stored the
way issuance stores them, responses signed by `refresh_responses`; the answers are parsed
with `cryptography` and their signatures checked with the responder certificate's key.

The tests commit (transaction=True): the responder signs and reads in threads of its own,
which must see what the test wrote, as the real process sees what ekort commits.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import itertools
import json
import logging
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction

from ekort.domain.timekeeping import STOCKHOLM
from ekort.pki.certificates import Holder, Profile, card_certificate
from ekort.pki.ocsp import MAX_REQUEST_BYTES
from ekort.responder import app as responder_app
from ekort.responder import asgi
from ekort.responder.app import Responder
from ekort.responder.signing import OnDemandSigner
from ekort.responder.store import ResponseStore
from ekort.services.ca import backends
from ekort.services.ca.authority import (
    Hierarchy,
    certificate_of,
    endpoints,
    init_hierarchy,
    signing_key_of,
    slug,
)
from ekort.services.ca.status import note_issued_on_hold, refresh_responses
from ekort.store.models import Card, CardOrder, Certificate, CertificateAuthority
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

Status = Certificate.Status
RS = ocsp.OCSPResponseStatus
_serials = itertools.count(0x5E_0000_0000_0001)
SHA1 = hashes.SHA1()  # noqa: S303 (what RFC 6960 CertIDs use, and what responses are stored for)


# --- the world: a hierarchy, a card and its certificates ---------------------------------


def make_card(now: datetime) -> Card:
    person = factories.person(given="Erik", family="Eriksson")
    orderer = User.objects.create_user(username=f"chef{person.pk}", password=None)
    order = CardOrder.objects.create(
        person=person, card_type="photo", ordered_by=orderer, ordered_at=now
    )
    return Card.objects.create(
        order=order, person=person, card_type="photo", number=f"97522100{person.pk:08d}"
    )


def issue(
    card: Card,
    ca: CertificateAuthority,
    now: datetime,
    status: str,
    *,
    reason: str = "",
    serial: int | None = None,
) -> Certificate:
    """A card certificate signed by `ca`, stored as issuance stores it."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    cert = card_certificate(
        profile=Profile.AUTHENTICATION,
        holder=Holder("Erik", "Eriksson", f"SE2321000198-{card.pk}", card.number or "", "Region"),
        public=public,
        issuer=certificate_of(ca),
        issuer_key=signing_key_of(ca),
        now=now,
        not_after=now + timedelta(days=700),
        endpoints=endpoints(ca),
        policy_oid="1.2.752.74.8.3",
        serial=serial if serial is not None else next(_serials),
    )
    return Certificate.objects.create(
        card=card,
        issuer=ca,
        profile=Profile.AUTHENTICATION.value,
        serial=format(cert.serial_number, "x"),
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        der=cert.public_bytes(serialization.Encoding.DER),
        status=status,
        status_changed_at=now,
        revoked_at=now if status == Status.REVOKED else None,
        revocation_reason=reason,
    )


@dataclass
class World:
    now: datetime
    hierarchy: Hierarchy
    ca: CertificateAuthority  # the LoA3 issuing CA
    good: Certificate
    revoked: Certificate
    on_hold: Certificate
    other_level: Certificate  # issued by the LoA2 CA

    def x509(self, record: Certificate) -> x509.Certificate:
        return x509.load_der_x509_certificate(bytes(record.der))

    def issuer_of(self, record: Certificate) -> x509.Certificate:
        return certificate_of(CertificateAuthority.objects.get(pk=record.issuer_id))

    def responder_cert(self, level: str = "3") -> x509.Certificate:
        return certificate_of(self.hierarchy.responders[level])


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> Iterator[World]:
    settings.EKORT_KEY_DIR = tmp_path / "keys"
    backends.reset()
    now = datetime.now(STOCKHOLM).replace(microsecond=0)
    hierarchy = init_hierarchy(now=now)
    card = make_card(now)
    ca, other = hierarchy.issuing["3"], hierarchy.issuing["2"]
    w = World(
        now=now,
        hierarchy=hierarchy,
        ca=ca,
        good=issue(card, ca, now, Status.VALID),
        revoked=issue(card, ca, now, Status.REVOKED, reason="key_compromise"),
        on_hold=issue(card, ca, now, Status.ON_HOLD),
        other_level=issue(card, other, now, Status.VALID),
    )
    ids = [w.good.pk, w.revoked.pk, w.on_hold.pk, w.other_level.pk]
    assert refresh_responses(ids, now) == 4
    yield w
    backends.reset()


@pytest.fixture
def app(world: World) -> Iterator[Responder]:
    store = ResponseStore()
    assert store.load() == 4
    responder = Responder(store)
    yield responder
    responder.shutdown()


# --- a tiny ASGI client --------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    messages: list[dict[str, Any]] = field(default_factory=list)
    unread: int = 0  # request body messages the app did not receive

    def ocsp(self) -> ocsp.OCSPResponse:
        assert self.status == 200
        assert self.headers["content-type"] == "application/ocsp-response"
        assert int(self.headers["content-length"]) == len(self.body)
        return ocsp.load_der_ocsp_response(self.body)


def call(
    app: Any,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: Sequence[tuple[str, str]] = (),
    chunk: int | None = None,
) -> Reply:
    """One HTTP request through the ASGI app. `path` is as on the wire (percent-encoded);
    the scope gets it decoded, as servers give it. `chunk` splits the body into messages."""
    size = chunk or max(len(body), 1)
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    incoming = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    raw_path = path.encode("ascii")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": urllib.parse.unquote(path),
        "raw_path": raw_path,
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # a client that keeps the connection open
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=60))
    start, *bodies = sent
    assert start["type"] == "http.response.start"
    return Reply(
        status=start["status"],
        headers={k.decode(): v.decode() for k, v in start["headers"]},
        body=b"".join(m.get("body", b"") for m in bodies),
        messages=sent,
        unread=len(incoming),
    )


def request_der(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    algorithm: hashes.HashAlgorithm | None = None,
    nonce: bytes | None = None,
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or SHA1)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def request_by_serial(
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    serial: int,
    algorithm: hashes.HashAlgorithm | None = None,
) -> bytes:
    """A request about another serial of `leaf`'s issuer (one it may never have used)."""
    algorithm = algorithm or SHA1
    template = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, algorithm).build()
    builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        template.issuer_name_hash, template.issuer_key_hash, serial, algorithm
    )
    return builder.build().public_bytes(serialization.Encoding.DER)


def post(app: Any, der: bytes, path: str = "/ocsp") -> ocsp.OCSPResponse:
    reply = call(app, "POST", path, der, headers=[("content-type", "application/ocsp-request")])
    assert reply.headers["cache-control"] == "no-store"
    return reply.ocsp()


def verified(response: ocsp.OCSPResponse, responder: x509.Certificate) -> ocsp.OCSPResponse:
    """`response` after checking it succeeded and is signed by `responder`'s key."""
    assert response.response_status == RS.SUCCESSFUL
    key = responder.public_key()
    algorithm = response.signature_hash_algorithm
    assert algorithm is not None
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(algorithm))
    else:
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(), algorithm)
    assert response.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(key).digest
    return response


def error_status(reply: Reply) -> RS:
    return reply.ocsp().response_status


# --- answers ----------------------------------------------------------------------------


def test_post_answers_good_revoked_and_on_hold_from_the_stored_responses(world, app):
    responder = world.responder_cert()
    issuer = certificate_of(world.ca)

    good = verified(post(app, request_der(world.x509(world.good), issuer)), responder)
    assert good.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert good.serial_number == world.x509(world.good).serial_number
    assert good.hash_algorithm.name == "sha1"
    assert good.next_update_utc is not None
    assert good.this_update_utc == world.now

    revoked = verified(post(app, request_der(world.x509(world.revoked), issuer)), responder)
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert revoked.serial_number == world.x509(world.revoked).serial_number
    assert revoked.revocation_reason == x509.ReasonFlags.key_compromise
    assert revoked.revocation_time_utc == world.now

    # Issued but not activated: revoked with certificateHold until activation (R8).
    held = verified(post(app, request_der(world.x509(world.on_hold), issuer)), responder)
    assert held.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert held.revocation_reason == x509.ReasonFlags.certificate_hold

    # The LoA2 CA's certificate, answered by the LoA2 responder.
    other = post(
        app, request_der(world.x509(world.other_level), world.issuer_of(world.other_level))
    )
    assert verified(other, world.responder_cert("2")).certificate_status == ocsp.OCSPCertStatus.GOOD


def test_the_stored_bytes_are_served_as_they_are_and_without_the_nonce(world, app):
    der = request_der(world.x509(world.good), certificate_of(world.ca), nonce=b"\x01" * 16)
    reply = call(app, "POST", "/ocsp", der)
    stored = app.store.responses[
        (world.ca.name_sha1, world.ca.key_sha1, int(world.good.serial, 16))
    ]
    assert reply.body == stored.der
    with pytest.raises(x509.ExtensionNotFound):
        reply.ocsp().extensions.get_extension_for_class(x509.OCSPNonce)


def test_post_to_the_url_in_the_certificates_aia(world, app):
    aia = world.x509(world.good).extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    url = next(
        d.access_location.value
        for d in aia.value
        if d.access_method == x509.AuthorityInformationAccessOID.OCSP
    )
    path = urllib.parse.urlsplit(url).path
    assert path == f"/ocsp/{slug(world.ca)}"
    response = post(app, request_der(world.x509(world.revoked), certificate_of(world.ca)), path)
    assert verified(response, world.responder_cert()).certificate_status == (
        ocsp.OCSPCertStatus.REVOKED
    )


def _request_with_slash(world: World) -> tuple[bytes, str]:
    """A request whose base64 holds a '/' (the nonce varies until it does)."""
    for n in range(1000):
        der = request_der(
            world.x509(world.good), certificate_of(world.ca), nonce=n.to_bytes(16, "big")
        )
        text = base64.b64encode(der).decode()
        if "/" in text and "+" in text:
            return der, text
    raise AssertionError("no nonce gave a base64 with '/' and '+'")


@pytest.mark.parametrize("with_slug", [False, True])
@pytest.mark.parametrize("encoded", [False, True])
def test_get_with_base64_in_the_path(world, app, with_slug, encoded):
    _, text = _request_with_slash(world)
    segment = urllib.parse.quote(text, safe="") if encoded else text
    prefix = f"/ocsp/{slug(world.ca)}/" if with_slug else "/ocsp/"
    reply = call(app, "GET", prefix + segment)
    response = verified(reply.ocsp(), world.responder_cert())
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == world.x509(world.good).serial_number
    # RFC 5019 6.2: cacheable until nextUpdate, here at most an hour.
    max_age, *rest = reply.headers["cache-control"].split(", ")
    assert rest == ["public", "no-transform", "must-revalidate"]
    seconds = int(max_age.removeprefix("max-age="))
    assert 50 <= seconds <= 60
    assert reply.headers["last-modified"].endswith("GMT")
    assert reply.headers["expires"].endswith("GMT")
    assert reply.headers["etag"].startswith('"')


def test_head_and_get_of_a_stored_response_agree(world, app):
    _, text = _request_with_slash(world)
    get = call(app, "GET", "/ocsp/" + text)
    head = call(app, "HEAD", "/ocsp/" + text)
    assert head.status == 200
    assert head.body == b""
    assert head.headers["content-length"] == str(len(get.body))


def test_an_unknown_serial_gets_unknown_signed_on_demand_and_cached(world, app):
    leaf, issuer = world.x509(world.good), certificate_of(world.ca)
    der = request_by_serial(leaf, issuer, 0x1234567890ABCDEF)
    first = call(app, "POST", "/ocsp", der)
    response = verified(first.ocsp(), world.responder_cert())
    assert response.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    assert response.serial_number == 0x1234567890ABCDEF
    assert response.next_update_utc is not None
    assert response.next_update_utc - response.this_update_utc <= timedelta(hours=1)
    assert app.signer.cached() == 1
    again = call(app, "POST", "/ocsp", der)
    assert again.body == first.body  # from the cache, not signed again
    assert app.signer.cached() == 1


def test_the_cache_of_signed_answers_is_bounded(world):
    store = ResponseStore()
    store.load()
    responder = Responder(store, signer=OnDemandSigner(store, cache_size=3))
    try:
        leaf, issuer = world.x509(world.good), certificate_of(world.ca)
        for serial in range(1000, 1010):
            reply = call(responder, "POST", "/ocsp", request_by_serial(leaf, issuer, serial))
            assert reply.ocsp().certificate_status == ocsp.OCSPCertStatus.UNKNOWN
        assert responder.signer.cached() == 3
    finally:
        responder.shutdown()


def test_too_many_pending_signatures_get_try_later(world):
    store = ResponseStore()
    store.load()
    responder = Responder(store, signer=OnDemandSigner(store, max_pending=0))
    try:
        der = request_by_serial(world.x509(world.good), certificate_of(world.ca), 4242)
        assert error_status(call(responder, "POST", "/ocsp", der)) == RS.TRY_LATER
        # Stored responses need no signature and are still served.
        good = request_der(world.x509(world.good), certificate_of(world.ca))
        assert call(responder, "POST", "/ocsp", good).ocsp().response_status == RS.SUCCESSFUL
    finally:
        responder.shutdown()


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("good", ocsp.OCSPCertStatus.GOOD),
        ("revoked", ocsp.OCSPCertStatus.REVOKED),
        ("on_hold", ocsp.OCSPCertStatus.REVOKED),
    ],
)
def test_sha256_cert_ids_are_answered_from_the_current_status(world, app, which, expected):
    record = getattr(world, which)
    der = request_der(world.x509(record), certificate_of(world.ca), hashes.SHA256())
    response = verified(post(app, der), world.responder_cert())
    assert response.hash_algorithm.name == "sha256"
    assert response.certificate_status == expected
    assert response.serial_number == world.x509(record).serial_number
    request = ocsp.load_der_ocsp_request(der)
    assert response.issuer_key_hash == request.issuer_key_hash
    assert response.issuer_name_hash == request.issuer_name_hash


def test_sha256_for_a_serial_never_issued_is_unknown(world, app):
    der = request_by_serial(world.x509(world.good), certificate_of(world.ca), 777, hashes.SHA256())
    response = verified(post(app, der), world.responder_cert())
    assert response.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    assert response.hash_algorithm.name == "sha256"


def _foreign_ca() -> tuple[x509.Certificate, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Someone else's CA")])
    now = datetime.now(STOCKHOLM)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))
        .issuer_name(name)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return leaf, ca


def test_issuers_without_a_responder_here_are_unauthorized(world, app):
    leaf, foreign = _foreign_ca()
    for algorithm in (SHA1, hashes.SHA256()):
        assert error_status(call(app, "POST", "/ocsp", request_der(leaf, foreign, algorithm))) == (
            RS.UNAUTHORIZED
        )
    # The root CA has no OCSP signer: asking about an issuing CA's certificate is unauthorized.
    root = certificate_of(world.hierarchy.root)
    issuing = certificate_of(world.ca)
    reply = call(app, "POST", f"/ocsp/{slug(world.hierarchy.root)}", request_der(issuing, root))
    assert error_status(reply) == RS.UNAUTHORIZED
    # A CertID hashed with another algorithm names no issuer this responder serves.
    der = request_der(world.x509(world.good), issuing, hashes.SHA384())
    assert error_status(call(app, "POST", "/ocsp", der)) == RS.UNAUTHORIZED


@pytest.mark.parametrize(
    ("body", "chunk", "headers"),
    [
        (b"", None, []),
        (b"this is not DER", None, []),
        (b"\x30\x03\x02\x01\x01", None, []),
        (b"\x30" * 10_000_001, 65536, []),  # 10 MB, streamed, without a length
        (b"\x30" * 10_000_001, 65536, [("content-length", "10000001")]),
        (b"\x30" * (MAX_REQUEST_BYTES + 1), None, []),  # just over, in one message
    ],
    ids=["empty", "garbage", "wrong-structure", "10MB-streamed", "10MB-declared", "limit+1"],
)
def test_malformed_bodies_get_malformed_request(world, app, body, chunk, headers):
    reply = call(app, "POST", "/ocsp", body, chunk=chunk, headers=headers)
    assert error_status(reply) == RS.MALFORMED_REQUEST
    assert reply.headers["cache-control"] == "no-store"


def test_a_body_larger_than_the_limit_is_not_read_to_its_end(world, app):
    reply = call(app, "POST", "/ocsp", b"\x30" * 10_000_001, chunk=65536)
    assert error_status(reply) == RS.MALFORMED_REQUEST
    assert reply.unread > 100  # it stopped soon after MAX_REQUEST_BYTES
    declared = call(
        app, "POST", "/ocsp", b"\x30" * 100_000, chunk=1000, headers=[("content-length", "100000")]
    )
    assert error_status(declared) == RS.MALFORMED_REQUEST
    assert declared.unread == 100  # not one message read: the length said enough


@pytest.mark.parametrize(
    "path",
    ["/ocsp/!!!notbase64!!!", "/ocsp/QUJD", "/ocsp/%FF%FE", "/ocsp/" + "A" * 50_000],
    ids=["not-base64", "not-ocsp", "not-utf8", "too-long"],
)
def test_malformed_get_requests(world, app, path):
    assert error_status(call(app, "GET", path)) == RS.MALFORMED_REQUEST


def test_routes_other_than_ocsp(world, app):
    health = call(app, "GET", "/health")
    assert health.status == 200
    assert health.headers["content-type"] == "application/json"
    said = json.loads(health.body)
    assert (said["status"], said["database"], said["responses"]) == ("ok", "up", 4)
    assert "answering_from" not in said
    assert call(app, "HEAD", "/health").body == b""
    assert call(app, "POST", "/health").status == 405
    assert call(app, "GET", "/ready").status == 200
    assert call(app, "POST", "/metrics").status == 405
    for path in ["/", "/ocspx", "/favicon.ico", "/pki/crl/x.crl"]:
        reply = call(app, "GET", path)
        assert (reply.status, reply.body) == (404, b"not found\n")
    assert call(app, "POST", "/ocsp/no-such-ca", b"x").status == 404
    assert call(app, "POST", f"/ocsp/{slug(world.ca)}/extra", b"x").status == 404
    put = call(app, "PUT", "/ocsp", b"x")
    assert put.status == 405
    assert "POST" in put.headers["allow"]
    assert call(app, "GET", "/ocsp").status == 405
    assert call(app, "GET", f"/ocsp/{slug(world.ca)}").status == 405


def test_an_unexpected_failure_is_internal_error_and_logged(world, app, monkeypatch, caplog):
    def broken(der: bytes) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(responder_app.ocsp, "parse_request", broken)
    with caplog.at_level(logging.ERROR, logger="ekort.responder"):
        reply = call(app, "POST", "/ocsp", b"\x30\x00")
    assert error_status(reply) == RS.INTERNAL_ERROR
    assert b"secret" not in reply.body
    assert b"Traceback" not in reply.body
    assert "secret detail" in caplog.text


# --- health, readiness and metrics ----------------------------------------------------------


def metric(app: Responder, name: str, **labels: str) -> float | None:
    """One sample of the responder's /metrics, as Prometheus would read it."""
    from prometheus_client.parser import text_string_to_metric_families

    reply = call(app, "GET", "/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def test_answers_are_counted_by_status_and_requests_by_route(world, app):
    issuer = certificate_of(world.ca)
    for record in (world.good, world.good, world.revoked):
        post(app, request_der(world.x509(record), issuer))
    post(app, request_by_serial(world.x509(world.good), issuer, 0x77777))  # never issued
    call(app, "POST", "/ocsp", b"not DER")
    call(app, "GET", "/no-such-page")
    assert metric(app, "ekort_ocsp_answers_total", status="good") == 2
    assert metric(app, "ekort_ocsp_answers_total", status="revoked") == 1
    assert metric(app, "ekort_ocsp_answers_total", status="unknown") == 1
    assert metric(app, "ekort_ocsp_answers_total", status="malformed_request") == 1
    requests = "ekort_ocsp_http_requests_total"
    assert metric(app, requests, route="/ocsp", method="POST", status="200") == 5
    assert metric(app, requests, route="other", method="GET", status="404") == 1
    # The path of a GET carries the request: it never becomes a label.
    call(app, "GET", "/ocsp/" + urllib.parse.quote(base64.b64encode(b"x" * 40).decode(), safe=""))
    reply = call(app, "GET", "/metrics").body.decode()
    assert "eHh4" not in reply
    latency = "ekort_ocsp_http_request_duration_seconds_count"
    assert metric(app, latency, route="/ocsp") == 6
    assert metric(app, "ekort_ocsp_responses_held") == 4
    assert metric(app, "ekort_ocsp_database_up") == 1
    assert metric(app, "ekort_ocsp_seconds_since_poll") < 60
    age = metric(app, "ekort_ocsp_newest_status_age_seconds")
    assert age is not None and 0 <= age < 600
    assert metric(app, "process_cpu_seconds_total") is not None


def test_the_status_of_a_stored_response_is_read_from_its_bytes(world, app):
    """`status_of` finds the certStatus without parsing: the same as cryptography's parse."""
    from ekort.responder.store import status_of

    names = {"GOOD": "good", "REVOKED": "revoked", "UNKNOWN": "unknown"}
    seen = set()
    for key, stored in app.store.responses.items():
        parsed = ocsp.load_der_ocsp_response(stored.der).certificate_status.name
        assert stored.status == names[parsed]
        assert status_of(stored.der, bytes.fromhex(key[1])) == stored.status
        seen.add(stored.status)
    assert seen == {"good", "revoked"}
    assert status_of(b"\x30\x00", b"\x01" * 20) == "unknown"


def test_a_database_that_stops_answering_is_said_in_health_and_metrics(world, app, monkeypatch):
    """The store keeps what it holds and answers from memory; /health and /metrics say the
    database is down; the next poll that works catches up."""
    issuer = certificate_of(world.ca)
    der = request_der(world.x509(world.good), issuer)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the replica is down")

    monkeypatch.setattr(app.store, "_load_since", down)
    _revoke(world.good, world.now)
    refresh_responses([world.good.pk], world.now)
    with pytest.raises(ConnectionError):
        app.store.poll()
    app.store.database_up = False  # what the poll thread sets when a poll fails
    assert post(app, der).certificate_status == ocsp.OCSPCertStatus.GOOD  # from memory
    said = json.loads(call(app, "GET", "/health").body)
    assert (said["status"], said["database"], said["answering_from"]) == ("ok", "down", "memory")
    assert call(app, "GET", "/ready").status == 200  # it can still serve
    assert metric(app, "ekort_ocsp_database_up") == 0
    monkeypatch.undo()
    app.store.poll()
    assert post(app, der).certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert metric(app, "ekort_ocsp_database_up") == 1


def test_without_the_database_an_answer_signed_before_is_given_else_try_later(
    world, app, monkeypatch
):
    """An answer signed on demand needs the database; while it does not answer (a replica
    stopped), what was signed before is given while it is valid, and tryLater otherwise, never
    internalError."""
    from django.db import OperationalError

    from ekort.responder import signing

    issuer = certificate_of(world.ca)
    asked = request_by_serial(world.x509(world.good), issuer, 0xDEAD01)
    first = call(app, "POST", "/ocsp", asked)
    assert first.ocsp().certificate_status == ocsp.OCSPCertStatus.UNKNOWN

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(signing, "sign_current", down)
    app.store.revisions[world.ca.pk] += 1  # a status changed since: the cached answer is old
    assert call(app, "POST", "/ocsp", asked).body == first.body
    never = request_by_serial(world.x509(world.good), issuer, 0xDEAD02)
    assert error_status(call(app, "POST", "/ocsp", never)) == RS.TRY_LATER
    monkeypatch.undo()
    assert post(app, never).certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def test_not_ready_before_the_responses_are_loaded(world):
    responder = Responder(ResponseStore())
    try:
        ready = call(responder, "GET", "/ready")
        assert ready.status == 503
        assert json.loads(ready.body)["status"] == "loading"
        assert call(responder, "GET", "/health").status == 200  # alive all the same
    finally:
        responder.shutdown()


# --- keeping up with the database ---------------------------------------------------------


def _revoke(record: Certificate, at: datetime) -> None:
    Certificate.objects.filter(pk=record.pk).update(
        status=Status.REVOKED,
        revoked_at=at,
        status_changed_at=at,
        revocation_reason="affiliation_changed",
    )


def test_a_new_status_is_served_after_one_poll(world, app):
    issuer = certificate_of(world.ca)
    sha1 = request_der(world.x509(world.good), issuer)
    sha256 = request_der(world.x509(world.good), issuer, hashes.SHA256())
    assert post(app, sha1).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert post(app, sha256).certificate_status == ocsp.OCSPCertStatus.GOOD  # now cached
    later = datetime.now(STOCKHOLM).replace(microsecond=0)  # what the responder signs at
    _revoke(world.good, later)
    assert refresh_responses([world.good.pk], later) == 1
    # Nothing changes until the store polls: the request path never reads the database.
    assert post(app, sha1).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert app.store.poll() == 1
    assert app.store.poll() == 0  # nothing new since
    for der in (sha1, sha256):
        response = verified(post(app, der), world.responder_cert())
        assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
        assert response.revocation_reason == x509.ReasonFlags.affiliation_changed
        assert response.revocation_time_utc == later
        assert response.this_update_utc >= later


def test_a_new_certificate_replaces_a_cached_unknown(world, app):
    serial = 0xABCDEF0123
    der = request_by_serial(world.x509(world.good), certificate_of(world.ca), serial)
    assert post(app, der).certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    card = Card.objects.get(pk=world.good.card_id)
    record = issue(card, world.ca, world.now, Status.VALID, serial=serial)
    refresh_responses([record.pk], world.now)
    app.store.poll()
    assert post(app, der).certificate_status == ocsp.OCSPCertStatus.GOOD


def test_a_certificate_on_hold_since_production_is_answered_from_the_database(world, app):
    """Production signs no response for its on-hold certificate (status.note_issued_on_hold):
    a SHA-1 question about it is answered on demand with its status, and cached."""
    card = Card.objects.get(pk=world.good.card_id)
    record = issue(card, world.ca, world.now, Status.ON_HOLD)
    der = request_der(world.x509(record), certificate_of(world.ca))
    first = call(app, "POST", "/ocsp", der)
    held = verified(first.ocsp(), world.responder_cert())
    assert held.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert held.revocation_reason == x509.ReasonFlags.certificate_hold
    assert held.hash_algorithm.name == "sha1"
    assert held.serial_number == world.x509(record).serial_number
    assert app.signer.cached() == 1
    assert call(app, "POST", "/ocsp", der).body == first.body  # cached, not signed again


def test_production_drops_a_cached_unknown_for_the_new_serial(world, app):
    serial = 0xABCDEF0124
    der = request_by_serial(world.x509(world.good), certificate_of(world.ca), serial)
    assert post(app, der).certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    card = Card.objects.get(pk=world.good.card_id)
    issue(card, world.ca, world.now, Status.ON_HOLD, serial=serial)
    with transaction.atomic():
        note_issued_on_hold([world.ca.pk])  # what production does in its transaction
    app.store.poll()
    held = post(app, der)
    assert held.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert held.revocation_reason == x509.ReasonFlags.certificate_hold


def test_a_new_or_renamed_ca_is_picked_up_by_a_poll(world, app):
    before = len(app.store.responses)
    root = world.hierarchy.root
    CertificateAuthority.objects.create(
        name="Foreign issuer",
        role=CertificateAuthority.Role.FOREIGN,
        key_ref="encrypted:none",
        certificate_der=root.certificate_der,
        key_sha1="0" * 40,
        name_sha1="0" * 40,
        not_before=root.not_before,
        not_after=root.not_after,
    )
    assert app.store.poll() == before  # a full reload
    assert "foreign-issuer" in app.store.slugs
    CertificateAuthority.objects.filter(pk=world.ca.pk).update(name="Renamed CA")
    app.store.poll()
    assert "renamed-ca" in app.store.slugs
    assert slug(world.ca) not in app.store.slugs
    der = request_der(world.x509(world.good), certificate_of(world.ca))
    assert post(app, der, "/ocsp/renamed-ca").certificate_status == ocsp.OCSPCertStatus.GOOD


def test_the_poll_thread_serves_a_revocation_within_a_second(world):
    store = ResponseStore()
    store.load()
    responder = Responder(store)
    der = request_der(world.x509(world.good), certificate_of(world.ca))
    store.start_polling(0.05)
    try:
        later = world.now + timedelta(minutes=1)
        _revoke(world.good, later)
        refresh_responses([world.good.pk], later)
        committed = time.monotonic()
        while True:
            status = post(responder, der).certificate_status
            if status == ocsp.OCSPCertStatus.REVOKED:
                break
            assert time.monotonic() - committed < 1.0, "not served within a second"
            time.sleep(0.01)
    finally:
        store.stop_polling()
        responder.shutdown()


def test_lifespan_startup_loads_the_store_and_shutdown_stops(world):
    responder = Responder(ResponseStore(), poll_interval=0.05)
    sent: list[dict[str, Any]] = []

    async def lifespan() -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await queue.put({"type": "lifespan.startup"})

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "lifespan.startup.complete":
                await queue.put({"type": "lifespan.shutdown"})

        await responder({"type": "lifespan", "asgi": {"version": "3.0"}}, queue.get, send)

    asyncio.run(lifespan())
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert len(responder.store.responses) == 4
    assert responder.store._thread is None  # stopped


# --- the command that runs it ---------------------------------------------------------------


def test_ocsp_serve_runs_the_factory_under_uvicorn_on_loopback(monkeypatch):
    runs: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: runs.append((a, kw)))
    monkeypatch.setenv(asgi.POLL_ENV, "")  # restored afterwards; the command sets it
    call_command("ocsp", "serve", "--poll", "0.5")
    (args, options), *_ = runs
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 8080
    assert options["workers"] == 1
    assert options["access_log"] is False
    assert options["log_config"]["loggers"]["uvicorn.access"]["handlers"] == []
    assert options["factory"] is True
    module, _, name = args[0].partition(":")
    factory = getattr(importlib.import_module(module), name)
    assert factory is asgi.create_app
    responder = factory()  # reads the poll interval the command set
    assert responder.poll_interval == 0.5
    responder.shutdown()

    runs.clear()
    call_command("ocsp", "serve", "--host", "10.1.2.3", "--port", "9999")
    assert (runs[0][1]["host"], runs[0][1]["port"]) == ("10.1.2.3", 9999)


@pytest.mark.parametrize("bad", [["--poll", "0"], ["--poll", "-1"], ["--port", "0"]])
def test_ocsp_serve_refuses_bad_options(bad):
    with pytest.raises(CommandError):
        call_command("ocsp", "serve", *bad)


def test_repeated_request_bytes_skip_parsing_but_nonces_are_not_remembered(world, app, monkeypatch):
    from ekort.pki import ocsp as ocsp_module

    issuer = certificate_of(world.ca)
    plain = request_der(world.x509(world.good), issuer)
    with_nonce = request_der(world.x509(world.good), issuer, nonce=b"0123456789abcdef")
    parsed = []
    real_parse = ocsp_module.parse_request
    monkeypatch.setattr(
        ocsp_module, "parse_request", lambda der: parsed.append(der) or real_parse(der)
    )
    for _ in range(3):
        assert post(app, plain).certificate_status == ocsp.OCSPCertStatus.GOOD
        assert post(app, with_nonce).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert parsed.count(plain) == 1
    assert parsed.count(with_nonce) == 3


def test_repeated_request_bytes_for_an_answer_signed_on_demand_skip_parsing(
    world, app, monkeypatch
):
    from ekort.pki import ocsp as ocsp_module

    card = Card.objects.get(pk=world.good.card_id)
    record = issue(card, world.ca, world.now, Status.ON_HOLD)  # no stored response
    der = request_der(world.x509(record), certificate_of(world.ca))
    parsed = []
    real_parse = ocsp_module.parse_request
    monkeypatch.setattr(
        ocsp_module, "parse_request", lambda der: parsed.append(der) or real_parse(der)
    )
    for _ in range(3):
        assert post(app, der).revocation_reason == x509.ReasonFlags.certificate_hold
    assert parsed.count(der) == 1
    assert app.signer.cached() == 1
