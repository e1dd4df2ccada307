"""The audit trail's one writer on the configured database (`audit.append`): awkward text
survives COPY and JSON, entries chain after those appended earlier in the same transaction, a
failure leaves none; and a sweep's run looks again for cards a chunk skipped because another
transaction held them."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from ekort.services import audit, deadlines
from ekort.store.models import AuditEntry, Block
from tests import instants as t
from tests.integration import bulk_cards as bulk

pytestmark = pytest.mark.django_db

AWKWARD = 'tab\there, newline\nthere, backslash \\ and "quotes", åäö ✓ \x01'
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


def test_awkward_text_is_stored_as_given_and_the_chain_verifies():
    with transaction.atomic():
        appended = audit.append(
            [
                change(
                    object_id=pk,
                    reason=AWKWARD,
                    before={"state": state},
                    after={"state": "blocked", "card_number": number, "reason": "not_activated"},
                )
                for pk, number, state in ROWS
            ]
        )
    assert appended == 3
    entry = AuditEntry.objects.get(object_id="22")
    assert entry.after["card_number"] == AWKWARD
    assert entry.reason == AWKWARD
    assert AuditEntry.objects.get(object_id="333").after["card_number"] is None
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert audit.verify_trail() == []


def test_entries_chain_after_those_appended_before_in_the_same_transaction():
    with transaction.atomic():
        audit.append([change(object_id="0")])
        audit.append([change(object_id="1"), change(object_id="2")])
        audit.append([])
    entries = AuditEntry.objects.order_by("seq").values_list("seq", "object_id")
    assert list(entries) == [(1, "0"), (2, "1"), (3, "2")]
    assert audit.verify_trail() == []


def _append_then_fail() -> None:
    with transaction.atomic():
        audit.append([change(object_id="1")])
        raise RuntimeError("the change failed after its entries were appended")


def test_a_failure_after_appending_leaves_no_entries():
    with pytest.raises(RuntimeError):
        _append_then_fail()
    assert AuditEntry.objects.count() == 0
    assert audit.verify_trail() == []


@pytest.mark.django_db(transaction=True)
def test_entries_need_the_change_transaction():
    with pytest.raises(RuntimeError):
        audit.append([change(object_id="1")])


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
