"""On PostgreSQL the deadline sweeps revoke certificates in place (migration 0008): no index
holds a column a revocation sets, so each new row version stays on its page and no index gets
an entry for it (a HOT update), and the table leaves room on its pages for those versions. An
index on the certificate's status, say, would make every revocation rewrite all the indexes
again, most of a million-card sweep's certificate work."""

from __future__ import annotations

import pytest
from django.db import connection

from ekort.services import deadlines
from ekort.store.models import Certificate
from tests import instants as t
from tests.integration.journeys import sent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's HOT updates"),
]

MAY_FIRST = t.sthlm(2024, 5, 1)


def certificate_updates() -> tuple[int, int]:
    """Row updates of the certificate table in this transaction: all of them, and how many
    of those were HOT (the test runs in one transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relname = 'ekort_certificate'"
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def test_the_r8_sweep_revokes_certificates_without_touching_their_indexes(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    updated, hot = certificate_updates()

    assert {r.name: r.changed for r in deadlines.run_all(MAY_FIRST)}["not_activated"] == 1

    assert Certificate.objects.get(card=card).status == Certificate.Status.REVOKED
    assert certificate_updates() == (updated + 1, hot + 1)


def test_certificate_pages_leave_room_for_the_new_row_versions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'ekort_certificate'")
        (options,) = cursor.fetchone()
    assert "fillfactor=50" in (options or [])
