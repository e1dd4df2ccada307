"""The set-based sweep's parts on the configured database: audit entries written in bulk
(`audit.append_alike`) are the entries `append_many` writes, rendered while the database works
and chained after whatever that work wrote; rows written in bulk survive awkward text; and a
run looks again for cards a chunk skipped because another transaction held them."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from ekort.domain.audit_chain import Slot
from ekort.services import audit, deadlines
from ekort.store.models import AuditEntry, AuditHead, Block
from tests import instants as t
from tests.integration import bulk_cards as bulk

pytestmark = pytest.mark.django_db

AWKWARD = 'tab\there, newline\nthere, backslash \\ and "quotes", åäö ✓'
AT = t.sthlm(2024, 5, 1)


def change(**fields) -> audit.Change:
    base = {
        "actor": "job:test",
        "action": "block",
        "object_type": "card",
        "object_id": "",
        "at": AT,
        "reason": "R8: deadline passed",
        "before": {"state": "sent_inactive"},
        "after": {"state": "blocked", "reason": "not_activated"},
    }
    return audit.Change(**{**base, **fields})


ROWS = [("1", "9752 0001", "sent_inactive"), ("22", AWKWARD, "active"), ("333", None, "produced")]


def written() -> list[tuple]:
    return list(
        AuditEntry.objects.order_by("seq").values_list(
            "seq", "object_id", "before", "after", "prev_mac", "mac"
        )
    )


def test_entries_alike_are_the_entries_append_many_writes():
    with transaction.atomic():
        audit.append_many(
            change(
                object_id=pk,
                before={"state": state},
                after={"state": "blocked", "card_number": number, "reason": "not_activated"},
            )
            for pk, number, state in ROWS
        )
        one_by_one = written()
        transaction.set_rollback(True)
    assert AuditEntry.objects.count() == 0

    ran = []
    with transaction.atomic():
        audit.append_alike(
            change(
                before={"state": Slot(2)},
                after={"state": "blocked", "card_number": Slot(1), "reason": "not_activated"},
            ),
            ROWS,
            object_id=Slot(0),
            meanwhile=lambda: ran.append(AuditHead.objects.count()),
        )

    assert ran == [0]  # called once, before the head was first locked (and so made)
    assert written() == one_by_one
    assert AuditEntry.objects.get(object_id="22").after["card_number"] == AWKWARD
    assert audit.verify_trail() == []


def test_entries_alike_follow_the_entries_their_change_wrote_meanwhile():
    # The head is locked after `meanwhile`: whatever it appended comes first in the chain.
    with transaction.atomic():
        audit.record(change(object_id="0"))
        audit.append_alike(
            change(),
            [("1",), ("2",)],
            object_id=Slot(0),
            meanwhile=lambda: audit.record(change(object_id="meanwhile")),
        )

    entries = AuditEntry.objects.order_by("seq").values_list("seq", "object_id")
    assert list(entries) == [(1, "0"), (2, "meanwhile"), (3, "1"), (4, "2")]
    assert audit.verify_trail() == []


def test_a_failing_meanwhile_leaves_no_entries():
    def fail() -> None:
        raise RuntimeError("the database work failed")

    with pytest.raises(RuntimeError), transaction.atomic():
        audit.append_alike(change(), [("1",)], object_id=Slot(0), meanwhile=fail)
    assert AuditEntry.objects.count() == 0
    assert audit.verify_trail() == []


@pytest.mark.django_db(transaction=True)
def test_entries_alike_need_the_change_transaction():
    with pytest.raises(RuntimeError):
        audit.append_alike(change(), [("1",)], object_id=Slot(0))


def test_a_card_skipped_by_a_chunk_is_found_by_the_second_pass(world):
    due = bulk.cards(
        world.employee,
        world.orderer,
        6,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=date(2024, 4, 30),
    )
    skipped, given = due[0].pk, []

    def skip_once(sweep, chunks, now):
        # As FOR UPDATE SKIP LOCKED does while another transaction holds the card.
        for ids in chunks:
            given.append(list(ids))
            if len(given) == 1:
                ids = [pk for pk in ids if pk != skipped]
            yield deadlines.sweep_chunk(sweep, ids, now)

    results = deadlines.run_all(AT, chunk=2, run_chunks=skip_once)

    assert given == [[c.pk for c in due[i : i + 2]] for i in (0, 2, 4)] + [[skipped]]
    assert {r.name: r.changed for r in results}["not_activated"] == 6
    assert bulk.states(due) == ["blocked"] * 6
    assert Block.objects.filter(reason="not_activated").count() == 6
    assert audit.verify_trail() == []
