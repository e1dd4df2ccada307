"""The responder's memory: every pre-signed OCSP response, kept in step with the database.

`ResponseStore.load()` reads all `OcspResponse` rows once (streamed in chunks) into a dict keyed
by the RFC 6960 SHA-1 CertID: (issuer name hash, issuer key hash, serial). Then `poll()` runs
every 0.2 s in a background thread (`start_polling`): it reads each CA's `status_revision`
(one small query) and, for each CA whose revision moved past what the store has seen, loads
the `OcspResponse` rows with a higher `revision` and assigns them into the dict. A dict item
assignment is atomic under the GIL, so the event loop never sees a half-written entry and never
waits for a lock; a full reload (a new or changed CA, or a revision that went backwards after a
restore) builds a new dict and swaps the reference.

`refresh_responses` bumps the CA's revision and writes the rows in one transaction, so a poll
that sees the new revision also sees every row of it. A block's new "revoked" response is
therefore served within one poll interval (plus the query time) of its commit.

The request path only reads dicts; the database is touched by the poll thread alone (and by
the rare on-demand signing, in a worker thread: see `signing.py`).

The database read is `settings.EKORT_OCSP_DATABASE`: a streaming replica when
EKORT_OCSP_DATABASE_URL names one. When it does not answer, the store keeps what it holds and
says so (`database_up`, `seconds_since_poll`: the health check and the metrics); the next
poll that works catches up from the revisions, as after any pause. On a replica each poll also
reads how far its replay is behind the primary (`replica_lag`), at most once a second.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography import x509
from django.conf import settings
from django.db import close_old_connections, connections

from ekort.pki.ocsp import issuer_hashes
from ekort.services.ca.authority import certificate_of, slug
from ekort.store.models import CertificateAuthority, OcspResponse

log = logging.getLogger("ekort.responder")

CHUNK = 5000
Role = CertificateAuthority.Role
LAG_EVERY = 1.0  # seconds between two readings of a replica's lag

# How far a streaming replica's replay is behind its primary, in seconds: 0 when it has
# replayed all it received (no write waiting), else the age of the last transaction replayed.
# NULL on a server that is not a replica.
_LAG_SQL = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END
"""

GOOD, REVOKED, UNKNOWN = "good", "revoked", "unknown"
# The certStatus CHOICE of RFC 6960: [0] IMPLICIT NULL, [1] IMPLICIT RevokedInfo (constructed),
# [2] IMPLICIT UnknownInfo.
_STATUS_TAGS = {0x80: GOOD, 0xA1: REVOKED, 0x82: UNKNOWN}


def status_of(der: bytes, key_hash: bytes) -> str:
    """The certificate status a signed response gives, read from its DER without parsing it:
    in the SingleResponse the CertID ends with the issuer key hash (an OCTET STRING) and the
    serial (an INTEGER), and the certStatus follows. About a microsecond, so the counts of
    answers by status cost the load nothing to speak of. "unknown" if it is not found."""
    marker = bytes((0x04, len(key_hash))) + key_hash
    start = 0
    while (at := der.find(marker, start)) >= 0:
        i = at + len(marker)
        if i + 1 < len(der) and der[i] == 0x02 and der[i + 1] < 0x80:
            j = i + 2 + der[i + 1]
            if j < len(der) and der[j] in _STATUS_TAGS:
                return _STATUS_TAGS[der[j]]
        start = at + 1
    return UNKNOWN


class Stored(NamedTuple):
    """A signed response and its validity, as POSIX timestamps (for HTTP cache headers), and
    the status it gives (`GOOD`, `REVOKED`, `UNKNOWN`: counted per answer)."""

    der: bytes
    this_update: float
    next_update: float
    status: str = UNKNOWN


# (issuer name hash hex, issuer key hash hex, serial): the SHA-1 CertID of RFC 6960.
ResponseKey = tuple[str, str, int]


