"""The people register kept from a CSV file (`ekort people import`): new persons, updates,
bad rows, dry runs, reruns, and the end of employment (E13) at named instants around its
boundary, down to the certificates' revocation reason in OCSP and the CRL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from django.core.management import call_command
from django.core.management.base import CommandError

from ekort.domain.errors import InvalidInput
from ekort.services import audit, people_sources
from ekort.services.ca import status
from ekort.services.history import person_history
from ekort.services.people_register import apply_records
from ekort.services.people_sources import csv_records
from ekort.store.models import (
    AuditEntry,
    Block,
    Card,
    CardPhoto,
    Certificate,
    OcspResponse,
    Person,
    Unit,
)
from tests import factories
from tests import instants as t
from tests.factories import identity_number
from tests.integration.journeys import activated, ordered, photographed

pytestmark = pytest.mark.django_db

HEADER = (
    "identity_number,hsa_id,given_name,family_name,email,unit_hsa_id,manager_hsa_id,"
    "street_address,postal_code,postal_town,protected_identity,employment_ends"
)
UNIT = "SE2321000198-akut"
# The last day of employment in these tests, and the instants around its end.
LAST_DAY = date(2024, 5, 31)
LAST_DAY_END = t.sthlm(2024, 5, 31, 23, 59, 59)
DAY_AFTER = t.sthlm(2024, 6, 1)
LATER = t.sthlm(2024, 6, 3, 9)


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def row(
    number: str,
    hsa: str = "",
    given: str = "Sara",
    family: str = "Lind",
    *,
    email: str = "",
    unit: str = UNIT,
    manager: str = "",
    street: str = "Norra Kungsgatan 3",
    code: str = "80320",
    town: str = "Gävle",
    protected: str = "nej",
    ends: str = "",
) -> str:
    return ",".join(
        [number, hsa, given, family, email, unit, manager, street, code, town, protected, ends]
    )


def run(text: str, now=t.NEW_PROCESS, **options):
    return apply_records(
        source="people-import:personal.csv", records=csv_records(text), now=now, **options
    )


@pytest.fixture
def unit(world):
    return Unit.objects.create(
        organisation=world.unit.organisation, name="Akuten Gävle", hsa_id=UNIT
    )


def counts() -> tuple[int, int, int]:
    return Person.objects.count(), AuditEntry.objects.count(), Block.objects.count()


def wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def test_new_persons_are_created_with_the_import_named_in_the_trail_and_a_rerun_changes_nothing(
    world, unit
):
    boss, staff = identity_number("19700505"), identity_number("19900215")
    text = csv_text(
        # The manager comes after the person she manages: the order of the rows is free.
        row(staff, "SE2321000198-sl01", manager="SE2321000198-bo01", email="sara@example.se"),
        row(boss, "SE2321000198-bo01", "Bo", "Ek"),
    )
    report = run(text)
    assert [c.where for c in report.created] == ["line 3", "line 2"]
    assert report.problems == []
    sara = Person.objects.get(identity_number=staff)
    bo = Person.objects.get(identity_number=boss)
    assert (sara.manager_id, sara.unit_id, sara.email) == (bo.pk, unit.pk, "sara@example.se")
    assert sara.postal_code == "80320"
    entry = AuditEntry.objects.get(action="register_person", object_id=str(sara.pk))
    assert entry.actor == "job:people-import:personal.csv"
    assert entry.after["identity"] == f"{staff[:8]}-****"
    assert staff not in str(entry.after)

    before = counts()
    again = run(text, now=LATER)
    assert not again.changed
    assert again.unchanged == 2
    assert counts() == before
    assert audit.verify_trail() == []


def test_names_addresses_units_managers_and_email_are_updated_and_in_the_history(world, unit):
    number = world.employee.identity_number
    text = csv_text(
        row(
            number,
            world.employee.hsa_id,
            "Erik",
            "Berg",
            email="erik.berg@example.se",
            street="Södra Vägen 9",
            code="802 50",
            manager="",
        )
    )
    report = run(text, now=LATER)
    [change] = report.updated
    assert change.fields["family_name"] == ("Eriksson", "Berg")
    assert change.fields["manager_id"] == (world.manager.pk, None)
    assert change.fields["unit_id"] == (world.unit.pk, unit.pk)
    assert change.fields["address"] == ("", "changed")
    assert "street_address" not in change.fields  # the trail and reports never hold one
    erik = Person.objects.get(pk=world.employee.pk)
    assert (erik.family_name, erik.email, erik.postal_code) == (
        "Berg",
        "erik.berg@example.se",
        "80250",
    )
    assert erik.name_changed_at == LATER
    [entry] = [e for e in person_history(erik.pk) if e.action == "update_person"]
    assert entry.actor == "job:people-import:personal.csv"
    assert entry.before["family_name"] == "Eriksson"
    assert entry.after == {
        "family_name": "Berg",
        "email": "erik.berg@example.se",
        "address": "changed",
        "unit_id": unit.pk,
        "manager_id": None,
    }
    assert "Södra" not in str(entry.after)
    assert not run(text, now=LATER).changed


def test_columns_a_file_lacks_are_left_as_they_are(world, unit):
    number = world.employee.identity_number
    text = f"identity_number,given_name,family_name\n{number},Erik,Eriksson\n"
    report = run(text)
    assert not report.changed
    erik = Person.objects.get(pk=world.employee.pk)
    assert (erik.manager_id, erik.unit_id, erik.street_address) == (
        world.manager.pk,
        world.unit.pk,
        "Storgatan 1",
    )


def test_bad_rows_are_reported_with_line_and_reason_and_the_others_go_in(world, unit):
    good, bad = identity_number("19800101"), identity_number("19810101")
    text = csv_text(
        row(wrong_check_digit(bad), "SE2321000198-x1"),
        row(identity_number("19820101"), "SE2321000198-x2", unit="SE2321000198-nowhere"),
        row(identity_number("19830101"), world.employee.hsa_id),  # the HSA-id is Erik's
        row(identity_number("19840101"), "SE2321000198-x4", given=""),
        row(good, "SE2321000198-ok1"),
        row(identity_number("19850101"), "SE2321000198-ok1"),  # the HSA-id of line 6 again
        row(identity_number("19860101"), "SE2321000198-x7", manager="SE2321000198-nobody"),
        "19870101-1234,too,few",
    )
    before = Person.objects.count()
    report = run(text)
    reasons = {problem.where: problem.reason for problem in report.problems}
    assert "check digit" in reasons["line 2"]
    assert "Unknown unit" in reasons["line 3"]
    assert "duplicate HSA-id" in reasons["line 4"]
    assert "given name is missing" in reasons["line 5"]
    assert "duplicate HSA-id" in reasons["line 7"] and "line 6" in reasons["line 7"]
    assert "Unknown manager" in reasons["line 8"]
    assert "3 fields" in reasons["line 9"]
    assert len(reasons) == 7
    assert [c.where for c in report.created] == ["line 6"]
    assert Person.objects.count() == before + 1
    # No refusal quotes a full identity number, but the one the row wrote wrongly.
    assert good not in str(reasons)


def test_a_person_twice_in_a_source_is_read_from_the_first_row_and_the_second_reported(world, unit):
    staff = identity_number("19900215")
    first = row(staff, "SE2321000198-sl01")
    report = run(csv_text(first, row(staff, "SE2321000198-sl02", "Sára")))
    [problem] = report.problems
    assert (problem.where, problem.reason) == (
        "line 3",
        f"The identity number {staff[:8]}-**** is also on line 2; only the first one is read.",
    )
    assert [c.where for c in report.created] == ["line 2"]
    sara = Person.objects.get(identity_number=staff)
    assert (sara.hsa_id, sara.given_name) == ("SE2321000198-sl01", "Sara")
    # Unchanged the second time, the first row is passed over; the second is still refused.
    again = run(csv_text(first, first), now=LATER)
    assert (again.unchanged, again.changed) == (1, False)
    assert [(p.where, "also on line 2" in p.reason) for p in again.problems] == [("line 3", True)]


def test_an_import_does_not_change_a_persons_hsa_id_nor_take_it_away(world, unit):
    erik = world.employee
    other = row(erik.identity_number, "SE2321000198-erik2", "Erik", "Berg")
    report = run(csv_text(other), now=LATER)
    [problem] = report.problems
    assert problem.reason == (
        f"The register has the HSA-id {erik.hsa_id} for this person, the source "
        "SE2321000198-erik2; an HSA-id is not changed by an import."
    )
    assert not report.changed
    assert Person.objects.get(pk=erik.pk).family_name == "Eriksson"

    # A row with the HSA-id column empty changes the rest, and leaves the HSA-id as it was.
    report = run(csv_text(row(erik.identity_number, "", "Erik", "Berg")), now=LATER)
    [change] = report.updated
    assert change.fields["family_name"] == ("Eriksson", "Berg")
    assert "hsa_id" not in change.fields
    assert Person.objects.get(pk=erik.pk).hsa_id == erik.hsa_id


def test_an_import_without_a_source_name_for_the_trail_is_refused(world):
    with pytest.raises(InvalidInput, match="Name the source"):
        apply_records(source=" \t ", records=[], now=t.NEW_PROCESS)


def test_a_dry_run_reports_the_same_changes_and_changes_nothing(world, unit):
    card = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    text = csv_text(
        row(identity_number("19900215"), "SE2321000198-n1"),
        row(
            world.employee.identity_number, world.employee.hsa_id, "Erik", "Berg", ends="2024-05-31"
        ),
    )
    before = counts()
    dry = run(text, now=DAY_AFTER, dry_run=True)
    assert counts() == before
    assert Card.objects.get(pk=card.pk).state == "active"
    assert [c.where for c in dry.created] == ["line 2"]
    assert dry.updated[0].fields["family_name"] == ("Eriksson", "Berg")
    # The cards are named as the real run names them, by card number.
    assert dry.ended[0].cards_blocked == [card.number]

    real = run(text, now=DAY_AFTER)
    assert [c.where for c in real.created] == ["line 2"]
    assert real.updated[0].fields["family_name"] == ("Eriksson", "Berg")
    assert real.ended[0].cards_blocked == [card.number]


@pytest.mark.parametrize(
    ("now", "blocked"),
    [(t.sthlm(2024, 5, 31, 10), False), (LAST_DAY_END, False), (DAY_AFTER, True), (LATER, True)],
)
def test_employment_ends_after_its_last_day_in_stockholm(world, unit, now, blocked):
    card = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    employee = world.employee
    text = csv_text(
        row(employee.identity_number, employee.hsa_id, "Erik", "Eriksson", ends="2024-05-31")
    )
    report = run(text, now=now)
    card.refresh_from_db()
    assert Person.objects.get(pk=employee.pk).employment_ends == LAST_DAY
    assert (card.state == "blocked") is blocked
    assert bool(report.ended) is blocked
    if blocked:
        assert card.block.reason == "employment_ended"
        assert card.block.requested_by == "job:people-import:personal.csv"
        assert "E13" in card.block.note


def test_a_leavers_orders_not_yet_produced_are_cancelled_with_the_live_cards_blocked(world, unit):
    """E13: a card ordered or photographed for someone who has left would otherwise be
    produced and sent to them. Cancelled by the one cancellation writer (its photo deleted),
    in the leaver's transaction, named in the report; a dry run names them and changes
    nothing; a rerun changes nothing."""
    employee = world.employee
    live = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    reserve = ordered(world, "reserve", t.sthlm(2024, 5, 2))
    text = csv_text(
        row(employee.identity_number, employee.hsa_id, "Erik", "Eriksson", ends="2024-05-31")
    )
    before = counts()
    dry = run(text, now=DAY_AFTER, dry_run=True)
    assert counts() == before and Card.objects.get(pk=reserve.pk).state == "ordered"
    assert (dry.ended[0].cards_blocked, dry.ended[0].orders_cancelled) == (
        [live.number],
        [reserve.pk],
    )
    real = run(text, now=DAY_AFTER)
    assert (real.ended[0].cards_blocked, real.ended[0].orders_cancelled) == (
        [live.number],
        [reserve.pk],
    )
    reserve.refresh_from_db()
    assert (reserve.state, reserve.closed_at) == ("cancelled", DAY_AFTER)
    (entry,) = AuditEntry.objects.filter(action="cancel", object_id=str(reserve.pk))
    assert entry.actor == "job:people-import:personal.csv" and "E13" in entry.reason
    assert not run(text, now=LATER).changed


def test_a_stored_leaver_with_only_an_order_has_it_cancelled(world, unit):
    """The end date already in the register, no live card, one order: the next import ends it."""
    employee, manager = world.employee, world.manager.hsa_id or ""
    text = csv_text(
        row(
            employee.identity_number,
            employee.hsa_id,
            "Erik",
            "Eriksson",
            manager=manager,
            ends="2024-05-31",
        )
    )
    run(text, now=t.sthlm(2024, 5, 2))
    photo = photographed(world, t.sthlm(2024, 5, 2), t.sthlm(2024, 5, 3))
    report = run(csv_text(), now=DAY_AFTER)
    assert [c.orders_cancelled for c in report.ended] == [[photo.pk]]
    assert Card.objects.get(pk=photo.pk).state == "cancelled"
    assert not CardPhoto.objects.filter(card_id=photo.pk).exists()


def test_a_leaver_without_live_cards_written_differently_but_alike_is_left_unchanged(world):
    """The file writes Erik's postal code with its space, which the register does not keep:
    his record changes nothing, and his employment having ended blocks no card, as he has none
    left."""
    erik = world.employee
    Person.objects.filter(pk=erik.pk).update(employment_ends=LAST_DAY)
    code = erik.postal_code
    text = (
        "identity_number,given_name,family_name,postal_code,employment_ends\n"
        f"{erik.identity_number},Erik,Eriksson,{code[:3]} {code[3:]},{LAST_DAY}\n"
    )
    before = counts()
    report = run(text, now=LATER)
    assert (report.changed, report.unchanged, report.problems) == (False, 1, [])
    assert report.ended == []
    assert counts() == before


def test_a_stored_end_date_that_passes_blocks_at_the_next_run(world, unit):
    """The end date came with an earlier run, before it passed; a later run of any source
    blocks the cards, though the person's record changes nothing."""
    card = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    employee = world.employee
    text = csv_text(
        row(employee.identity_number, employee.hsa_id, "Erik", "Eriksson", ends="2024-05-31")
    )
    run(text, now=t.sthlm(2024, 5, 20))
    assert Card.objects.get(pk=card.pk).state == "active"
    unrelated = csv_text(row(identity_number("19900215"), "SE2321000198-n1"))
    report = run(unrelated, now=DAY_AFTER)
    assert [c.where for c in report.ended] == ["end date passed"]
    assert Card.objects.get(pk=card.pk).state == "blocked"
    before = counts()
    assert not run(unrelated, now=LATER).changed
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_each_leaver_is_updated_and_blocked_in_a_transaction_of_their_own(world, unit, monkeypatch):
    """Two leavers in one file: the second one's block fails. The first one's update and block
    stay; the second one's end date is not kept without the block either. The next run blocks
    the second."""
    from ekort.services import people_register

    first = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    other = factories.person(given="Karin", family="Larsson", manager=world.manager)
    second = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 11), person=other)
    text = csv_text(
        row(
            world.employee.identity_number,
            world.employee.hsa_id,
            "Erik",
            "Eriksson",
            ends="2024-05-31",
        ),
        row(other.identity_number, other.hsa_id, "Karin", "Larsson", ends="2024-05-31"),
    )
    real_blocked = people_register.blocked
    calls = []

    def failing_second(job, refs, *args):
        calls.append([ref.pk for ref in refs])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_blocked(job, refs, *args)

    monkeypatch.setattr(people_register, "blocked", failing_second)
    with pytest.raises(RuntimeError):
        run(text, now=DAY_AFTER)
    assert calls == [[first.pk], [second.pk]]
    assert Card.objects.get(pk=first.pk).state == "blocked"
    assert Person.objects.get(pk=world.employee.pk).employment_ends == LAST_DAY
    assert Card.objects.get(pk=second.pk).state == "active"
    assert Person.objects.get(pk=other.pk).employment_ends is None
    assert audit.verify_trail() == []

    monkeypatch.setattr(people_register, "blocked", real_blocked)
    report = run(text, now=LATER)
    assert [change.person_id for change in report.ended] == [other.pk]
    assert Card.objects.get(pk=second.pk).state == "blocked"
    assert audit.verify_trail() == []


