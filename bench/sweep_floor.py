"""The bare-SQL floor of the R8 deadline sweep (see bench.sweeping): the statements
`deadlines.run_all` sends for the same cards, issued with psycopg directly, with no Django and
as little Python per card as the work allows. The sweep benchmark runs it on a copy of the
same generated database and reports the sweep's time as a ratio to it.

What it sends, as the sweep does (tests/integration/test_sweep_floor.py holds it to the
sweep's own statements and audit entries):

1. one pass over the card table for every sweep's due cards (`deadlines.find_due`);
2. per chunk of 5,000 cards, in one transaction: lock the chunk's cards still due (FOR UPDATE
   SKIP LOCKED), insert their block records with one INSERT ... SELECT unnest between SET
   CONSTRAINTS ALL IMMEDIATE and DEFERRED (`store.sets.insert_alike`), update the cards per
   source state, find and revoke their live certificates, lock the issuers of card
   certificates and move their status revision on (`status.change_status`), take their
   waiting letters out of the print queue (`blocking.withdraw_letters`), lock the audit
   trail's head, COPY the audit entries with their HMAC-SHA256 chain, and update the head.

The chunks run in `workers` processes, each with one session, as `ekort jobs run --workers`
runs them. Each audit entry's canonical text is the bytes `audit_chain.entry_text` gives (the
floor's entries verify with `ekort audit verify`): built from constant pieces around the card's
id and number before the head is locked; under the lock, only the sequence number, one real
HMAC-SHA256 and the COPY line per entry.
"""

from __future__ import annotations

import gc
import hmac
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing import get_context
from typing import Any

import psycopg

CHUNK = 5000  # deadlines.run_all's default

# `deadlines.find_due`: each card's sweep, in SWEEPS order, for every card due under any.
LIVE = "('active', 'awaiting_pickup', 'produced', 'sent_inactive')"
FIND_DUE = " ".join(
    f"""
SELECT id, CASE
    WHEN pickup_deadline < %(today)s AND state IN ('awaiting_pickup') THEN 'not_collected'
    WHEN activation_deadline < %(today)s AND state IN ('sent_inactive') THEN 'not_activated'
    WHEN state IN {LIVE} AND valid_until < %(today)s THEN 'expired' END
FROM ekort_card
WHERE (pickup_deadline < %(today)s AND state IN ('awaiting_pickup'))
   OR (activation_deadline < %(today)s AND state IN ('sent_inactive'))
   OR (state IN {LIVE} AND valid_until < %(today)s)
""".split()  # noqa: S608 - constants
)
LOCK_DUE = (
    "SELECT id, state, number FROM ekort_card WHERE activation_deadline < %s"
    " AND state IN ('sent_inactive') AND id = ANY(%s::bigint[]) ORDER BY 1 FOR UPDATE SKIP LOCKED"
)
INSERT_BLOCKS = (
    "INSERT INTO ekort_block (card_id, reason, requested_by, registered_by_id, registered_at,"
    " note) SELECT UNNEST(%s::bigint[]), %s, %s, NULL, %s, %s"
)
UPDATE_CARDS = "UPDATE ekort_card SET state = %s, closed_at = %s WHERE id = ANY(%s::bigint[])"
LIVE_CERTIFICATES = (
    "SELECT id, issuer_id, status FROM ekort_certificate WHERE card_id = ANY(%s::bigint[])"
    " AND status IN ('on_hold', 'valid')"
)
REVOKE = (
    "UPDATE ekort_certificate SET status = 'revoked', revoked_at = %s, status_changed_at = %s,"
    " revocation_reason = %s WHERE id = ANY(%s::bigint[])"
)
LOCK_ISSUERS = (
    "SELECT id FROM ekort_certificateauthority WHERE role IN ('issuing', 'foreign')"
    " OR id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE"
)
MOVE_REVISIONS = (
    "UPDATE ekort_certificateauthority SET status_revision = status_revision + 1"
    " WHERE id = ANY(%s::bigint[])"
)
# `blocking.withdraw_letters`: the chunk's letters waiting in the print queue leave it.
WITHDRAW_LETTERS = (
    "UPDATE ekort_letter SET withdrawn_at = %s WHERE card_id = ANY(%s::bigint[])"
    " AND printed_at IS NULL AND withdrawn_at IS NULL RETURNING id, kind, card_id"
)
LOCK_HEAD = "SELECT id, seq, mac FROM ekort_audithead WHERE id = 1 FOR UPDATE"
COPY_ENTRIES = (
    "COPY ekort_auditentry (seq, at, actor, action, object_type, object_id, reason, before,"
    " after, prev_mac, mac) FROM STDIN"
)
UPDATE_HEAD = "UPDATE ekort_audithead SET seq = %s, mac = %s WHERE id = 1"


