"""The deadline sweep's work (see bench.sweep): the "not activated within three months" job
(R8) over a million cards on PostgreSQL (100,000 on SQLite; 20,000 with --quick), with its
block records, audit entries and certificate revocations. Target: under 20 seconds on
PostgreSQL.

The cards are generated in bulk (`bench.population`): each is sent, inactive, past its
activation deadline, with an on-hold authentication certificate (and, as after production, no
stored OCSP response for it), so the sweep does all its real work. It runs through
`deadlines.run_all` with its chunks in one worker process per core on PostgreSQL, as `ekort
jobs run --workers W` runs it (in this process on SQLite, which has one writer at a time).
The command's second half, `status.publish_due` (the CRL, OCSP responses for the revoked
certificates), is timed on its own. Then everything is checked: each card blocked, one block
record and one audit entry per card, each certificate revoked with a fresh OCSP response, and
the audit chain verifies.

On PostgreSQL the sweep is put beside its bare-SQL floor (`bench.sweep_floor`: the same
statements from psycopg, no Django), run first on a file copy of the same generated database
(`CREATE DATABASE ... TEMPLATE`), so both do the same work on the same pages; a checkpoint
before each, and the copy dropped before the sweep runs. The floor's work is checked too
(counts, a run of its audit chain recomputed, an entry compared with the sweep's for the same
card). Target: the sweep within 1.25 times the floor.
"""

from __future__ import annotations

import resource
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, connections

from ekort.cli.workers import sweeps_in_workers
from ekort.domain.audit_chain import entry_mac
from ekort.domain.timekeeping import STOCKHOLM, local_date
from ekort.services import audit, deadlines
from ekort.services.ca import authority, status
from ekort.store.models import AuditEntry, Block, Card, Certificate, OcspResponse

from . import sweep_floor
from .__main__ import copy_name, database_url, postgres_admin_url
from .core import POSTGRES, Context, Result, Target, stopwatch, usable_cores
from .population import Cards, generate

SENT_AT = datetime(2024, 1, 31, 10, 0, tzinfo=STOCKHOLM)
LAST_DAY = date(2024, 4, 30)  # the activation deadline: the last day to activate (R8)
SWEEP_AT = datetime(2024, 5, 1, 0, 5, tzinfo=STOCKHOLM)
PUBLISH_LIMIT = 100_000
TARGET = Target("<=", 20.0, "under 20 s for 1,000,000 cards on PostgreSQL")
RATE_TARGET = Target(">=", 50_000.0, "at least 50,000 cards/s (1,000,000 in 20 s)")
FLOOR_TARGET = Target("<=", 1.25, "at most 1.25 × the floor")
CHAIN_SAMPLE = 2000  # the floor's newest entries whose MACs are recomputed


def size(ctx: Context) -> int:
    if ctx.quick:
        return 20_000
    return 1_000_000 if ctx.database == POSTGRES else 100_000


def populate(count: int) -> tuple[int, float]:
    """The CA hierarchy and `count` due cards; returns the first card's pk and the seconds."""
    authority.init_hierarchy(now=SENT_AT - timedelta(days=30))
    ca = authority.issuing_ca("3")
    orderer = User.objects.create_user("bench-orderer", password=None)
    with stopwatch() as took:
        generated = generate(
            Cards(
                count=count,
                state="sent_inactive",
                ordered_by_id=orderer.pk,
                prefix=settings.EKORT_CARD_NUMBER_PREFIX,
                at=SENT_AT,
                valid_until=date(2029, 1, 31),
                activation_deadline=LAST_DAY,
                issuer_id=ca.pk,  # no stored response: none is signed for one on hold
            )
        )
    return generated.first_card, took[0]


def check(first_card: int, count: int, *, resigned: bool = True) -> list[str]:
    """What is wrong after the sweep; empty when every guarantee holds."""
    cards = Card.objects.filter(pk__gte=first_card, pk__lt=first_card + count)
    problems = []
    blocked = cards.filter(state="blocked", closed_at=SWEEP_AT).count()
    if blocked != count:
        problems.append(f"{count - blocked} cards not blocked")
    blocks = Block.objects.filter(card__in=cards, reason="not_activated").count()
    if blocks != count:
        problems.append(f"{blocks} block records for {count} cards")
    entries = AuditEntry.objects.filter(action="block", actor="job:not_activated").count()
    if entries != count:
        problems.append(f"{entries} audit entries for {count} cards")
    certificates = Certificate.objects.filter(card__in=cards)
    revoked = certificates.filter(status="revoked", revoked_at=SWEEP_AT).count()
    if revoked != count:
        problems.append(f"{count - revoked} certificates not revoked")
    fresh = OcspResponse.objects.filter(this_update=SWEEP_AT).count()
    if resigned and fresh != count:
        problems.append(f"{fresh} fresh OCSP responses for {count} revoked certificates")
    return problems


