"""Producing and sending many cards in one call (`services.cards.produce`, `send`; `--chunk`): the
same guards, rows and audit entries as one card at a time, refusals per card, and a failure
that undoes the whole chunk."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F

from ekort.domain.card_numbers import format_card_number
from ekort.domain.errors import DomainError, NotFound, Refused
from ekort.pki.card_token import TokenError
from ekort.services import audit
from ekort.services.ca import backends, issuance, secrets
from ekort.services.ca.authority import issuing_ca
from ekort.services.cards import Outcome, production
from ekort.store.models import (
    AuditEntry,
    Card,
    CardNumberSequence,
    Certificate,
    CertificateAuthority,
    Letter,
    OcspResponse,
)
from ekort.store.sets import update_each
from tests import factories
from tests import instants as t
from tests.integration import journeys as j

AT = t.NEW_PROCESS


def _photographed(world, n):
    """`n` photographed cards, each for a person of its own (E8: one live card each)."""
    return [
        j.photographed(
            world, t.NEW_PROCESS_START, AT, person=factories.person(manager=world.manager)
        ).pk
        for _ in range(n)
    ]


def _rule(problem: DomainError) -> str:
    assert isinstance(problem, Refused)
    return problem.rule


def _audit(card_id: int, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_id=str(card_id), action=action))


def test_a_batch_produces_and_sends_like_one_card_at_a_time(
    world, django_capture_on_commit_callbacks
):
    ids = _photographed(world, 3)
    [single] = _photographed(world, 1)
    revision = CertificateAuthority.objects.values_list("status_revision", flat=True)
    loa3 = issuing_ca("3").pk  # the photo cards' CA
    before = revision.get(pk=loa3)
    with django_capture_on_commit_callbacks(execute=True):
        produced = production.produce(actor=world.issuer, card_ids=ids, now=AT)
        assert revision.get(pk=loa3) == before + 1  # the next CRL lists them (on hold)
        production.produce(actor=world.issuer, card_ids=[single], now=AT)
    assert revision.get(pk=loa3) == before + 2
    assert produced.done == ids and produced.refused == {}
    with django_capture_on_commit_callbacks(execute=True):
        sent = production.send(actor=world.issuer, card_ids=ids, now=AT)
        production.send(actor=world.issuer, card_ids=[single], now=AT)
    assert sent.done == ids

    reference = Card.objects.get(pk=single)
    numbers = set()
    for card in Card.objects.filter(pk__in=ids):
        assert card.state == reference.state == "sent_inactive"
        for name in ("generation", "sis_marked", "valid_until", "produced_at", "sent_at"):
            assert getattr(card, name) == getattr(reference, name), name
        assert card.activation_deadline == reference.activation_deadline
        numbers.add(card.number)
        assert card.puk_ciphertext is not None and card.number is not None
        assert len(secrets.unseal(bytes(card.puk_ciphertext), card.pk)) == 8
        [cert] = Certificate.objects.filter(card=card)
        assert (cert.profile, cert.status) == ("auth", "on_hold")
        assert card.number.encode() in bytes(cert.der)
        # On hold since production: no response signed ahead (status.note_issued_on_hold).
        assert not OcspResponse.objects.filter(issuer=cert.issuer, serial=cert.serial).exists()
        assert list(Letter.objects.filter(card=card).values_list("kind", flat=True)) == [
            "cover_letter"
        ]
        for action in ("produce", "send"):
            [entry] = _audit(card.pk, action)
            [single_entry] = _audit(single, action)
            assert entry.before == single_entry.before
            assert set(entry.after) == set(single_entry.after)
    assert len(numbers) == 3 and reference.number not in numbers
    assert audit.verify_trail() == []


def test_a_refused_card_is_left_untouched_and_the_others_go_on(world):
    ordered = j.ordered(world, "photo", AT).pk  # not photographed (the world's employee): E1
    no_hsa = factories.person(given="Utan", manager=world.manager)
    no_hsa.hsa_id = None
    no_hsa.save()
    without = j.photographed(world, t.NEW_PROCESS_START, AT, person=no_hsa).pk  # R11
    good = _photographed(world, 1)
    outcome = production.produce(
        actor=world.issuer, card_ids=[ordered, without, *good, 999_999], now=AT
    )
    assert outcome.done == good
    assert _rule(outcome.refused[ordered]) == "E1"
    assert _rule(outcome.refused[without]) == "R11"
    assert isinstance(outcome.refused[999_999], NotFound)
    assert Card.objects.get(pk=ordered).number is None
    assert Card.objects.get(pk=without).state == "photographed"
    assert not _audit(without, "produce")

    during_freeze = production.send(actor=world.issuer, card_ids=good, now=t.DURING_FREEZE)
    assert during_freeze.done == []
    assert _rule(during_freeze.refused[good[0]]) == "R4"
    assert Card.objects.get(pk=good[0]).state == "produced"


def test_only_an_issuer_administrator_runs_a_batch(world):
    ids = _photographed(world, 1)
    with pytest.raises(Refused):
        production.produce(actor=world.id_admin, card_ids=ids, now=AT)


def _chip_numbers() -> set[str]:
    return set(backends.card_reader().numbers())


class _Broken(Exception):
    pass


def test_a_failure_in_a_chunk_undoes_every_card_of_it(world, monkeypatch, settings):
    ids = _photographed(world, 3)
    real = issuance._personalise_chip
    calls = []

    def fail_on_the_third(card, *rest):
        calls.append(card.pk)
        if len(calls) == 3:
            raise _Broken
        return real(card, *rest)

    monkeypatch.setattr(issuance, "_personalise_chip", fail_on_the_third)
    with pytest.raises(_Broken):
        production.produce(actor=world.issuer, card_ids=ids, now=AT)
    assert set(Card.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"photographed"}
    assert Certificate.objects.count() == 0
    assert not AuditEntry.objects.filter(action="produce").exists()

    # The two chips put together before the failure were never written (the chunk failed
    # before its make_durable); the three numbers it reserved go to no card.
    assert _chip_numbers() == set()
    reserved = CardNumberSequence.objects.get().last_value
    monkeypatch.setattr(issuance, "_personalise_chip", real)
    again = production.produce(actor=world.issuer, card_ids=ids, now=AT)
    assert again.done == ids
    numbers = set(Card.objects.filter(pk__in=ids).values_list("number", flat=True))
    assert numbers == _chip_numbers()
    assert CardNumberSequence.objects.get().last_value == reserved + 3
    prefix = settings.EKORT_CARD_NUMBER_PREFIX
    assert numbers == {format_card_number(prefix, n) for n in range(reserved + 1, reserved + 4)}


def test_the_bulk_command_takes_chunks(world):
    ids = _photographed(world, 5)
    out = io.StringIO()
    for verb in ("produce", "send"):
        call_command(
            "bulk", verb, "--card-type", "photo", "--actor", world.issuer.username,
            "--at", AT.isoformat(), "--chunk", "2", stdout=out,
        )  # fmt: skip
    assert "Done: 5 produced, 0 refused, of 5 card(s)" in out.getvalue()
    assert "Done: 5 sent, 0 refused, of 5 card(s)" in out.getvalue()
    assert set(Card.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"sent_inactive"}


def test_a_chunks_chips_are_on_disk_before_its_rows_are_written(world, monkeypatch):
    """The chips of a chunk are made durable once, inside its transaction and before any of
    its rows: a commit never names a chip that a crash could lose."""
    ids = _photographed(world, 3)
    reader = backends.card_reader()
    real = reader.make_durable
    seen = []

    def make_durable(numbers):
        real(numbers)
        seen.append(
            (
                list(numbers),
                transaction.get_connection().in_atomic_block,
                Certificate.objects.count(),
                all(reader.exists(number) for number in numbers),
            )
        )

    monkeypatch.setattr(reader, "make_durable", make_durable)
    production.produce(actor=world.issuer, card_ids=ids, now=AT)

    numbers = list(Card.objects.filter(pk__in=ids).order_by("pk").values_list("number", flat=True))
    assert seen == [(numbers, True, 0, True)]


def test_a_chip_refused_when_written_undoes_the_chunk(world, monkeypatch):
    """A chip that is there already (here: a number the counter gives again) is refused
    by the reader's writer; the chunk is undone and the chip that was there kept."""
    [first] = _photographed(world, 1)
    production.produce(actor=world.issuer, card_ids=[first], now=AT)
    taken = Card.objects.get(pk=first).number
    kept = backends.card_reader().stored(taken)
    CardNumberSequence.objects.update(last_value=F("last_value") - 1)
    monkeypatch.setattr(backends.card_reader(), "existing", lambda numbers: set())

    ids = _photographed(world, 2)
    with pytest.raises(TokenError):
        production.produce(actor=world.issuer, card_ids=ids, now=AT)
    assert set(Card.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"photographed"}
    assert Certificate.objects.count() == 1
    assert backends.card_reader().stored(taken) == kept


