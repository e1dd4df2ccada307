"""A blocked card's letters leave the print queue, in the one block writer
(`cards.blocking.blocked`): whoever blocks (a person, a sweep, a replacement), in the block's
transaction, with one UPDATE for the whole set and an audit entry per letter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ekort.domain.errors import NotFound
from ekort.services import cards, deadlines, print_queue
from ekort.store.models import AuditEntry, Card, Letter
from tests import factories
from tests import instants as t
from tests.integration import journeys

pytestmark = pytest.mark.django_db

MAY_FIRST = t.sthlm(2024, 5, 1)  # sent 2024-01-31: the R8 sweep's first day


def _letter_statements(queries: list[dict[str, str]]) -> list[str]:
    table = connection.ops.quote_name(Letter._meta.db_table)
    return [q["sql"] for q in queries if table in q["sql"] or Letter._meta.db_table in q["sql"]]


def test_a_block_withdraws_the_cards_waiting_letters_and_keeps_the_printed(world):
    card = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    cover = card.letters.get(kind="cover_letter")
    print_queue.mark_printed(actor=world.issuer, letter_ids=[cover.pk], now=t.sthlm(2024, 2, 2))
    pin = cards.order_pin_letter(
        actor=world.support, now=t.sthlm(2024, 2, 5), card_ids=[card.pk]
    ).one_made()
    at = t.sthlm(2024, 2, 6, 10)
    cards.block(
        actor=world.support, reason="lost", requested_by="Erik", now=at, card_ids=[card.pk]
    ).one()
    pin.refresh_from_db()
    cover.refresh_from_db()
    assert (pin.withdrawn_at, pin.printed_at) == (at, None)
    assert cover.withdrawn_at is None  # printed already: not the queue's any more
    assert pin not in print_queue.waiting_letters()
    entry = AuditEntry.objects.get(action="letter_withdrawn")
    assert (entry.object_type, entry.object_id, entry.actor) == ("letter", str(pin.pk), "support")
    assert entry.after == {
        "withdrawn_at": at.isoformat(),
        "kind": "pin_puk_letter",
        "card_id": card.pk,
        "card_blocked": True,
    }
    # Never printed, never marked printed.
    with pytest.raises(NotFound):
        print_queue.letter_pdf(actor=world.issuer, letter_id=pin.pk, now=at)
    assert print_queue.mark_printed(actor=world.issuer, letter_ids=[pin.pk], now=at) == 0
    assert Letter.objects.get(pk=pin.pk).printed_at is None


def test_a_sweep_withdraws_a_chunks_letters_with_one_update(world):
    """Cards sent home and never activated (R8): their cover letters still wait. The sweep's
    chunk takes them all out with one UPDATE, no query per card, and no SELECT before it."""
    persons = [factories.person(given=f"P{i}", manager=world.manager) for i in range(6)]
    sent = [journeys.sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=p) for p in persons]
    ids = [card.pk for card in sent]
    assert Letter.objects.filter(card_id__in=ids, printed_at__isnull=True).count() == 6
    sweep = next(s for s in deadlines.SWEEPS if s.name == "not_activated")
    with CaptureQueriesContext(connection) as captured:
        assert deadlines.sweep_chunk(sweep, ids, MAY_FIRST) == 6
    statements = _letter_statements(captured.captured_queries)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("UPDATE")
    assert "RETURNING" in statements[0].upper()
    assert not Letter.objects.filter(card_id__in=ids, withdrawn_at__isnull=True).exists()
    assert set(Card.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"blocked"}
    entries = AuditEntry.objects.filter(action="letter_withdrawn")
    assert entries.count() == 6
    assert {e.actor for e in entries} == {"job:not_activated"}


def test_a_card_with_nothing_queued_costs_one_statement_and_no_entry(world):
    card = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    Letter.objects.filter(card=card).update(printed_at=t.sthlm(2024, 2, 2))
    with CaptureQueriesContext(connection) as captured:
        cards.block(
            actor=world.support,
            reason="lost",
            requested_by="Erik",
            now=t.sthlm(2024, 2, 6),
            card_ids=[card.pk],
        ).one()
    assert len(_letter_statements(captured.captured_queries)) == 1
    assert not AuditEntry.objects.filter(action="letter_withdrawn").exists()