def _admin(statement: str) -> None:
    with psycopg.connect(postgres_admin_url(), autocommit=True) as admin:
        admin.execute(statement)


def _checkpoint() -> None:
    """Write out what earlier work left dirty, so that a timed run does not pay for it."""
    _admin("CHECKPOINT")


def check_floor(url: str, first_card: int, count: int) -> list[str]:
    """What is wrong after the floor's run (see `check`); and its newest entries' chain."""
    last = first_card + count
    problems = []
    with psycopg.connect(url) as conn:

        def number(sql: str, *params: Any) -> int:
            row = conn.execute(sql, params).fetchone()
            return int(row[0]) if row else -1

        counts = {
            "cards blocked": number(
                "SELECT count(*) FROM ekort_card WHERE id >= %s AND id < %s"
                " AND state = 'blocked' AND closed_at = %s",
                first_card,
                last,
                SWEEP_AT,
            ),
            "block records": number(
                "SELECT count(*) FROM ekort_block WHERE reason = 'not_activated'"
            ),
            "audit entries": number(
                "SELECT count(*) FROM ekort_auditentry WHERE actor = 'job:not_activated'"
            ),
            "certificates revoked": number(
                "SELECT count(*) FROM ekort_certificate WHERE status = 'revoked'"
                " AND revoked_at = %s AND revocation_reason = 'cessation_of_operation'",
                SWEEP_AT,
            ),
        }
        problems += [
            f"floor: {n:,} {what} for {count:,} cards" for what, n in counts.items() if n != count
        ]
        head = conn.execute("SELECT seq, mac FROM ekort_audithead WHERE id = 1").fetchone()
        rows = conn.execute(
            "SELECT seq, at, actor, action, object_type, object_id, reason, before, after,"
            " prev_mac, mac FROM ekort_auditentry WHERE seq > %s ORDER BY seq",
            (head[0] - CHAIN_SAMPLE,) if head else (0,),
        ).fetchall()
    key = settings.EKORT_AUDIT_KEY.encode()
    keys = ("seq", "at", "actor", "action", "object_type", "object_id", "reason", "before", "after")
    prev = rows[0][9] if rows else ""
    for row in rows:
        if row[9] != prev or row[10] != entry_mac(key, row[9], dict(zip(keys, row, strict=False))):
            problems.append(f"floor: audit entry {row[0]} does not verify")
            break
        prev = row[10]
    if not head or not rows or (rows[-1][0], rows[-1][10]) != tuple(head):
        problems.append("floor: the audit head is not the last entry")
    return problems


def floor_entry(url: str, card_id: int) -> dict[str, Any]:
    """The floor's audit entry for a card, as `_entry` gives the sweep's."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT at, actor, action, object_type, reason, before, after FROM ekort_auditentry"
            " WHERE object_type = 'card' AND object_id = %s",
            (str(card_id),),
        ).fetchone()
    return dict(zip(ENTRY_FIELDS, row or (), strict=False))


ENTRY_FIELDS = ("at", "actor", "action", "object_type", "reason", "before", "after")


def _entry(card_id: int) -> dict[str, Any]:
    return AuditEntry.objects.filter(object_type="card", object_id=str(card_id)).values(
        *ENTRY_FIELDS
    )[0]


def children_cpu() -> float:
    """The CPU seconds of this process's ended children (the worker processes, once their
    pool has shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_floor(first_card: int, count: int, workers: int) -> tuple[float, float, dict[str, Any]]:
    """The bare-SQL floor on a copy of this database: its seconds, its workers' CPU seconds,
    and its audit entry for the first card (for comparing with the sweep's). The copy is
    dropped before this returns."""
    name = str(connection.settings_dict["NAME"])
    copy = copy_name(name)
    connections.close_all()  # a database with sessions cannot be a template
    _admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    # FILE_COPY: the copy is the same files, page for page (WAL_LOG would rewrite them).
    _admin(f'CREATE DATABASE "{copy}" TEMPLATE "{name}" STRATEGY FILE_COPY')
    try:
        url = database_url(copy)
        _checkpoint()
        job = sweep_floor.Job(
            url=url,
            now=SWEEP_AT,
            today=local_date(SWEEP_AT),
            key=settings.EKORT_AUDIT_KEY.encode(),
        )
        cpu = children_cpu()
        seconds, moved = sweep_floor.run(job, workers)
        cpu = children_cpu() - cpu
        problems = check_floor(url, first_card, count)
        if moved != count:
            problems.insert(0, f"the floor blocked {moved:,} of {count:,} cards")
        if problems:
            raise AssertionError("; ".join(problems))
        entry = floor_entry(url, first_card)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    return seconds, cpu, entry