@dataclass(frozen=True)
class Job:
    """The R8 sweep's constants, as `deadlines.SWEEPS` and `cards.blocking.blocked` use them."""

    url: str  # the database, libpq's URL
    now: datetime
    today: date  # now's date in Stockholm, what the deadlines are compared with
    key: bytes  # EKORT_AUDIT_KEY
    actor: str = "job:not_activated"
    reason: str = "not_activated"
    revocation_reason: str = "cessation_of_operation"
    note: str = "Deadline passed (R8)."
    source: str = "sent_inactive"
    target: str = "blocked"


_connection: psycopg.Connection[Any] | None = None


def _start(url: str) -> None:
    global _connection
    _connection = psycopg.connect(url)
    gc.freeze()  # as the sweep's workers do (`cli.workers`): the inherited objects stay


def _id_array(ids: Sequence[int]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


def chunk(job: Job, card_ids: Sequence[int]) -> int:
    """One chunk in one transaction on this worker's session; how many cards it blocked."""
    conn = _connection
    assert conn is not None, "the worker's session is opened by _start"
    now, today = job.now, job.today
    with conn.transaction(), conn.cursor() as cur:
        rows = cur.execute(LOCK_DUE, (today, _id_array(card_ids))).fetchall()
        if not rows:
            return 0
        ids = _id_array([row[0] for row in rows])
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute(INSERT_BLOCKS, (ids, job.reason, job.actor, now, job.note))
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        cur.execute(UPDATE_CARDS, (job.target, now, ids))
        certificates = cur.execute(LIVE_CERTIFICATES, (ids,)).fetchall()
        cur.execute(
            REVOKE, (now, now, job.revocation_reason, _id_array([c[0] for c in certificates]))
        )
        if certificates:
            issuers = _id_array(sorted({c[1] for c in certificates}))
            cur.execute(LOCK_ISSUERS, (issuers,))
            cur.execute(MOVE_REVISIONS, (issuers,))
        # The generated cards have no letters waiting; the floor writes no letter entries.
        withdrawn = cur.execute(WITHDRAW_LETTERS, (now, ids)).fetchall()
        if withdrawn:
            raise RuntimeError("The floor's cards must have no letters waiting to be printed.")
        # The canonical text of each entry but its sequence number (keys sorted, "seq" last),
        # and its COPY line but the sequence number and the MACs: before the head is locked.
        at = now.astimezone(UTC).isoformat()
        closed = now.isoformat()
        after_head = '{"card_number":'
        after_tail = (
            f',"closed_at":"{closed}","reason":"{job.reason}",'
            f'"requested_by":"{job.actor}","state":"{job.target}"}}'
        )
        before = f'{{"state":"{job.source}"}}'
        body_head = f'{{"action":"block","actor":"{job.actor}","after":'
        body_middle = f',"at":"{at}","before":{before},"object_id":"'
        body_tail = f'","object_type":"card","reason":"{job.note}","seq":'
        line_middle = f"\t{now.isoformat()}\t{job.actor}\tblock\tcard\t"
        line_reason = f"\t{job.note}\t{before}\t"
        texts = []
        for pk, _, number in rows:  # card numbers are digits: nothing to escape
            after = f'{after_head}"{number}"{after_tail}'
            texts.append(
                (
                    f"{body_head}{after}{body_middle}{pk}{body_tail}".encode(),
                    f"{line_middle}{pk}{line_reason}{after}\t",
                )
            )
        head = cur.execute(LOCK_HEAD).fetchone()
        assert head is not None, "the trail has its head (the CA hierarchy wrote entries)"
        _, seq, prev = head
        key, digest = job.key, hmac.digest
        lines = []
        for body, line in texts:
            seq += 1
            mac = digest(key, b"%b%b%d}" % (prev.encode(), body, seq), "sha256").hex()
            lines.append(f"{seq}{line}{prev}\t{mac}\n")
            prev = mac
        with cur.copy(COPY_ENTRIES) as copy:
            copy.write("".join(lines))
        cur.execute(UPDATE_HEAD, (seq, prev))
    return len(rows)


def due_cards(conn: psycopg.Connection[Any], today: date) -> list[int]:
    """The R8 sweep's due cards, from the one pass over the table that finds every sweep's,
    read 20,000 rows at a time through a cursor on the server, as `deadlines.find_due` reads
    them (`iterator(chunk_size=20_000)`)."""
    due = []
    with conn.cursor(name="due", withhold=conn.autocommit) as cursor:
        cursor.execute(FIND_DUE, {"today": today})
        while rows := cursor.fetchmany(20_000):
            due += [pk for pk, sweep in rows if sweep == "not_activated"]
    due.sort()
    return due


def run(job: Job, workers: int) -> tuple[float, int]:
    """The floor's sweep: (seconds, cards blocked)."""
    start = time.perf_counter()
    with psycopg.connect(job.url, autocommit=True) as conn:
        ids = due_cards(conn, job.today)
    chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    context = get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start, initargs=(job.url,)
    ) as pool:
        moved = sum(pool.map(chunk, [job] * len(chunks), chunks))
    return time.perf_counter() - start, moved
