"""Orders from a file, through the one order service: each row ordered, already ordered (E8)
or refused with its line and rule; a rerun orders nothing new; a dry run keeps nothing; a file
that cannot be read orders nothing."""

from __future__ import annotations

import pytest

from ekort.domain.errors import Refused
from ekort.domain.order_file import OrderFileRefused
from ekort.services.cards.order_import import LineStatus, import_orders
from ekort.store.models import AuditEntry, Card
from tests import factories
from tests import instants as t

pytestmark = pytest.mark.django_db


def csv(*rows: str) -> bytes:
    return ("personnummer;hsa-id;korttyp;anteckning\n" + "".join(f"{r}\n" for r in rows)).encode()


@pytest.fixture
def team(world):
    karin = factories.person(given="Karin", family="Kollega", manager=world.manager)
    olle = factories.person(given="Olle", family="Annan")  # nobody's: not Maria's staff
    return world, karin, olle


def test_rows_are_ordered_refused_or_already_and_a_rerun_orders_nothing_new(team):
    w, karin, olle = team
    data = csv(
        f"{w.employee.identity_number};;foto;Ny i teamet",
        f";{karin.hsa_id};reserv;",
        f"{olle.identity_number};;foto;",
        f"{w.employee.identity_number};;foto;",  # the same card twice in one file
    )
    report = import_orders(actor=w.orderer, data=data, now=t.NEW_PROCESS)
    assert [(r.line, r.status, r.rule) for r in report.lines] == [
        (2, LineStatus.ORDERED, ""),
        (3, LineStatus.ORDERED, ""),
        (4, LineStatus.REFUSED, "E2"),
        (5, LineStatus.ALREADY, "E8"),
    ]
    assert (report.ordered, report.already, report.refused) == (2, 1, 1)
    # The refusal for someone not the manager's does not give away who it is.
    assert "Olle" not in report.lines[2].sv + report.lines[2].en
    assert report.lines[2].who == f"{olle.identity_number[:8]}-****"
    photo = Card.objects.get(pk=report.lines[0].card_id)
    assert (photo.person, photo.card_type, photo.order.note) == (w.employee, "photo", "Ny i teamet")
    assert Card.objects.get(pk=report.lines[1].card_id).person == karin

    entries = AuditEntry.objects.count()
    again = import_orders(actor=w.orderer, data=data, now=t.NEW_PROCESS)
    assert [r.status for r in again.lines] == [
        LineStatus.ALREADY,
        LineStatus.ALREADY,
        LineStatus.REFUSED,
        LineStatus.ALREADY,
    ]
    assert Card.objects.count() == 2
    assert AuditEntry.objects.count() == entries


def test_a_dry_run_answers_as_the_real_run_and_keeps_nothing(team):
    w, karin, _ = team
    data = csv(f"{w.employee.identity_number};;foto;", f"{karin.identity_number};;reserv;")
    entries = AuditEntry.objects.count()
    preview = import_orders(actor=w.orderer, data=data, now=t.NEW_PROCESS, dry_run=True)
    assert preview.dry_run and preview.ordered == 2
    assert all(r.card_id is None for r in preview.lines)
    assert not Card.objects.exists() and AuditEntry.objects.count() == entries
    real = import_orders(actor=w.orderer, data=data, now=t.NEW_PROCESS)
    assert [r.status for r in real.lines] == [r.status for r in preview.lines]


def test_the_ordering_stop_refuses_every_row_with_its_rule(team):
    w, karin, _ = team
    report = import_orders(actor=w.orderer, data=csv(f";{karin.hsa_id};foto;"), now=t.DURING_FREEZE)
    [line] = report.lines
    assert (line.line, line.status, line.rule) == (2, LineStatus.REFUSED, "R4")
    assert not Card.objects.exists()


def test_both_identifiers_must_name_the_same_person(team):
    w, karin, _ = team
    data = csv(f"{w.employee.identity_number};{karin.hsa_id};foto;")
    [line] = import_orders(actor=w.orderer, data=data, now=t.NEW_PROCESS).lines
    assert (line.status, line.rule) == (LineStatus.REFUSED, "E2")
    assert not Card.objects.exists()


def test_a_row_that_cannot_be_read_is_refused_and_the_others_are_ordered(team):
    w, karin, _ = team
    data = csv(f"{karin.identity_number};;foto;", "19850312-0000;;foto;", f";{karin.hsa_id};guld;")
    report = import_orders(actor=w.orderer, data=data, now=t.NEW_PROCESS)
    ordered, wrong_digit, unknown_type = report.lines
    assert (ordered.line, ordered.status) == (2, LineStatus.ORDERED)
    assert (wrong_digit.line, wrong_digit.status, wrong_digit.rule) == (3, LineStatus.REFUSED, "")
    assert "check digit" in wrong_digit.en and "19850312-0000" not in wrong_digit.en
    assert (unknown_type.line, unknown_type.status) == (4, LineStatus.REFUSED)
    assert "guld" in unknown_type.sv
    assert (report.ordered, report.refused) == (1, 2)
    assert list(Card.objects.values_list("person", flat=True)) == [karin.pk]
    again = import_orders(actor=w.orderer, data=data, now=t.NEW_PROCESS)
    assert (again.ordered, again.already, again.refused) == (0, 1, 2)
    assert Card.objects.count() == 1


def test_a_file_without_a_row_that_can_be_read_orders_nothing(team):
    w, _, _ = team
    data = csv("19850312-0000;;foto;", ";;foto;")
    entries = AuditEntry.objects.count()
    with pytest.raises(OrderFileRefused) as caught:
        import_orders(actor=w.orderer, data=data, now=t.NEW_PROCESS)
    assert [p.line for p in caught.value.problems] == [2, 3]
    assert not Card.objects.exists() and AuditEntry.objects.count() == entries


def test_only_an_orderer_imports(team):
    w, karin, _ = team
    with pytest.raises(Refused) as caught:
        import_orders(actor=w.id_admin, data=csv(f";{karin.hsa_id};foto;"), now=t.NEW_PROCESS)
    assert caught.value.rule == "E10"
    assert not Card.objects.exists()
