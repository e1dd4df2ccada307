"""On PostgreSQL the deadline sweeps block cards and revoke certificates in place (migrations
0008 and 0009): no index holds a column a sweep sets, so each new row version stays on its page
and no index gets an entry for it (a HOT update), and both tables leave room on their pages for
those versions. An index on the card's state or the certificate's status, say (or one whose
condition names it), would make every such update add an entry to all the table's indexes
again: most of a million-card sweep's card and certificate work."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from ekort.services import deadlines
from ekort.store.models import Block, Certificate
from tests import instants as t
from tests.integration.journeys import sent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's HOT updates"),
]

MAY_FIRST = t.sthlm(2024, 5, 1)


def updates(table: str) -> tuple[int, int]:
    """Row updates of `table` in this transaction: all of them, and how many of those were
    HOT (the test runs in one transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [table],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def test_the_r8_sweep_blocks_cards_and_revokes_certificates_without_touching_indexes(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cards_before, certificates_before = updates("ekort_card"), updates("ekort_certificate")

    assert {r.name: r.changed for r in deadlines.run_all(MAY_FIRST)}["not_activated"] == 1

    card.refresh_from_db()
    assert card.state == "blocked"
    assert Certificate.objects.get(card=card).status == Certificate.Status.REVOKED
    for table, (updated, hot) in (
        ("ekort_card", cards_before),
        ("ekort_certificate", certificates_before),
    ):
        assert updates(table) == (updated + 1, hot + 1), table


@pytest.mark.parametrize("table", ["ekort_card", "ekort_certificate"])
def test_pages_leave_room_for_the_new_row_versions(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
        (options,) = cursor.fetchone()
    assert "fillfactor=50" in (options or [])


def test_a_sweep_leaves_foreign_keys_checked_at_commit_as_django_declares_them(world):
    # A chunk checks its block records' foreign keys at once, then defers them again: later
    # work in the same transaction (here the test's) is checked at commit, as everywhere else.
    sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    assert {r.name: r.changed for r in deadlines.run_all(MAY_FIRST)}["not_activated"] == 1
    with transaction.atomic():
        Block.objects.create(
            card_id=10**12, reason="lost", requested_by="test", registered_at=MAY_FIRST
        )  # no such card: an immediate check would refuse this statement
        transaction.set_rollback(True)
