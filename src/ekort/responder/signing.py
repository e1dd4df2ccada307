"""Responses signed on demand, for the requests that no stored response answers.

Both are rare in normal traffic: a CertID of a known issuer whose serial has no stored
response (SHA-1), or any SHA-256 CertID (stored responses are for SHA-1 CertIDs). The
certificate's current status is read from the database and signed with the request's hash
algorithm. A certificate on hold since its card was produced has no stored response (nobody can
use the card before activation: `status.note_issued_on_hold`), so this answers it too. A serial
ekort never issued gets "unknown", valid for at most an hour.

Signing runs in a small thread pool, so the event loop is not blocked for a signature (or, with
a hardware token, a round trip to it). Signed answers are kept in a bounded LRU cache, so a
client asking again does not cost another signature, and a flood of random serials cannot
exhaust memory; when too many signatures are pending, the answer is `tryLater`.

A cached answer is reused only while the issuer's `status_revision` is the one it was signed
at (any status change of that CA drops it) and for at most half its validity. When the database
(or the replica the responder reads) does not answer, the answer signed before is given while it
is still valid, as the stored responses are; without one, `tryLater`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.db import Error as DatabaseError
from django.db import connections

from ekort.pki import ocsp
from ekort.services import clock
from ekort.services.ca.authority import ca_settings, certificate_of, signing_key_of
from ekort.services.ca.status import ocsp_status
from ekort.store.models import Certificate

from .store import GOOD, REVOKED, UNKNOWN, Issuer, ResponseStore, Stored

log = logging.getLogger("ekort.responder")

# "unknown" may turn into a real status when a certificate is issued: keep it short-lived.
UNKNOWN_VALIDITY = timedelta(hours=1)

# (hash algorithm, issuer CA pk, serial)
CacheKey = tuple[str, int, int]


class Busy(Exception):
    """Too many signatures are pending: answer tryLater."""


def context_of(issuer: Issuer) -> Any:
    """The issuer's signing context (certificates and the responder's key), made once."""
    with issuer.context_lock:
        if issuer.context is None:
            issuer.context = ocsp.make_responder_context(
                issuer.certificate,
                certificate_of(issuer.responder),
                signing_key_of(issuer.responder),
            )
        return issuer.context


def _validity() -> timedelta:
    return timedelta(hours=ca_settings().ocsp_response_validity_hours)


def sign_unknown(issuer: Issuer, serial: int, hash_algorithm: str, now: datetime) -> Stored:
    next_update = now + min(UNKNOWN_VALIDITY, _validity())
    der = ocsp.build_response(
        context=context_of(issuer),
        serial=serial,
        status=ocsp.CertStatus.UNKNOWN,
        revoked_at=None,
        reason=None,
        this_update=now,
        next_update=next_update,
        hash_algorithm=hash_algorithm,
    )
    return Stored(der, now.timestamp(), next_update.timestamp(), UNKNOWN)


def sign_current(
    issuer: Issuer, serial: int, hash_algorithm: str, now: datetime, alias: str = "default"
) -> Stored:
    """Read the certificate's status now (in a worker thread, from database `alias`) and sign
    it."""
    try:
        cert = (
            Certificate.objects.using(alias)
            .filter(issuer_id=issuer.pk, serial=format(serial, "x"))
            .only("pk", "status", "status_changed_at", "revoked_at", "revocation_reason")
            .first()
        )
    finally:
        connections[alias].close()  # this worker thread's connection; the path is rare
    if cert is None:
        return sign_unknown(issuer, serial, hash_algorithm, now)
    status, revoked_at, reason = ocsp_status(cert)
    next_update = now + _validity()
    der = ocsp.build_response(
        context=context_of(issuer),
        serial=serial,
        status=status,
        revoked_at=revoked_at,
        reason=reason,
        this_update=now,
        next_update=next_update,
        hash_algorithm=hash_algorithm,
    )
    given = GOOD if status == ocsp.CertStatus.GOOD else REVOKED
    return Stored(der, now.timestamp(), next_update.timestamp(), given)


class OnDemandSigner:
    """Signs in threads, caches what it signed (LRU), and refuses floods with `Busy`.

    The cache and the in-flight table are touched only from the event loop's thread.
    """

    def __init__(
        self,
        store: ResponseStore,
        *,
        cache_size: int = 20_000,
        max_pending: int = 64,
        workers: int = 2,
    ) -> None:
        self._store = store
        self._cache: OrderedDict[CacheKey, tuple[Stored, int, float]] = OrderedDict()
        self._cache_size = cache_size
        self._max_pending = max_pending
        self._inflight: dict[CacheKey, asyncio.Future[Stored]] = {}
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocsp-sign")

    def cached(self) -> int:
        return len(self._cache)

    async def answer(self, issuer: Issuer, serial: int, hash_algorithm: str) -> Stored:
        """The response for (issuer, serial) with its current status (the caller looked in the
        store first)."""
        key = (hash_algorithm, issuer.pk, serial)
        revision = self._store.revisions.get(issuer.pk, 0)
        now = clock.now()
        hit = self._cache.get(key)
        if hit is not None:
            stored, signed_at, fresh_until = hit
            if signed_at == revision and now.timestamp() < fresh_until:
                self._cache.move_to_end(key)
                return stored
        pending = self._inflight.get(key)
        if pending is not None:
            return await self._signed(pending, hit, now)
        if len(self._inflight) >= self._max_pending:
            raise Busy
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._executor, sign_current, issuer, serial, hash_algorithm, now, self._store.alias
        )
        self._inflight[key] = future
        try:
            stored = await self._signed(future, hit, now)
        finally:
            del self._inflight[key]
        if hit is not None and stored is hit[0]:
            return stored  # the database did not answer: kept as it was
        fresh_until = stored.this_update + (stored.next_update - stored.this_update) / 2
        self._cache[key] = (stored, revision, fresh_until)
        self._cache.move_to_end(key)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return stored

    @staticmethod
    async def _signed(
        future: asyncio.Future[Stored], hit: tuple[Stored, int, float] | None, now: datetime
    ) -> Stored:
        try:
            return await asyncio.shield(future)
        except DatabaseError:
            # The database does not answer: what was signed before, while it is valid.
            if hit is not None and now.timestamp() < hit[0].next_update:
                return hit[0]
            raise Busy from None

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
