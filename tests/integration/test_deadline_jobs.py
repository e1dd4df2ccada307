"""The deadline jobs (R3, R8, expiry) on the configured database: the day boundary in Swedish
local time, the block records and audit entries they leave, idempotence and chunking."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from ekort.domain.errors import Refused
from ekort.services import audit, cards, deadlines
from ekort.store.models import AuditEntry, Block, Card
from tests import factories
from tests import instants as t
from tests.integration import bulk_cards as bulk
from tests.integration.journeys import PASSPORT, sent

pytestmark = pytest.mark.django_db

R3_OVER = t.sthlm(2024, 1, 23)  # the first instant after the last pick-up day (R3)


def changed(results: list[deadlines.SweepResult]) -> dict[str, int]:
    return {result.name: result.changed for result in results}


def awaiting_pickup(world, n: int = 1, deadline: date = date(2024, 1, 22)) -> list[Card]:
    return bulk.cards(
        world.employee,
        world.orderer,
        n,
        state="awaiting_pickup",
        ordered_at=t.RESERVE_ONLY,
        pickup_deadline=deadline,
    )


def sent_inactive(world, n: int = 1, deadline: date = date(2024, 4, 30)) -> list[Card]:
    return bulk.cards(
        world.employee,
        world.orderer,
        n,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=deadline,
    )


def legacy(world, state: str, n: int = 1, last_day: date = date(2024, 1, 22)) -> list[Card]:
    """Cards of the legacy generation in `state`, valid until `last_day` (inclusive)."""
    return bulk.cards(
        world.employee,
        world.orderer,
        n,
        state=state,
        ordered_at=t.LEGACY_COMPANY,
        valid_until=last_day,
    )


def test_r3_card_sent_through_the_services_is_blocked_after_the_last_pickup_day(world):
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    assert (card.state, card.pickup_deadline) == ("awaiting_pickup", date(2024, 1, 22))

    assert changed(deadlines.run_all(t.LAST_PICKUP_DAY_END))["not_collected"] == 0
    card.refresh_from_db()
    assert card.state == "awaiting_pickup"
    assert Block.objects.count() == 0

    assert changed(deadlines.run_all(R3_OVER))["not_collected"] == 1
    card.refresh_from_db()
    assert card.state == "blocked"
    assert card.closed_at == R3_OVER
    block = Block.objects.get(card=card)
    assert (block.reason, block.requested_by, block.registered_at) == (
        "not_collected",
        "job:not_collected",
        R3_OVER,
    )
    [entry] = bulk.audit_entries(card, "block")
    assert entry.actor == "job:not_collected"
    assert entry.before == {"state": "awaiting_pickup"}
    # The block a person makes, by the job: the same facts (cards.blocking.blocked).
    assert entry.after == {
        "state": "blocked",
        "card_number": card.number,
        "closed_at": R3_OVER.isoformat(),
        "reason": "not_collected",
        "requested_by": "job:not_collected",
    }
    assert entry.reason == "Deadline passed (R3)."
    assert audit.verify_trail() == []


def test_r8_card_sent_through_the_services_is_blocked_the_day_after_its_last_day(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)  # sent 2024-01-31
    assert (card.state, card.activation_deadline) == ("sent_inactive", date(2024, 4, 30))

    assert changed(deadlines.run_all(t.sthlm(2024, 4, 30, 23, 59, 59)))["not_activated"] == 0
    card.refresh_from_db()
    assert card.state == "sent_inactive"

    may_first = t.sthlm(2024, 5, 1)
    assert changed(deadlines.run_all(may_first))["not_activated"] == 1
    card.refresh_from_db()
    assert card.state == "blocked"
    assert Block.objects.get(card=card).reason == "not_activated"
    [entry] = bulk.audit_entries(card, "block")
    assert entry.actor == "job:not_activated"
    assert entry.after["reason"] == "not_activated"
    assert entry.reason == "Deadline passed (R8)."
    assert audit.verify_trail() == []


def test_r8_deadline_across_the_spring_dst_switch(world):
    """Sweden moves to summer time (UTC+2) at 02:00 on 2024-03-31. The deadline is a local
    date; the sweep's day boundary is local midnight, 22:00 UTC in summer."""
    other = factories.person(
        given="Sara", family="Svensson", manager=world.manager, unit=world.unit
    )
    after_switch = datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # 03:30 CEST, 2024-03-31
    card = sent(world, "photo", after_switch, after_switch)
    assert card.activation_deadline == date(2024, 6, 30)

    # 22:30 UTC on 2024-03-31 is already 00:30 on 1 April in Stockholm: three months from April.
    late = datetime(2024, 3, 31, 22, 30, tzinfo=UTC)
    ordered = cards.order_cards(
        actor=world.orderer, now=late, orders=[cards.NewOrder(other.pk, "reserve")]
    ).one()
    cards.produce(actor=world.issuer, now=late, card_ids=[ordered.pk]).one()
    april_card = cards.send(actor=world.issuer, now=late, card_ids=[ordered.pk]).one()
    assert april_card.activation_deadline == date(2024, 7, 1)

    just_before = datetime(2024, 6, 30, 21, 59, 59, tzinfo=UTC)  # 23:59:59 CEST on 30 June
    assert changed(deadlines.run_all(just_before))["not_activated"] == 0
    assert bulk.states([card, april_card]) == ["sent_inactive", "sent_inactive"]

    midnight = datetime(2024, 6, 30, 22, 0, tzinfo=UTC)  # 00:00 CEST on 1 July
    assert changed(deadlines.run_all(midnight))["not_activated"] == 1
    assert bulk.states([card, april_card]) == ["blocked", "sent_inactive"]
    assert bulk.block_reason(card) == "not_activated"
    assert audit.verify_trail() == []


