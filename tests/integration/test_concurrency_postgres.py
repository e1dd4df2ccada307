"""Races, on a real database with real transactions: two ID administrators activating the same
card at once, two deadline sweeps overlapping, and PostgreSQL's append-only triggers.

Each thread gets its own database connection and closes it when it is done. The SQLite
variant of the overlapping sweeps checks that IMMEDIATE transactions take turns instead of
failing with "database is locked".
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ekort.domain.errors import Refused
from ekort.services import audit, cards, deadlines
from ekort.store.models import AuditEntry, Block, Card, IdentityCheck
from tests import instants as t
from tests.integration import bulk_cards as bulk
from tests.integration.journeys import PASSPORT, sent

ON_POSTGRES = connection.vendor == "postgresql"

needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL")

R3_OVER = t.sthlm(2024, 1, 23)


def run_together(*jobs: Callable[[], Any], timeout: float = 60) -> list[tuple[str, Any]]:
    """Start every job in its own thread at the same instant; each result is ("ok", value)
    or ("error", exception), in the jobs' order."""
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, Any]] = [("error", RuntimeError("did not finish"))] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", job())
        except BaseException as error:
            results[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread is still running: deadlock?"
    return results


class SlowChip:
    """A chip that takes its time to set the PIN, so that a second activation arrives while the
    first still holds the card's lock."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def set_pin(self, card_number: str, pin: str) -> None:
        self.calls.append((card_number, time.monotonic()))
        time.sleep(0.3)

    def unlock_pin(self, card_number: str, new_pin: str) -> None:
        raise AssertionError("not part of activation")


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_id_admins_activate_the_same_card_at_once(world):
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    assert card.state == "sent_inactive"
    chip = SlowChip()
    now = t.sthlm(2024, 2, 15, 10)
    finished: dict[str, float] = {}

    def activate_as(admin):
        def job() -> Card:
            try:
                return cards.activate(
                    actor=admin,
                    now=now,
                    chip=chip,
                    activations={card.pk: cards.Activation(PASSPORT, "402918")},
                ).one()
            finally:
                finished[admin.username] = time.monotonic()

        return job

    results = run_together(activate_as(world.id_admin), activate_as(world.id_admin_2))

    outcomes = Counter(kind for kind, _ in results)
    assert outcomes == {"ok": 1, "error": 1}, results
    [(_, winner)] = [r for r in results if r[0] == "ok"]
    [(_, error)] = [r for r in results if r[0] == "error"]
    assert isinstance(error, Refused), repr(error)
    assert error.rule == "E1"
    assert "The card is already active" in error.en
    assert "Kortet är redan aktivt." in error.sv
    assert winner.state == "active"

    # The PIN was set once, and the loser waited for the winner's lock instead of racing it.
    assert len(chip.calls) == 1
    loser = next(
        admin for admin in ("idadmin", "idadmin2") if admin != winner.activated_by.username
    )
    assert finished[loser] - chip.calls[0][1] >= 0.25

    card.refresh_from_db()
    assert card.state == "active"
    assert IdentityCheck.objects.filter(card=card).count() == 1
    assert AuditEntry.objects.filter(object_id=str(card.pk), action="activate").count() == 1
    assert audit.verify_trail() == []


def _overlapping_sweeps(world, per_rule: int) -> None:
    due = [
        *bulk.cards(
            world.employee,
            world.orderer,
            per_rule,
            state="awaiting_pickup",
            ordered_at=t.RESERVE_ONLY,
            pickup_deadline=date(2024, 1, 22),
        ),
        *bulk.cards(
            world.employee,
            world.orderer,
            per_rule,
            state="sent_inactive",
            ordered_at=t.NEW_PROCESS,
            activation_deadline=date(2024, 1, 22),
        ),
    ]
    not_due = bulk.cards(
        world.employee,
        world.orderer,
        5,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=date(2024, 1, 23),
    )

    results = run_together(
        lambda: deadlines.run_all(R3_OVER, chunk=20), lambda: deadlines.run_all(R3_OVER, chunk=20)
    )

    for kind, value in results:
        assert kind == "ok", repr(value)
    totals: Counter[str] = Counter()
    for _, sweep_results in results:
        for result in sweep_results:
            totals[result.name] += result.changed
    assert totals == {"not_collected": per_rule, "not_activated": per_rule, "expired": 0}

    assert Block.objects.count() == len(due)
    assert set(bulk.states(due)) == {"blocked"}
    assert set(bulk.states(not_due)) == {"sent_inactive"}
    per_card = Counter(
        AuditEntry.objects.filter(action="block").values_list("object_id", flat=True)
    )
    assert per_card == {str(card.pk): 1 for card in due}
    assert audit.entry_count() == len(due) + AuditEntry.objects.filter(action="ca_init").count()
    assert audit.verify_trail() == []

    # A third run finds nothing left.
    assert sum(r.changed for r in deadlines.run_all(R3_OVER, chunk=20)) == 0


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_sweeps_block_every_due_card_once_postgres(world):
    _overlapping_sweeps(world, per_rule=150)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite variant")
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_sweeps_take_turns_on_sqlite(world):
    _overlapping_sweeps(world, per_rule=150)


def _raw(sql: str, params: tuple[Any, ...] = ()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_triggers_refuse_rewriting_the_audit_trail_and_recent_blocks(world):
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    deadlines.run_all(R3_OVER)
    block = Block.objects.get(card=card)
    entries = audit.entry_count()
    seq = AuditEntry.objects.order_by("seq").values_list("seq", flat=True).first()

    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE ekort_auditentry SET actor = 'someone else' WHERE seq = %s", (seq,))
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM ekort_auditentry WHERE seq = %s", (seq,))
    with pytest.raises(DatabaseError, match="kept at least ten years"):
        _raw("DELETE FROM ekort_block WHERE id = %s", (block.pk,))
    with pytest.raises(DatabaseError, match="kept at least ten years"):
        _raw("UPDATE ekort_block SET reason = 'lost' WHERE id = %s", (block.pk,))

    assert audit.entry_count() == entries
    assert Block.objects.get(card=card).reason == "not_collected"
    assert audit.verify_trail() == []

    # Past the ten years, a block record may go (the trigger refuses only recent ones).
    [old_card] = bulk.cards(
        world.employee, world.orderer, 1, state="blocked", ordered_at=t.LEGACY_SIS
    )
    old = Block.objects.create(
        card=old_card,
        reason="lost",
        requested_by="the holder",
        registered_at=timezone.now() - timedelta(days=11 * 366),
    )
    _raw("DELETE FROM ekort_block WHERE id = %s", (old.pk,))
    assert not Block.objects.filter(pk=old.pk).exists()