def test_blocked_for_employment_ended_reads_affiliation_changed_in_ocsp_and_the_crl(
    world, unit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        card = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    employee = world.employee
    text = csv_text(
        row(employee.identity_number, employee.hsa_id, "Erik", "Eriksson", ends="2024-05-31")
    )
    with django_capture_on_commit_callbacks(execute=True):
        run(text, now=DAY_AFTER)
    cert = Certificate.objects.get(card=card)
    assert (cert.status, cert.revocation_reason) == ("revoked", "affiliation_changed")
    der = OcspResponse.objects.get(issuer_id=cert.issuer_id, serial=cert.serial).der
    response = ocsp.load_der_ocsp_response(bytes(der))
    assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason == x509.ReasonFlags.affiliation_changed
    crl = x509.load_der_x509_crl(bytes(status.build_crl(cert.issuer, LATER).der))
    entry = crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.affiliation_changed
    )


def test_a_complete_source_ends_the_employment_of_whoever_is_missing(world, unit):
    card = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    manager = world.manager
    text = csv_text(row(manager.identity_number, manager.hsa_id, "Maria", "Chef"))
    before = counts()
    [would] = run(text, now=DAY_AFTER, complete=True, dry_run=True).ended
    assert (would.gone, would.cards_blocked) == (True, [card.number])
    assert counts() == before
    report = run(text, now=DAY_AFTER, complete=True)
    [ended] = report.ended
    assert ended.gone and ended.person_id == world.employee.pk
    assert ended.left == LAST_DAY
    assert Person.objects.get(pk=world.employee.pk).employment_ends == LAST_DAY
    card.refresh_from_db()
    assert (card.state, card.block.reason) == ("blocked", "employment_ended")
    before = counts()
    assert not run(text, now=LATER, complete=True).changed
    assert counts() == before


