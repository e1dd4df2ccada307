"""The set-based sweep's parts on the configured database: audit entries written in bulk
(`audit.append_alike`) are the entries `append_many` writes, computed while the database works;
rows written in bulk survive awkward text; and a sweep taking cards in (deadline, id) order
still finds cards that a concurrent run skipped and gave back."""

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
            meanwhile=lambda: ran.append(AuditHead.objects.select_for_update().get().seq),
        )

    assert ran == [0]  # called once, with the head already locked and not yet moved
    assert written() == one_by_one
    assert AuditEntry.objects.get(object_id="22").after["card_number"] == AWKWARD
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


def test_a_card_skipped_by_a_chunk_is_found_by_the_pass_from_the_start(world, monkeypatch):
    # Deadlines out of id order, so that the (deadline, id) order is not the id order.
    late = bulk.cards(
        world.employee,
        world.orderer,
        3,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=date(2024, 4, 30),
    )
    early = bulk.cards(
        world.employee,
        world.orderer,
        3,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=date(2024, 4, 1),
    )
    take, skipped = deadlines._take, early[0].pk

    def take_but_skip_once(sweep, today, chunk, after):
        # As FOR UPDATE SKIP LOCKED does while another run holds the card, which that run
        # then gives back by rolling back.
        rows = take(sweep, today, chunk, after)
        if after is None and any(row[0] == skipped for row in rows):
            monkeypatch.setattr(deadlines, "_take", take)
            return [row for row in rows if row[0] != skipped]
        return rows

    monkeypatch.setattr(deadlines, "_take", take_but_skip_once)
    result = deadlines.run_sweep(deadlines.SWEEPS[1], AT, chunk=2)

    assert result.changed == 6
    assert bulk.states(early + late) == ["blocked"] * 6
    assert Block.objects.filter(reason="not_activated").count() == 6
    assert audit.verify_trail() == []
