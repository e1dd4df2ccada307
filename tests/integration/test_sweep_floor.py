"""The sweep benchmark puts the R8 sweep beside its bare-SQL floor (bench/sweep_floor.py): the
statements a sweep sends, from psycopg without Django. Here the floor is held to that: for the
same kind of chunk it sends the statements `deadlines.sweep_chunk` sends, in the same order,
and leaves the same block records, card and audit entries (the chain verifies)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection

from bench import sweep_floor
from ekort.domain.timekeeping import local_date
from ekort.services import audit, deadlines
from ekort.services.ca import authority
from ekort.store.models import AuditEntry, Block, Card, Certificate
from tests import instants as t
from tests.integration import bulk_cards as bulk

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the floor is PostgreSQL's"),
]

MAY_FIRST = t.sthlm(2024, 5, 1)
R8 = deadlines.SWEEPS[1]
# What a trace line's statement starts with, for the messages that carry one.
STATEMENT = re.compile(r"\tF\t\d+\t(?:Query|Parse)\t (?:\"\" )?\"(.*)$")
TRANSACTION = {"begin", "commit", "savepoint", "release"}


def shape(sql: str) -> str:
    """A statement without its names' quotes, values and conditions: the verb, the table and
    what it locks."""
    sql = sql.replace('\\"', "").replace('"', "").lower()
    verb = sql.split()[0]
    if verb in {"set", "fetch", "close"}:
        return " ".join(sql.split()[:3] if verb == "set" else [verb])
    table = re.search(r"\b(?:from|into|update|copy)\s+(ekort_\w+)", sql)
    locks = [words for words in ("for update", "skip locked") if words in sql]
    return " ".join([verb, table.group(1) if table else "?", *locks])


def statements(run: Callable[[], object]) -> list[str]:
    """The shapes of the statements `run` sends on the test's connection, transaction control
    aside (the test's transaction makes savepoints of both sides' transactions)."""
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        try:
            run()
        finally:
            pgconn.untrace()
        trace.seek(0)
        found = [m.group(1) for m in map(STATEMENT.search, trace) if m]
    shapes = [shape(sql) for sql in found]
    return [s for s in shapes if s.split()[0] not in TRANSACTION]


def due_cards(world, n: int) -> list[int]:
    """`n` cards past their activation deadline, each with its certificate on hold."""
    made = bulk.cards(
        world.employee,
        world.orderer,
        n,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=date(2024, 4, 30),
    )
    issuer = authority.issuing_ca("3")
    Certificate.objects.bulk_create(
        Certificate(
            card=card,
            issuer=issuer,
            profile="auth",
            serial=format(0x7E00_0000 + card.pk, "x"),
            subject=f"CN=card {card.pk}",
            not_before=t.NEW_PROCESS,
            not_after=t.NEW_PROCESS + timedelta(days=1000),
            der=b"\x30\x00",
            status="on_hold",
            status_changed_at=t.NEW_PROCESS,
        )
        for card in made
    )
    return [card.pk for card in made]


def certificate_of(card_id: int) -> tuple:
    return Certificate.objects.values_list(
        "issuer_id", "status", "status_changed_at", "revoked_at", "revocation_reason"
    ).get(card_id=card_id)


def entry_of(card_id: int) -> dict:
    entry = AuditEntry.objects.get(object_type="card", object_id=str(card_id))
    return {
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "reason": entry.reason,
        "before": entry.before,
        "after": {k: v for k, v in entry.after.items() if k != "card_number"},
    }


def test_the_floor_sends_a_sweep_chunks_statements_and_leaves_its_rows(world, monkeypatch):
    swept, floored = due_cards(world, 3), due_cards(world, 3)
    connection.ensure_connection()
    monkeypatch.setattr(sweep_floor, "_connection", connection.connection)
    job = sweep_floor.Job(
        url="", now=MAY_FIRST, today=local_date(MAY_FIRST), key=settings.EKORT_AUDIT_KEY.encode()
    )

    sweep_finds = statements(lambda: deadlines.find_due(MAY_FIRST))
    floor_finds = statements(lambda: sweep_floor.due_cards(connection.connection, job.today))
    issuer = authority.issuing_ca("3")
    revision = issuer.status_revision
    sweep_sends = statements(lambda: deadlines.sweep_chunk(R8, swept, MAY_FIRST))
    issuer.refresh_from_db()
    assert issuer.status_revision == revision + 1
    floor_sends = statements(lambda: sweep_floor.chunk(job, floored))
    issuer.refresh_from_db()
    assert issuer.status_revision == revision + 2

    assert floor_finds == sweep_finds
    assert sweep_sends == [
        "select ekort_card for update skip locked",
        "set constraints all",
        "insert ekort_block",
        "set constraints all",
        "update ekort_card",
        "select ekort_certificate",
        "update ekort_certificate",
        "select ekort_certificateauthority for update",
        "update ekort_certificateauthority",
        "update ekort_letter",
        "select ekort_audithead for update",
        "copy ekort_auditentry",
        "update ekort_audithead",
    ]
    assert floor_sends == sweep_sends
    for one, other in zip(swept, floored, strict=True):
        assert Card.objects.get(pk=other).state == Card.objects.get(pk=one).state == "blocked"
        assert certificate_of(other) == certificate_of(one)
        assert entry_of(other) == entry_of(one)
        block, floors = Block.objects.get(card_id=one), Block.objects.get(card_id=other)
        assert (floors.reason, floors.requested_by, floors.note, floors.registered_at) == (
            block.reason,
            block.requested_by,
            block.note,
            block.registered_at,
        )
        assert AuditEntry.objects.get(object_id=str(other)).after["card_number"] == (
            Card.objects.get(pk=other).number
        )
    assert audit.verify_trail() == []