def run(ctx: Context) -> list[Result]:
    count = size(ctx)
    first_card, generating = populate(count)
    workers = usable_cores() if ctx.database == POSTGRES else 1
    floor: float | None = None
    if ctx.database == POSTGRES:
        floor, floor_cpu, floors_entry = run_floor(first_card, count, workers)
        _checkpoint()
    sweep_cpu = children_cpu()
    with stopwatch() as swept:
        if workers == 1:
            results = deadlines.run_all(SWEEP_AT)
        else:
            with sweeps_in_workers(workers) as run_chunks:
                results = deadlines.run_all(SWEEP_AT, run_chunks=run_chunks)
    sweep_cpu = children_cpu() - sweep_cpu
    changed = {r.name: r.changed for r in results}
    # Re-signing every response (the publisher's half of `ekort jobs run`) signs one OCSP
    # response per card: about 3,000 a second here, too long for the suite's budget at a
    # million. It is timed up to PUBLISH_LIMIT cards; above, the fresh-response check is skipped.
    published = [float("nan")]
    if count <= PUBLISH_LIMIT:
        with stopwatch() as published:
            status.publish_due(SWEEP_AT)
    problems = check(first_card, count, resigned=count <= PUBLISH_LIMIT)
    if changed["not_activated"] != count:
        problems.insert(0, f"the sweep changed {changed['not_activated']} of {count} cards")
    with stopwatch() as verifying:
        findings = audit.verify_trail()
    if findings:
        problems.append(f"audit verify: {len(findings)} findings, first {findings[0]}")
    if floor is not None and floors_entry != _entry(first_card):
        problems.append(f"the floor's audit entry {floors_entry} is not the sweep's")
    if problems:
        raise AssertionError("; ".join(problems))
    seconds = swept[0]
    scale = "" if ctx.database == POSTGRES and not ctx.quick else f" ({count:,} cards)"
    notes = (
        f"{count:,} cards generated in {generating:.1f} s ({connection.vendor}); "
        + (
            f"then `ekort jobs run`'s publish_due (re-signing the revoked certificates' OCSP "
            f"responses, CRL) took {published[0]:.1f} s; "
            if count <= PUBLISH_LIMIT
            else "publish_due not run (re-signs one OCSP response per card); "
        )
        + f"checked: all blocked, {count:,} blocks, audit entries and revoked certificates"
        + (" with fresh OCSP responses" if count <= PUBLISH_LIMIT else "")
        + f"; `audit verify` passed in {verifying[0]:.1f} s"
    )
    full = ctx.database == POSTGRES and not ctx.quick
    figures = [
        Result(
            benchmark="sweep",
            metric=f"R8 sweep{scale}",
            value=seconds,
            unit="s",
            ratio=None if floor is None else seconds / floor,
            ratio_to="the bare-SQL floor, same data, same run",
            target=TARGET if full else None,
            notes=notes,
        ),
        Result(
            benchmark="sweep",
            metric=f"R8 sweep rate{scale}",
            value=count / seconds,
            unit="cards/s",
            target=RATE_TARGET if full else None,
        ),
    ]
    if floor is not None:
        figures += [
            Result(
                benchmark="sweep",
                metric=f"bare-SQL floor, {workers} sessions{scale}",
                value=floor,
                unit="s",
                notes=(
                    "bench/sweep_floor.py: the sweep's statements from psycopg without Django, "
                    "on a file copy of the same generated database, run just before the sweep; "
                    f"checked: counts, the newest {CHAIN_SAMPLE:,} audit MACs, an entry alike "
                    f"the sweep's; the {workers} worker processes' own CPU: floor "
                    f"{floor_cpu:.1f} s, sweep {sweep_cpu:.1f} s (their database sessions' "
                    "not counted)"
                ),
            ),
            Result(
                benchmark="sweep",
                metric=f"R8 sweep ÷ bare-SQL floor{scale}",
                value=seconds / floor,
                unit="×",
                target=FLOOR_TARGET if not ctx.quick else None,
            ),
        ]
    return figures