@dataclass(eq=False)
class Issuer:
    """A CA this responder answers for: one that has an OCSP signing certificate."""

    ca: CertificateAuthority
    responder: CertificateAuthority
    slug: str
    certificate: x509.Certificate
    # Hash algorithm ("sha1", "sha256") -> (issuer name hash hex, issuer key hash hex).
    hashes: dict[str, tuple[str, str]]
    # The signing context for on-demand responses, made on first use (`signing.py`).
    context: Any = None
    context_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pk(self) -> int:
        return self.ca.pk


def _issuers(cas: list[CertificateAuthority]) -> list[Issuer]:
    # A CA may have had several signers (renewed yearly): the one valid longest answers.
    responders: dict[int | None, CertificateAuthority] = {}
    for ca in sorted((ca for ca in cas if ca.role == Role.OCSP), key=lambda ca: ca.not_after):
        responders[ca.parent_id] = ca
    issuers = []
    for ca in cas:
        responder = responders.get(ca.pk)
        if responder is None or ca.role == Role.OCSP:
            continue
        cert = certificate_of(ca)
        hashes = {"sha1": (ca.name_sha1, ca.key_sha1)}
        name_hash, key_hash = issuer_hashes(cert, "sha256")
        hashes["sha256"] = (name_hash, key_hash)
        issuers.append(Issuer(ca, responder, slug(ca), cert, hashes))
    return issuers