def test_a_complete_source_that_would_end_too_many_stops_with_nothing_changed(world, unit):
    text = csv_text(row(identity_number("19900215"), "SE2321000198-n1"))
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        run(text, now=DAY_AFTER, complete=True, max_leavers=1)
    assert "cut short" in str(refused.value)
    assert counts() == before


def test_a_bad_row_is_not_taken_for_a_person_gone_from_a_complete_source(world, unit):
    employee = world.employee
    wrong = wrong_check_digit(employee.identity_number)
    text = csv_text(
        row(world.manager.identity_number, world.manager.hsa_id, "Maria", "Chef"),
        row(wrong, employee.hsa_id, "Erik", "Eriksson"),
    )
    report = run(text, now=DAY_AFTER, complete=True)
    assert [p.where for p in report.problems] == ["line 3"]
    assert report.ended == []


def test_ekort_people_import_prints_and_exits_1_on_refused_rows(world, unit, tmp_path, capsys):
    path = tmp_path / "personal.csv"
    new = identity_number("19900215")
    path.write_text(
        csv_text(row(new, "SE2321000198-n1"), row(wrong_check_digit(new), "SE2321000198-n2")),
        encoding="utf-8",
    )
    before = counts()
    with pytest.raises(CommandError) as failed:
        call_command("people", "import", str(path), "--dry-run", "--at", "2024-06-01T10:00+02:00")
    assert "nothing was changed" in str(failed.value)
    out = capsys.readouterr().out
    assert "line 2: new person 19900215-**** Sara Lind" in out
    assert "line 3: The identity number" in out
    assert new not in out
    assert counts() == before
    with pytest.raises(CommandError):
        call_command("people", "import", str(path), "--at", "2024-06-01T10:00+02:00")
    assert Person.objects.filter(identity_number=new).exists()
    entry = AuditEntry.objects.filter(action="register_person").last()
    assert entry.actor == "job:people-import:personal.csv"