@pytest.mark.parametrize("count", [1, 3])
def test_update_rows_sets_each_rows_own_values(world, count):
    ids = _photographed(world, count)
    rows = [(pk, f"TEST{pk:08d}", bytes([i, 1, 2])) for i, pk in enumerate(ids)]
    update_each(Card, ["number", "puk_ciphertext"], rows)
    stored = Card.objects.filter(pk__in=ids).order_by("pk")
    assert [(c.pk, c.number, bytes(c.puk_ciphertext or b"")) for c in stored] == rows
    assert set(stored.values_list("state", flat=True)) == {"photographed"}  # nothing else


@pytest.mark.django_db(transaction=True)  # the workers see only what is committed
def test_workers_share_out_the_chunks_and_each_card_is_done_once(world):
    ids = _photographed(world, 7)
    [waiting] = _photographed(world, 1)
    Card.objects.filter(pk=waiting).update(state="ordered")  # not ready, so no worker's business
    out = io.StringIO()
    for verb in ("produce", "send"):
        call_command(
            "bulk", verb, "--card-type", "photo", "--actor", world.issuer.username,
            "--at", AT.isoformat(), "--chunk", "2", "--workers", "2", stdout=out,
        )  # fmt: skip
    assert "Done: 7 produced, 0 refused, of 7 card(s)" in out.getvalue(), out.getvalue()
    assert "Done: 7 sent, 0 refused, of 7 card(s)" in out.getvalue(), out.getvalue()
    cards = Card.objects.filter(pk__in=ids)
    assert set(cards.values_list("state", flat=True)) == {"sent_inactive"}
    numbers = list(cards.values_list("number", flat=True))
    assert len(set(numbers)) == 7 and set(numbers) <= _chip_numbers()
    assert Certificate.objects.filter(card__in=ids).count() == 7
    for card_id in ids:
        assert len(_audit(card_id, "produce")) == len(_audit(card_id, "send")) == 1
    assert Letter.objects.filter(card__in=ids, kind="cover_letter").count() == 7
    assert Card.objects.get(pk=waiting).state == "ordered"
    assert audit.verify_trail() == []  # one chain, whichever worker appended first


def test_a_refused_card_is_reported_from_a_worker_with_its_rule():
    """The refusal crosses the process boundary as its rule ID and sentence."""
    from ekort.cli.workers import ChunkResult

    refusal = Refused("R2", "sv", "A photo card is photographed before it is produced.")
    result = ChunkResult.of(Outcome(done=[1], refused={2: refusal, 3: NotFound("x")}))
    assert result.done == [1]
    assert result.refused == [(2, "R2", str(refusal)), (3, "NotFound", "x")]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--workers", "0"], "--workers must be from 1 to 16."),
        (["--workers", "17", "--chunk", "10"], "--workers must be from 1 to 16."),
        (["--workers", "2"], "--workers needs --chunk"),
    ],
)
def test_bad_worker_options_are_refused(world, options, problem):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=problem):
        call_command(
            "bulk", "produce", "--card-type", "photo", "--actor", world.issuer.username,
            *options, stdout=io.StringIO(),
        )  # fmt: skip