def test_r3_boundary_on_many_cards_and_what_is_left_alone(world):
    due = awaiting_pickup(world, 3)
    later_pickup = awaiting_pickup(world, 1, deadline=date(2024, 1, 23))
    not_yet_activated = sent_inactive(world, 2)
    # Handed out in time: the pick-up deadline is still on the card, but it is active.
    handed_out = bulk.cards(
        world.employee,
        world.orderer,
        1,
        state="active",
        ordered_at=t.RESERVE_ONLY,
        pickup_deadline=date(2024, 1, 22),
    )
    lost = bulk.cards(
        world.employee,
        world.orderer,
        1,
        state="blocked",
        ordered_at=t.RESERVE_ONLY,
        pickup_deadline=date(2024, 1, 22),
    )
    entries_before = audit.entry_count()

    assert changed(deadlines.run_all(t.LAST_PICKUP_DAY_END)) == {
        "not_collected": 0,
        "not_activated": 0,
        "expired": 0,
    }
    assert set(bulk.states(due)) == {"awaiting_pickup"}
    assert audit.entry_count() == entries_before

    assert changed(deadlines.run_all(R3_OVER)) == {
        "not_collected": 3,
        "not_activated": 0,
        "expired": 0,
    }
    assert bulk.states(due) == ["blocked"] * 3
    for card in due:
        assert bulk.block_reason(card) == "not_collected"
        assert len(bulk.audit_entries(card, "block")) == 1
    assert bulk.states(later_pickup) == ["awaiting_pickup"]
    assert bulk.states(not_yet_activated) == ["sent_inactive"] * 2
    assert bulk.states(handed_out + lost) == ["active", "blocked"]
    untouched = later_pickup + not_yet_activated + handed_out + lost
    assert not Block.objects.filter(card__in=untouched).exists()
    assert not AuditEntry.objects.filter(
        object_id__in=[str(card.pk) for card in untouched]
    ).exists()
    assert audit.entry_count() == entries_before + 3
    assert audit.verify_trail() == []


def test_r8_boundary_on_a_month_end(world):
    due = sent_inactive(world, 2, deadline=date(2024, 4, 30))
    later = sent_inactive(world, 1, deadline=date(2024, 5, 1))

    assert changed(deadlines.run_all(t.sthlm(2024, 4, 30, 23, 59, 59)))["not_activated"] == 0
    assert changed(deadlines.run_all(t.sthlm(2024, 5, 1)))["not_activated"] == 2
    assert bulk.states(due + later) == ["blocked", "blocked", "sent_inactive"]
    assert [bulk.block_reason(card) for card in due] == ["not_activated"] * 2
    assert audit.verify_trail() == []


def test_expiry_sweep_expires_live_cards_after_their_last_valid_day(world):
    last_day = date(2024, 1, 22)
    expiring = [
        *legacy(world, "active", last_day=last_day),
        *legacy(world, "produced", last_day=last_day),
    ]
    valid_today = legacy(world, "active", last_day=date(2024, 1, 23))
    already_blocked = legacy(world, "blocked", last_day=last_day)

    assert changed(deadlines.run_all(R3_OVER))["expired"] == 2
    assert bulk.states(expiring) == ["expired", "expired"]
    assert bulk.states(valid_today + already_blocked) == ["active", "blocked"]
    assert not Block.objects.exists()  # expiry is not a block
    for card, was in zip(expiring, ["active", "produced"], strict=True):
        [entry] = bulk.audit_entries(card, "expire")
        assert entry.before == {"state": was}
        assert entry.after == {
            "state": "expired",
            "card_number": card.number,
            "closed_at": R3_OVER.isoformat(),
        }
    assert Card.objects.get(pk=expiring[0].pk).closed_at == R3_OVER
    assert audit.verify_trail() == []