def test_ekort_people_import_names_a_new_unit_and_manager_by_hsa_id(world, unit, tmp_path, capsys):
    """The register holds a unit and a manager as numbers; the report names them as the file
    did, by HSA-id."""
    erik = world.employee
    path = tmp_path / "personal.csv"
    path.write_text(
        csv_text(
            row(world.manager.identity_number, world.manager.hsa_id or "", "Maria", "Chef"),
            row(erik.identity_number, erik.hsa_id or "", "Erik", "Eriksson", manager=""),
        ),
        encoding="utf-8",
    )
    call_command("people", "import", str(path), "--dry-run", "--at", "2024-06-01T10:00+02:00")
    out = capsys.readouterr().out
    assert f"unit '{world.unit.name}' -> '{UNIT}'" in out  # the world's unit has no HSA-id
    assert f"manager '{world.manager.hsa_id}' -> (none)" in out
    assert "unit id" not in out and "manager id" not in out


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"identity_number,given_name\n", "lacks the columns family_name"),
        (b"identity_number,given_name,family_name,salary\n", "unknown columns ('salary')"),
        ("identity_number,given_name,family_name\n1,Åsa,Ö\n".encode("latin-1"), "not UTF-8"),
        (b'identity_number,given_name,family_name\n"1,2\n', "line"),
        # UTF-16 without a byte-order mark decodes as UTF-8, a NUL after each letter.
        ("identity_number,given_name,family_name\n".encode("utf-16-le"), "NUL characters"),
        (
            b"identity_number,given_name,family_name,Personnummer\n",
            "names the column identity_number more than once",
        ),
    ],
)
def test_a_file_that_cannot_be_read_changes_nothing(world, tmp_path, content, fragment):
    path = tmp_path / "personal.csv"
    path.write_bytes(content)
    before = counts()
    with pytest.raises(CommandError) as failed:
        call_command("people", "import", str(path))
    assert fragment in str(failed.value)
    assert counts() == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(world, tmp_path, monkeypatch):
    header = b"identity_number,given_name,family_name\n"
    monkeypatch.setattr(people_sources, "MAX_FILE_BYTES", len(header))
    path = tmp_path / "personal.csv"
    path.write_bytes(header)
    assert people_sources.read_csv(path) == []  # at the limit: read
    path.write_bytes(header + b"\n")
    with pytest.raises(InvalidInput, match=f"personal.csv is {len(header) + 1} bytes, more than"):
        people_sources.read_csv(path)
    before = counts()
    with pytest.raises(CommandError, match="more than"):
        call_command("people", "import", str(path))
    assert counts() == before


