"""`ekort people sync` against a real OpenLDAP server (tests/ldap_server.py): units from the
directory's tree, managers by DN, updates, bad entries reported by DN, dry runs, reruns, and
persons gone from a complete directory."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ekort.domain.errors import InvalidInput
from ekort.services import audit
from ekort.services.people_register import apply_records
from ekort.services.people_sources import Directory, _records, read_directory
from ekort.store.models import AuditEntry, Block, Card, Person, Unit
from tests import instants as t
from tests.factories import identity_number
from tests.integration.journeys import activated
from tests.ldap_server import Slapd, started

pytestmark = pytest.mark.django_db

ORG = "2321000198"
UNIT_HSA = f"SE{ORG}-akut"
LAST_DAY_END = t.sthlm(2024, 5, 31, 23, 59, 59)
DAY_AFTER = t.sthlm(2024, 6, 1)
LATER = t.sthlm(2024, 6, 3, 9)


@pytest.fixture
def slapd(tmp_path):
    yield from started(tmp_path / "slapd")


@pytest.fixture
def unit(world):
    return Unit.objects.create(organisation=world.unit.organisation, name="Akuten", hsa_id=UNIT_HSA)


def unit_dn(server: Slapd, name: str = "Akuten") -> str:
    return f"ou={name},{server.base}"


def person_entry(
    server: Slapd,
    cn: str,
    number: str,
    hsa: str,
    given: str,
    family: str,
    *,
    under: str | None = None,
    **extra: object,
) -> tuple[str, list[str], dict[str, object]]:
    attributes: dict[str, object] = {
        "cn": cn,
        "givenName": given,
        "sn": family,
        "hsaIdentity": hsa,
        "personalIdentityNumber": number,
        **extra,
    }
    if not given:
        del attributes["givenName"]
    dn = f"cn={cn},{under or unit_dn(server)}"
    return dn, ["inetOrgPerson", "ekortHsaPerson"], attributes


def tree(server: Slapd, *persons: tuple[str, list[str], dict[str, object]]) -> None:
    server.add(
        [
            (unit_dn(server), ["organizationalUnit", "ekortHsaUnit"], {"hsaIdentity": UNIT_HSA}),
            *persons,
        ]
    )


def directory(server: Slapd) -> Directory:
    return Directory(server.url, server.base, server.admin, server.password)


def sync(server: Slapd, now=t.NEW_PROCESS, **options):
    source = directory(server)
    return apply_records(
        source=f"people-sync:{source.name}", records=read_directory(source), now=now, **options
    )


def counts() -> tuple[int, int, int]:
    return Person.objects.count(), AuditEntry.objects.count(), Block.objects.count()


def test_a_sync_creates_persons_with_unit_and_manager_from_the_tree_and_a_rerun_changes_nothing(
    world, unit, slapd
):
    boss, staff = identity_number("19700505"), identity_number("19900215")
    boss_dn, *boss_rest = person_entry(slapd, "Bo Ek", boss, f"SE{ORG}-bo01", "Bo", "Ek")
    tree(
        slapd,
        (boss_dn, *boss_rest),
        person_entry(
            slapd,
            "Sara Lind",
            staff,
            f"SE{ORG}-sl01",
            "Sara",
            "Lind",
            mail="sara@example.se",
            manager=boss_dn,
            street="Norra Kungsgatan 3",
            postalCode="803 20",
            l="Gävle",
            ekortProtectedIdentity=True,
            ekortEmploymentEnd="2030-12-31",
        ),
    )
    report = sync(slapd)
    assert report.problems == []
    assert len(report.created) == 2
    sara = Person.objects.get(identity_number=staff)
    bo = Person.objects.get(identity_number=boss)
    assert (sara.manager_id, sara.unit_id, bo.unit_id) == (bo.pk, unit.pk, unit.pk)
    assert (sara.email, sara.postal_code, sara.postal_town) == ("sara@example.se", "80320", "Gävle")
    assert sara.protected_identity
    assert str(sara.employment_ends) == "2030-12-31"
    entry = AuditEntry.objects.get(action="register_person", object_id=str(sara.pk))
    assert entry.actor == f"job:people-sync:{slapd.url}/{slapd.base}"
    assert entry.reason == f"DN cn=Sara Lind,ou=Akuten,{slapd.base}"

    before = counts()
    assert not sync(slapd, now=LATER).changed
    assert counts() == before
    assert audit.verify_trail() == []


def test_changes_in_the_directory_update_the_register(world, unit, slapd):
    employee = world.employee
    dn, classes, attributes = person_entry(
        slapd, "Erik", employee.identity_number, employee.hsa_id, "Erik", "Eriksson"
    )
    tree(slapd, (dn, classes, attributes))
    first = sync(slapd)
    [changed] = first.updated
    assert changed.fields["unit_id"] == (world.unit.pk, unit.pk)
    assert changed.fields["manager_id"] == (world.manager.pk, None)  # the directory has none
    slapd.modify(dn, {"sn": "Berg", "mail": "erik@example.se"})
    second = sync(slapd, now=LATER)
    [changed] = second.updated
    assert changed.fields["family_name"] == ("Eriksson", "Berg")
    assert changed.fields["email"] == ("", "erik@example.se")
    erik = Person.objects.get(pk=employee.pk)
    assert (erik.family_name, erik.name_changed_at) == ("Berg", LATER)


def test_bad_entries_are_reported_by_dn_and_the_others_go_in(world, unit, slapd):
    good = identity_number("19800101")
    wrong = identity_number("19810101")
    wrong = wrong[:-1] + str((int(wrong[-1]) + 1) % 10)
    other_unit = f"ou=Okänd,{slapd.base}"
    tree(
        slapd,
        person_entry(slapd, "Wrong", wrong, f"SE{ORG}-w1", "Wrong", "Digit"),
        person_entry(slapd, "Nameless", identity_number("19820101"), f"SE{ORG}-w2", "", "Utan"),
        person_entry(
            slapd, "Dup", identity_number("19830101"), world.employee.hsa_id, "Dup", "Lika"
        ),
        person_entry(
            slapd,
            "Boss",
            identity_number("19840101"),
            f"SE{ORG}-w4",
            "Has",
            "Ghost",
            manager=f"cn=Nobody,{slapd.base}",
        ),
        (other_unit, ["organizationalUnit", "ekortHsaUnit"], {"hsaIdentity": f"SE{ORG}-okand"}),
        person_entry(
            slapd,
            "Lost",
            identity_number("19850101"),
            f"SE{ORG}-w5",
            "In",
            "Unit",
            under=other_unit,
        ),
        person_entry(slapd, "Good", good, f"SE{ORG}-ok1", "Good", "Row"),
    )
    report = sync(slapd)
    reasons = {problem.where: problem.reason for problem in report.problems}
    base = slapd.base
    assert "check digit" in reasons[f"DN cn=Wrong,ou=Akuten,{base}"]
    assert "given name is missing" in reasons[f"DN cn=Nameless,ou=Akuten,{base}"]
    assert "duplicate HSA-id" in reasons[f"DN cn=Dup,ou=Akuten,{base}"]
    assert "Unknown manager" in reasons[f"DN cn=Boss,ou=Akuten,{base}"]
    assert "Unknown unit" in reasons[f"DN cn=Lost,{other_unit}"]
    assert len(reasons) == 5
    assert [change.label for change in report.created] == ["19800101-**** Good Row"]


@pytest.mark.parametrize(("now", "blocked"), [(LAST_DAY_END, False), (DAY_AFTER, True)])
def test_the_directory_end_of_employment_blocks_from_the_next_day(world, unit, slapd, now, blocked):
    card = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    employee = world.employee
    tree(
        slapd,
        person_entry(
            slapd,
            "Erik",
            employee.identity_number,
            employee.hsa_id,
            "Erik",
            "Eriksson",
            ekortEmploymentEnd="2024-05-31",
        ),
    )
    sync(slapd, now=now)
    card.refresh_from_db()
    assert (card.state == "blocked") is blocked
    if blocked:
        assert card.block.reason == "employment_ended"


def test_gone_from_a_complete_directory_blocks_but_not_from_a_partial_one(world, unit, slapd):
    card = activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 5, 10))
    manager = world.manager
    tree(
        slapd,
        person_entry(slapd, "Maria", manager.identity_number, manager.hsa_id, "Maria", "Chef"),
    )
    partial = sync(slapd, now=DAY_AFTER)
    assert partial.ended == []
    assert Card.objects.get(pk=card.pk).state == "active"
    dry = sync(slapd, now=DAY_AFTER, complete=True, dry_run=True)
    assert [change.person_id for change in dry.ended] == [world.employee.pk]
    assert Card.objects.get(pk=card.pk).state == "active"
    complete = sync(slapd, now=DAY_AFTER, complete=True)
    assert [change.person_id for change in complete.ended] == [world.employee.pk]
    card.refresh_from_db()
    assert (card.state, card.block.reason) == ("blocked", "employment_ended")
    assert str(Person.objects.get(pk=world.employee.pk).employment_ends) == "2024-05-31"


def test_ekort_people_sync_reads_the_password_from_a_file(world, unit, slapd, tmp_path, capsys):
    tree(
        slapd,
        person_entry(slapd, "Sara", identity_number("19900215"), f"SE{ORG}-sl01", "Sara", "Lind"),
    )
    secret = tmp_path / "password"
    secret.write_text(slapd.password + "\n", encoding="utf-8")
    options = ["--url", slapd.url, "--base", slapd.base, "--bind-dn", slapd.admin]
    options += ["--password-file", str(secret), "--at", "2024-06-01T10:00+02:00"]
    before = counts()
    call_command("people", "sync", *options, "--dry-run")
    assert counts() == before
    out = capsys.readouterr().out
    assert "new person 19900215-**** Sara Lind" in out
    assert slapd.password not in out
    call_command("people", "sync", *options)
    assert Person.objects.filter(hsa_id=f"SE{ORG}-sl01").exists()


def test_the_unit_is_the_nearest_one_above_with_an_hsa_id_and_none_without_one(world, unit, slapd):
    night = f"ou=Natt,{unit_dn(slapd)}"  # an organizational unit without an HSA-id
    sara, bo = identity_number("19900215"), identity_number("19700505")
    tree(slapd)
    slapd.add(
        [
            (night, ["organizationalUnit"], {}),
            person_entry(slapd, "Sara", sara, f"SE{ORG}-sl01", "Sara", "Lind", under=night),
            person_entry(slapd, "Bo", bo, f"SE{ORG}-bo01", "Bo", "Ek", under=slapd.base),
        ]
    )
    report = sync(slapd)
    assert report.problems == []
    assert Person.objects.get(identity_number=sara).unit_id == unit.pk
    assert Person.objects.get(identity_number=bo).unit_id is None


def test_a_person_without_an_hsa_id_goes_in_but_cannot_be_anyones_manager(world, unit, slapd):
    boss, staff = identity_number("19700505"), identity_number("19900215")
    boss_dn, classes, attributes = person_entry(slapd, "Bo", boss, "", "Bo", "Ek")
    del attributes["hsaIdentity"]
    tree(
        slapd,
        (boss_dn, classes, attributes),
        person_entry(slapd, "Sara", staff, f"SE{ORG}-sl01", "Sara", "Lind", manager=boss_dn),
    )
    report = sync(slapd)
    [problem] = report.problems
    assert problem.where == f"DN cn=Sara,{unit_dn(slapd)}"
    assert problem.reason == f"Unknown manager: {boss_dn} has no HSA-id in the directory."
    assert [change.label for change in report.created] == ["19700505-**** Bo Ek"]
    assert Person.objects.get(identity_number=boss).hsa_id in (None, "")


def test_a_value_the_directory_sends_as_bytes_reads_as_its_utf8_text():
    """A directory whose schema gives an attribute a binary syntax sends its values as bytes."""
    dn = "cn=Sara,ou=Akuten,l=Region Gavleborg,c=SE"
    [record] = _records(
        iter(
            [
                {
                    "dn": dn,
                    "attributes": {
                        "objectClass": ["inetOrgPerson"],
                        "givenName": [b"S\xc3\xa5ra"],
                        "sn": [b"Lind"],
                        "personalIdentityNumber": b"199002150000",
                        "mail": [],
                    },
                }
            ]
        )
    )
    assert record.where == f"DN {dn}"
    values = record.values
    assert (values["given_name"], values["family_name"]) == ("Såra", "Lind")
    assert (values["identity_number"], values["email"], values["unit_hsa_id"]) == (
        "199002150000",
        "",
        "",
    )


def test_a_url_that_is_not_ldap_is_refused_before_anything_is_asked(world):
    before = counts()
    with pytest.raises(InvalidInput, match=r"'https://hsa\.example\.se' is not an LDAP URL"):
        read_directory(Directory("https://hsa.example.se", "c=SE"))
    with pytest.raises(CommandError, match="not an LDAP URL"):
        call_command("people", "sync", "--url", "https://hsa.example.se", "--base", "c=SE")
    assert counts() == before


def test_a_directory_that_does_not_answer_changes_nothing(world, slapd):
    slapd.process.terminate()
    slapd.process.wait()
    before = counts()
    with pytest.raises(InvalidInput) as failed:
        read_directory(directory(slapd))
    assert "could not be read" in str(failed.value)
    with pytest.raises(CommandError):
        call_command("people", "sync", "--url", slapd.url, "--base", slapd.base)
    assert counts() == before


def test_a_wrong_password_is_a_clear_error(world, slapd):
    with pytest.raises(InvalidInput) as failed:
        read_directory(Directory(slapd.url, slapd.base, slapd.admin, "wrong"))
    assert "could not be read" in str(failed.value)
    assert "wrong" not in str(failed.value).replace("could not", "")
