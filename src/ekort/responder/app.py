"""The OCSP responder as a raw ASGI 3 application: no framework, no Django request cycle.

Routes (RFC 6960 appendix A.1, RFC 5019):

- `POST /ocsp` and `POST /ocsp/<ca-slug>`: body `application/ocsp-request` (DER);
- `GET /ocsp/<base64 request>` and `GET /ocsp/<ca-slug>/<base64 request>`: the request DER in
  base64, URL-encoded; base64 may itself contain '/', so the first segment counts as a CA slug
  only when it is one;
- `GET /health` (alive): 200 and a JSON object: "status" "ok", how many responses it holds,
  whether its database ("database": "up" or "down") answered the last poll, and how long ago
  it last read it; the responses are in memory, so it answers even when the database is down,
  and says "answering_from": "memory" then;
- `GET /ready` (can serve): 200 once the responses are loaded (from memory, database or not),
  503 before; the same JSON;
- `GET /metrics`: Prometheus metrics (`metrics.py`);
- anything else: 404 or 405 with a short text body.

The CA slug in the path only routes (it is the URL in the certificates' AIA); the CertID in
the request decides which issuer answers. Unknown slug: 404.

Answers, always `application/ocsp-response` with HTTP 200 (OCSP errors are OCSP responses):

- a SHA-1 CertID whose (issuer, serial) has a stored response: those stored bytes, from a dict
  (`store.py`); this is the hot path, and it touches neither the database nor a key;
- any other CertID of a known issuer (a serial with no stored response, such as a certificate
  on hold since production, or a SHA-256 CertID): the certificate's current status from the
  database, signed on demand and cached (`signing.py`); "unknown" for a serial never issued;
- an issuer this responder does not serve: `unauthorized`;
- a request that does not parse, an empty body, or more than `MAX_REQUEST_BYTES`:
  `malformedRequest`; too many signatures pending: `tryLater`;
- any other failure: `internalError`, logged, never a traceback to the client.

Nonces: the stored responses are signed ahead of time (`refresh_responses`), so they cannot
carry the client's nonce (RFC 6960 4.4.1, RFC 5019 section 4), and the on-demand responses
leave it out too, for one behaviour. Clients that insist on a nonce must be told not to send
one (`openssl ocsp -no_nonce`); freshness comes from thisUpdate/nextUpdate instead.

HTTP caching (RFC 5019 section 6.2): answers to GET may be cached by proxies until nextUpdate,
at most an hour, so that a revocation reaches relying parties behind a cache within the hour:
`Cache-Control: max-age=<seconds left, at most 60>, public, no-transform, must-revalidate`,
with `Last-Modified` (thisUpdate), `Expires` (nextUpdate) and an `ETag`. POST answers are not
cacheable by HTTP caches anyway; they say `Cache-Control: no-store` so that nothing on the way
keeps a status past the moment it was asked for. Error answers are `no-store` as well.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate
from typing import Any

from cryptography.x509.ocsp import OCSPResponseStatus
from django.db import connections

from ekort.pki import ocsp
from ekort.services import clock

from .metrics import BUCKETS, CONTENT_TYPE, ResponderMetrics
from .signing import Busy, OnDemandSigner
from .store import ResponseStore, Stored

log = logging.getLogger("ekort.responder")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# A block must reach relying parties "right after": an HTTP cache may hide it this long at most.
MAX_AGE_CAP = 60
# How many distinct request encodings to remember (about 200 bytes each with their keys).
REQUEST_CACHE_SIZE = 200_000

_Status = OCSPResponseStatus
_MALFORMED = _Status.MALFORMED_REQUEST
_OCSP = b"application/ocsp-response"
_TEXT = b"text/plain; charset=utf-8"
_NO_STORE = b"no-store"
_METHODS = frozenset({"GET", "POST", "HEAD"})  # any other is counted as "other"
_clock = time.perf_counter


class _Disconnected(Exception):
    pass


class Responder:
    """The ASGI application. `store` must be loaded before requests arrive: the lifespan
    startup does it (and starts polling when `poll_interval` is set), or the caller does."""

    def __init__(
        self,
        store: ResponseStore,
        *,
        signer: OnDemandSigner | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.store = store
        self.signer = signer or OnDemandSigner(store)
        self.poll_interval = poll_interval
        self.max_request = ocsp.MAX_REQUEST_BYTES
        # Request bytes -> what they ask for: (hash algorithm, issuer name hash, issuer key
        # hash, serial) (see `_answer`).
        self._request_keys: dict[bytes, tuple[str, str, str, int]] = {}
        self._errors: dict[OCSPResponseStatus, bytes] = {
            status: ocsp.error_response(status)
            for status in _Status
            if status is not _Status.SUCCESSFUL
        }
        # An error response's bytes -> its name, as the answers are counted.
        self._error_names = {der: status.name.lower() for status, der in self._errors.items()}
        self.metrics = ResponderMetrics(store, self.signer)
        self._answers = self.metrics.answers  # the same dict, one lookup less per answer

    # --- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:
                    log.exception("The OCSP responder could not start.")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        if not self.store.loaded:
            # The ORM refuses to run on the event loop's thread.
            await asyncio.to_thread(self._load)
        if self.poll_interval:
            self.store.start_polling(self.poll_interval)

    def _load(self) -> None:
        try:
            self.store.load()
        finally:
            connections[self.store.alias].close()  # this thread's; the poll has its own

    def shutdown(self) -> None:
        self.store.stop_polling()
        self.signer.close()

    # --- HTTP ----------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = _clock()
        method: str = scope["method"]
        path: str = scope["path"]
        route = "/ocsp"
        try:
            if path == "/ocsp" or path.startswith("/ocsp/"):
                if method == "POST":
                    status, headers, body = await self._post(scope, receive, path[6:])
                elif method in ("GET", "HEAD"):
                    status, headers, body = await self._get(path[6:])
                else:
                    status, headers, body = _text(405, "method not allowed", b"GET, POST")
            elif path in ("/health", "/ready", "/metrics"):
                route = path
                if method not in ("GET", "HEAD"):
                    status, headers, body = _text(405, "method not allowed", b"GET")
                elif path == "/metrics":
                    body = self.metrics.exposition()
                    status, headers = 200, _headers(CONTENT_TYPE, body)
                else:
                    status, headers, body = self._health(ready=path == "/ready")
            else:
                route = "other"
                status, headers, body = _text(404, "not found")
        except _Disconnected:
            return
        except Exception:
            request_id = dict(scope["headers"]).get(b"x-request-id", b"-")[:64]
            log.exception(
                "OCSP responder: %s %s failed",
                method,
                path[:200],
                extra={"request_id": request_id.decode("ascii", "replace")},
            )
            status, headers, body = self._error(_Status.INTERNAL_ERROR)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
        # Counted here, inline: a method call costs as much again on this path (metrics.py).
        seconds = _clock() - started
        metrics = self.metrics
        key = (route, method if method in _METHODS else "other", status)
        requests = metrics.requests
        requests[key] = requests.get(key, 0) + 1
        metrics.latency[route][bisect_left(BUCKETS, seconds)] += 1
        metrics.latency_sum[route] += seconds

    def _health(self, *, ready: bool) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Alive (`/health`) or able to serve (`/ready`), and what the responder knows."""
        store = self.store
        since = store.seconds_since_poll()
        state: dict[str, Any] = {
            "status": "ok" if store.loaded else "loading",
            "responses": len(store.responses),
            "database": "up" if store.database_up else "down",
            "seconds_since_poll": round(since, 3) if store.loaded else None,
            "replica_lag_seconds": store.replica_lag,
        }
        if store.loaded and not store.database_up:
            state["answering_from"] = "memory"
            state["note"] = (
                f"The database has not answered for {since:.0f} s: answering from the "
                "responses in memory, which stay valid to their nextUpdate."
            )
        body = (json.dumps(state) + "\n").encode()
        status = 503 if ready and not store.loaded else 200
        return status, _headers(b"application/json", body), body

    async def _post(
        self, scope: Scope, receive: Receive, rest: str
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if rest and ("/" in rest or rest not in self.store.slugs):
            return _text(404, "no such CA")
        der = await self._read_body(scope, receive)
        if der is None:
            return self._error(_MALFORMED)
        stored = await self._answer(der)
        if isinstance(stored, bytes):
            return self._error_bytes(stored)
        self._answers[stored.status] += 1
        return (
            200,
            [
                (b"content-type", _OCSP),
                (b"content-length", str(len(stored.der)).encode()),
                (b"cache-control", _NO_STORE),
            ],
            stored.der,
        )

    async def _get(self, rest: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        head, _, tail = rest.partition("/")
        if head in self.store.slugs:
            if not tail:
                return _text(405, "method not allowed", b"POST")
            encoded = tail
        elif not rest:
            return _text(405, "method not allowed", b"POST")
        else:
            encoded = rest
        try:
            der = ocsp.ocsp_get_path_to_der(encoded)
        except Exception:
            return self._error(_MALFORMED)
        stored = await self._answer(der)
        if isinstance(stored, bytes):
            return self._error_bytes(stored)
        self._answers[stored.status] += 1
        left = int(stored.next_update - clock.now().timestamp())
        max_age = max(0, min(left, MAX_AGE_CAP))
        return (
            200,
            [
                (b"content-type", _OCSP),
                (b"content-length", str(len(stored.der)).encode()),
                (
                    b"cache-control",
                    f"max-age={max_age}, public, no-transform, must-revalidate".encode(),
                ),
                (b"last-modified", formatdate(stored.this_update, usegmt=True).encode()),
                (b"expires", formatdate(stored.next_update, usegmt=True).encode()),
                (
                    b"etag",
                    b'"'
                    + hashlib.sha1(stored.der, usedforsecurity=False).hexdigest().encode()
                    + b'"',
                ),
            ],
            stored.der,
        )

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The request body, or None when it is larger than a request can be."""
        limit = self.max_request
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        return None
                except ValueError:
                    return None
                break
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            return body if len(body) <= limit else None
        chunks = [body]
        size = len(body)
        while size <= limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks) if size <= limit else None

    async def _answer(self, der: bytes) -> Stored | bytes:
        """The stored or signed response, or an error response's bytes."""
        store = self.store
        # Most clients send the same bytes for the same certificate every time (no nonce):
        # remember what those bytes asked for, and skip parsing them again.
        known = self._request_keys.get(der)
        if known is None:
            try:
                request = ocsp.parse_request(der)
            except ocsp.OcspProblem as problem:
                return self._errors[problem.status]
            known = (
                request.hash_algorithm,
                request.issuer_name_hash,
                request.issuer_key_hash,
                request.serial,
            )
            if request.nonce is None:
                if len(self._request_keys) >= REQUEST_CACHE_SIZE:
                    self._request_keys.clear()  # crude but bounded: refills as asked
                self._request_keys[der] = known
        hash_algorithm, name_hash, key_hash, serial = known
        if hash_algorithm == "sha1":
            stored = store.responses.get((name_hash, key_hash, serial))
            if stored is not None:
                return stored
        issuer = store.issuers.get((hash_algorithm, name_hash, key_hash))
        if issuer is None:
            return self._errors[_Status.UNAUTHORIZED]
        try:
            return await self.signer.answer(issuer, serial, hash_algorithm)
        except Busy:
            return self._errors[_Status.TRY_LATER]

    def _error(self, status: OCSPResponseStatus) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return self._error_bytes(self._errors[status])

    def _error_bytes(self, der: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        self._answers[self._error_names[der]] += 1
        return (
            200,
            [
                (b"content-type", _OCSP),
                (b"content-length", str(len(der)).encode()),
                (b"cache-control", _NO_STORE),
            ],
            der,
        )


def _headers(content_type: bytes, body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", _NO_STORE),
    ]


def _text(
    status: int, text: str, allow: bytes | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = (text + "\n").encode()
    headers = [
        (b"content-type", _TEXT),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", _NO_STORE),
    ]
    if allow is not None:
        headers.append((b"allow", allow))
    return status, headers, body