def test_a_card_due_under_two_sweeps_is_moved_by_the_first(world):
    # Not activated in time and past its validity too: blocked (R8), as when the sweeps ran
    # one after another, and then no longer live, so not expired as well.
    [card] = bulk.cards(
        world.employee,
        world.orderer,
        1,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=date(2024, 1, 22),
        valid_until=date(2024, 1, 22),
    )

    assert changed(deadlines.run_all(R3_OVER)) == {
        "not_collected": 0,
        "not_activated": 1,
        "expired": 0,
    }
    assert bulk.states([card]) == ["blocked"]
    assert [entry.action for entry in audit.history("card", str(card.pk))] == ["block"]


@pytest.mark.django_db(transaction=True)  # the workers see only what is committed
def test_workers_share_out_the_chunks_and_move_each_due_card_once(world):
    pickup = awaiting_pickup(world, 3)
    activation = sent_inactive(world, 4, deadline=date(2024, 1, 22))
    expiring = legacy(world, "active", 2)
    not_due = sent_inactive(world, 1)
    out = io.StringIO()

    call_command(
        "jobs", "run", "--at", R3_OVER.isoformat(), "--chunk", "2", "--workers", "2",
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip

    text = out.getvalue()
    for name, rule, n in (("not_collected", "R3", 3), ("not_activated", "R8", 4)):
        assert re.search(rf"^\s+{name}\s+{rule}\s+{n} cards$", text, re.MULTILINE), text
    assert re.search(r"^\s+expired\s+validity\s+2 cards$", text, re.MULTILINE), text
    assert bulk.states(pickup + activation) == ["blocked"] * 7
    assert bulk.states(expiring + not_due) == ["expired", "expired", "sent_inactive"]
    assert Block.objects.count() == 7
    for card in pickup + activation + expiring:
        assert len(audit.history("card", str(card.pk))) == 1
    assert audit.verify_trail() == []  # one chain, whichever worker appended first


def test_running_twice_changes_nothing_the_second_time(world):
    sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    awaiting_pickup(world, 2)
    sent_inactive(world, 2, deadline=date(2024, 1, 22))
    legacy(world, "active")

    first = changed(deadlines.run_all(R3_OVER))
    assert first == {"not_collected": 3, "not_activated": 2, "expired": 1}
    blocks, entries = Block.objects.count(), audit.entry_count()
    head = list(AuditEntry.objects.order_by("seq").values_list("seq", "mac"))

    second = changed(deadlines.run_all(R3_OVER))
    later = changed(deadlines.run_all(t.sthlm(2024, 2, 1)))
    assert second == later == {"not_collected": 0, "not_activated": 0, "expired": 0}
    assert Block.objects.count() == blocks == 5
    assert audit.entry_count() == entries
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "mac")) == head
    assert audit.verify_trail() == []


def test_chunks_of_two_take_five_cards_in_three_transactions(world):
    due = awaiting_pickup(world, 5)
    calls: list[tuple[str, int, int]] = []

    results = deadlines.run_all(R3_OVER, chunk=2, progress=lambda *call: calls.append(call))

    assert changed(results) == {"not_collected": 5, "not_activated": 0, "expired": 0}
    assert calls == [("not_collected", 2, 5), ("not_collected", 4, 5), ("not_collected", 5, 5)]
    assert bulk.states(due) == ["blocked"] * 5
    assert Block.objects.filter(card__in=due, reason="not_collected").count() == 5
    seqs = list(AuditEntry.objects.filter(action="block").values_list("seq", flat=True))
    assert len(seqs) == 5 and seqs == sorted(seqs)
    assert audit.verify_trail() == []


def test_a_blocked_card_cannot_be_activated_afterwards(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    deadlines.run_all(t.sthlm(2024, 5, 1))
    with pytest.raises(Refused) as refused:
        cards.activate(
            actor=world.id_admin,
            now=t.sthlm(2024, 5, 1, 10),
            activations={card.pk: cards.Activation(PASSPORT, "402918")},
        ).one()
    assert refused.value.rule == "E1"
    assert "blocked" in refused.value.en