def test_blank_lines_are_passed_over_and_not_counted_against_the_row_limit(monkeypatch):
    monkeypatch.setattr(people_sources, "MAX_RECORDS", 2)
    first, second = identity_number("19900215"), identity_number("19910316")
    text = f"identity_number,given_name,family_name\n{first},Sara,Lind\n\n , ,\n"
    text += f"{second},Per,Holm\n\n\n"
    records = csv_records(text)
    assert [(r.where, r.values["identity_number"]) for r in records] == [
        ("line 2", first),
        ("line 5", second),
    ]
    with pytest.raises(InvalidInput, match="has more than 2 rows"):
        csv_records(text + f"{identity_number('19920417')},Eva,Ek\n")


def test_semicolons_and_a_byte_order_mark_as_spreadsheets_write_them(world, unit, tmp_path):
    number = identity_number("19900215")
    text = "\ufeffidentity_number;given_name;family_name\r\n" + f"{number};Sara;Lind\r\n"
    report = run(text)
    assert [c.where for c in report.created] == ["line 2"]


def test_swedish_column_names_and_tabs(world, unit):
    number = identity_number("19900215")
    header = "Personnummer\tFörnamn\tEfternamn\tE-post\tEnhetens HSA-id\tSista anställningsdag"
    text = f"{header}\n{number}\tSara\tLind\tsara@example.se\t{UNIT}\t2030-12-31\n"
    report = run(text)
    assert report.problems == []
    sara = Person.objects.get(identity_number=number)
    assert (sara.email, sara.unit_id, str(sara.employment_ends)) == (
        "sara@example.se",
        Unit.objects.get(hsa_id=UNIT).pk,
        "2030-12-31",
    )


def test_ekort_people_import_of_a_missing_file_is_a_clear_error(world):
    with pytest.raises(CommandError) as failed:
        call_command("people", "import", str(Path("/nonexistent/personal.csv")))
    assert "cannot be read" in str(failed.value)