class ResponseStore:
    """What the request path reads. Attributes are replaced whole, never mutated in place,
    except `responses`, whose items the poll assigns one by one."""

    def __init__(self) -> None:
        self.responses: dict[ResponseKey, Stored] = {}
        # (hash algorithm, issuer name hash, issuer key hash) -> Issuer
        self.issuers: dict[tuple[str, str, str], Issuer] = {}
        self.slugs: frozenset[str] = frozenset()  # every CA's URL name, answered for or not
        self.revisions: dict[int, int] = {}  # CA pk -> status_revision loaded
        self.loaded = False
        self.last_poll: float = 0.0  # time.monotonic() of the last successful poll
        self.database_up = False  # did the last poll (or load) read the database?
        self.newest: float = 0.0  # the newest thisUpdate held (POSIX), for its age
        self.replica_lag: float | None = None  # seconds, when the database is a replica
        self._lag_read: float = 0.0
        self.alias: str = settings.EKORT_OCSP_DATABASE
        self._sha1_of: dict[int, tuple[str, str]] = {}
        # What makes the issuers and slugs: (pk, role, parent pk, name) of every CA.
        self._shape: frozenset[tuple[Any, ...]] = frozenset()
        self._lock = threading.Lock()  # one load or poll at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- reading the database (poll thread, or a test) --------------------------------------

    def load(self) -> int:
        """Read every CA and every stored response; returns how many responses."""
        with self._lock:
            return self._load()

    def _load(self) -> int:
        started = time.monotonic()
        cas = list(CertificateAuthority.objects.using(self.alias).order_by("pk"))
        # Revisions first: rows committed while we stream have a higher revision and are read
        # again by the next poll.
        revisions = {ca.pk: ca.status_revision for ca in cas}
        sha1_of = {ca.pk: (ca.name_sha1, ca.key_sha1) for ca in cas}
        key_bytes = {ca.pk: bytes.fromhex(ca.key_sha1) for ca in cas}
        responses: dict[ResponseKey, Stored] = {}
        rows = OcspResponse.objects.using(self.alias).values_list(
            "issuer_id", "serial", "der", "this_update", "next_update"
        )
        newest = 0.0
        for issuer_id, serial, der, this_update, next_update in rows.iterator(chunk_size=CHUNK):
            name_hash, key_hash = sha1_of[issuer_id]
            der = bytes(der)
            signed = this_update.timestamp()
            newest = max(newest, signed)
            responses[(name_hash, key_hash, int(serial, 16))] = Stored(
                der, signed, next_update.timestamp(), status_of(der, key_bytes[issuer_id])
            )
        issuers = _issuers(cas)
        self.issuers = {
            (algorithm, name_hash, key_hash): issuer
            for issuer in issuers
            for algorithm, (name_hash, key_hash) in issuer.hashes.items()
        }
        self.slugs = frozenset(slug(ca) for ca in cas)
        self._sha1_of = sha1_of
        self._shape = frozenset((ca.pk, ca.role, ca.parent_id, ca.name) for ca in cas)
        self.responses = responses
        self.revisions = revisions
        self.newest = newest
        self.loaded = True
        self.database_up = True
        self.last_poll = time.monotonic()
        self._read_lag()
        log.info(
            "OCSP responder loaded %d responses for %d issuers in %.1f s",
            len(responses),
            len(issuers),
            time.monotonic() - started,
        )
        return len(responses)

    def poll(self) -> int:
        """Load what changed since the last load or poll; returns how many responses."""
        with self._lock:
            if not self.loaded:
                return self._load()
            try:
                rows = list(
                    CertificateAuthority.objects.using(self.alias).values_list(
                        "pk", "status_revision", "role", "parent_id", "name"
                    )
                )
            except Exception:
                self.database_up = False
                raise
            if frozenset((pk, *rest) for pk, _, *rest in rows) != self._shape:
                log.info("The CAs changed; reloading every response.")
                return self._load()
            changed = 0
            for pk, revision, *_ in rows:
                seen = self.revisions.get(pk, 0)
                if revision == seen:
                    continue
                if revision < seen:
                    log.warning("CA %s went back from revision %d to %d.", pk, seen, revision)
                    return self._load()
                changed += self._load_since(pk, seen)
                self.revisions[pk] = revision
            self.database_up = True
            self.last_poll = time.monotonic()
            if self.last_poll - self._lag_read >= LAG_EVERY:
                self._read_lag()
            return changed

    def _read_lag(self) -> None:
        self._lag_read = time.monotonic()
        connection = connections[self.alias]
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(_LAG_SQL)
            row = cursor.fetchone()
        self.replica_lag = None if row is None or row[0] is None else max(0.0, float(row[0]))

    def seconds_since_poll(self) -> float:
        """How long ago the database was last read: the age of what this store knows."""
        return time.monotonic() - self.last_poll if self.loaded else float("inf")

    def _load_since(self, issuer_id: int, revision: int) -> int:
        name_hash, key_hash = self._sha1_of[issuer_id]
        key_bytes = bytes.fromhex(key_hash)
        responses = self.responses
        rows = OcspResponse.objects.using(self.alias).filter(
            issuer_id=issuer_id, revision__gt=revision
        )
        count = 0
        newest = self.newest
        for serial, der, this_update, next_update in rows.values_list(
            "serial", "der", "this_update", "next_update"
        ).iterator(chunk_size=CHUNK):
            der = bytes(der)
            signed = this_update.timestamp()
            newest = max(newest, signed)
            responses[(name_hash, key_hash, int(serial, 16))] = Stored(
                der, signed, next_update.timestamp(), status_of(der, key_bytes)
            )
            count += 1
        self.newest = newest
        return count

    # --- the poll thread --------------------------------------------------------------------

    def start_polling(self, interval: float) -> None:
        if interval <= 0:
            raise ValueError("The poll interval must be positive.")
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="ocsp-poll", daemon=True
        )
        self._thread.start()

    def stop_polling(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self, interval: float) -> None:
        failing = False
        while not self._stop.wait(interval):
            close_old_connections()
            try:
                self.poll()
            except Exception:
                self.database_up = False
                # Keep answering from memory: the stored responses stay valid until their
                # nextUpdate. Log once per outage, not five times a second.
                if not failing:
                    log.exception("OCSP responder: polling the database failed; retrying.")
                failing = True
            else:
                if failing:
                    log.info("OCSP responder: polling the database works again.")
                failing = False
            finally:
                close_old_connections()
        connections[self.alias].close()
