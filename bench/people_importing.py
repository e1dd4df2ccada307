"""The people import's work (see bench.people_import).

A CSV file of `count` persons is generated: valid identity numbers and HSA-ids, a thousandth
of them managers of the rest, each in one of 20 units with an address and an e-mail address.
The register is given them as their first import would leave it, by COPY (not timed: the
first import of 100,000 persons is a one-off, about 45-55 s on the loaded benchmark machine).
Then, timed, through `people_register.apply_records` (reading the file included):

1. the file with `changes` persons changed: names, e-mail addresses, addresses, units and
   managers, and a tenth of them with a last day of employment in the past and one live card
   each, which is blocked (employment ended) in the person's own transaction;
2. the changed file again, which changes nothing.

The floor is a plain COPY of the file's rows, as the register's columns, into a table made LIKE
the person table (its indexes included), in one transaction, by psycopg. Then the work is
checked: the changes, the blocks, the audit trail and the rerun.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from django.contrib.auth.models import User
from django.db import connection, transaction

from ekort.domain.identifiers import luhn_check_digit
from ekort.domain.people_register import FIELDS
from ekort.domain.timekeeping import STOCKHOLM
from ekort.services import audit
from ekort.services.people_register import Report, apply_records
from ekort.services.people_sources import read_csv
from ekort.store.models import AuditEntry, Block, Card, CardOrder, Organisation, Person, Unit
from ekort.store.sets import insert_rows

from .core import Context, Result, Target, stopwatch

ORG = "2321000198"
UNITS = 20
FIRST_AT = datetime(2024, 5, 20, 6, 0, tzinfo=STOCKHOLM)  # the leavers' cards were activated
CHANGED_AT = datetime(2024, 6, 3, 6, 0, tzinfo=STOCKHOLM)
LAST_DAY = date(2024, 5, 31)
TARGET = Target("<=", 30.0, "under 30 s for 100,000 persons with 1,000 changes")
COLUMNS = (
    "identity_number, hsa_id, given_name, family_name, email, unit_id, manager_id,"
    " street_address, postal_code, postal_town, protected_identity, employment_ends,"
    " identity_kind"
)
GIVEN = ("Anna", "Erik", "Sara", "Lars", "Karin", "Per", "Maria", "Johan", "Eva", "Nils")
FAMILY = ("Andersson", "Berg", "Lind", "Ek", "Holm", "Nilsson", "Karlsson", "Strand", "Sjö")
TOWNS = (("Gävle", "80320"), ("Sandviken", "81130"), ("Hudiksvall", "82430"))


def size(ctx: Context) -> tuple[int, int]:
    return (10_000, 100) if ctx.quick else (100_000, 1_000)


def _identity(serial: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=serial % 18_000)
    digits = f"{born:%Y%m%d}{serial // 18_000 % 1000:03d}"
    return digits + str(luhn_check_digit(digits[2:]))


def _rows(count: int) -> list[dict[str, str]]:
    managers = max(1, count // 1000)
    rows = []
    for n in range(count):
        town, code = TOWNS[n % len(TOWNS)]
        rows.append(
            {
                "identity_number": _identity(n),
                "hsa_id": f"SE{ORG}-p{n}",
                "given_name": GIVEN[n % len(GIVEN)],
                "family_name": FAMILY[n // len(GIVEN) % len(FAMILY)],
                "email": f"person{n}@example.se",
                "unit_hsa_id": f"SE{ORG}-u{n % UNITS}",
                "manager_hsa_id": "" if n < managers else f"SE{ORG}-p{n % managers}",
                "street_address": f"Storgatan {n % 90 + 1}",
                "postal_code": code,
                "postal_town": town,
                "protected_identity": "nej" if n % 500 else "ja",
                "employment_ends": "",
            }
        )
    return rows


def _changed(rows: list[dict[str, str]], changes: int, seed: int = 13) -> list[int]:
    """Change `changes` rows in place (past the managers); returns the numbers of the leavers
    among them."""
    managers = max(1, len(rows) // 1000)
    picked = sorted(
        random.Random(seed).sample(  # noqa: S311 - a repeatable choice, no secret
            range(managers, len(rows)), changes
        )
    )
    leavers = picked[::10]
    for i, n in enumerate(picked):
        row = rows[n]
        kind = i % 5
        if n in leavers:
            row["employment_ends"] = LAST_DAY.isoformat()
        elif kind == 0:
            row["family_name"] += "-Nyman"
        elif kind == 1:
            row["email"] = f"ny.person{n}@example.se"
        elif kind == 2:
            row["street_address"] = f"Nygatan {n % 50 + 1}"
        elif kind == 3:
            row["unit_hsa_id"] = f"SE{ORG}-u{(n + 1) % UNITS}"
        else:
            row["manager_hsa_id"] = f"SE{ORG}-p{(n + 1) % managers}"
    return leavers


def _write(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _import(path: Path, now: datetime) -> tuple[Report, float]:
    with stopwatch() as took:
        report = apply_records(source=f"people-import:{path.name}", records=read_csv(path), now=now)
    assert not report.problems, report.problems[:3]
    return report, took[0]


def _copy_floor(rows: list[dict[str, str]], units: dict[str, int]) -> float:
    """A plain COPY of the same rows, as the register's columns, into a table LIKE the person
    table (indexes included), in one transaction, by psycopg; the table is dropped after."""
    url = connection.settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=url["NAME"],
        user=url["USER"] or None,
        password=url["PASSWORD"] or None,
        host=url["HOST"] or None,
        port=url["PORT"] or None,
    )
    buffer = io.StringIO()
    for row in rows:
        values = (
            row["identity_number"],
            row["hsa_id"],
            row["given_name"],
            row["family_name"],
            row["email"],
            str(units[row["unit_hsa_id"]]),
            "\\N",  # a manager id the file does not have; COPY takes what it is given
            row["street_address"],
            row["postal_code"],
            row["postal_town"],
            "t" if row["protected_identity"] == "ja" else "f",
            row["employment_ends"] or "\\N",
            "personnummer",
        )
        buffer.write("\t".join(values) + "\n")
    data = buffer.getvalue()
    with psycopg.connect(conninfo) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_person_copy")
        conn.execute("CREATE TABLE bench_person_copy (LIKE ekort_person INCLUDING ALL)")
        conn.commit()
        with stopwatch() as took:
            with conn.cursor().copy(f"COPY bench_person_copy ({COLUMNS}) FROM STDIN") as copy:
                copy.write(data)
            conn.commit()
        conn.execute("DROP TABLE bench_person_copy")
        conn.commit()
    return took[0]


def _seed(rows: list[dict[str, str]], units: dict[str, int]) -> None:
    """The register as the file's first import leaves it (the managers first, then the
    persons they manage), written by COPY: what the benchmark times is the import after."""
    columns = (
        "identity_number",
        "identity_kind",
        "hsa_id",
        "given_name",
        "family_name",
        "email",
        "unit_id",
        "manager_id",
        "street_address",
        "postal_code",
        "postal_town",
        "protected_identity",
    )

    def values(row: dict[str, str], managers: dict[str, int]) -> tuple[object, ...]:
        manager = row["manager_hsa_id"]
        return (
            row["identity_number"],
            "personnummer",
            row["hsa_id"],
            row["given_name"],
            row["family_name"],
            row["email"],
            units[row["unit_hsa_id"]],
            managers[manager] if manager else None,
            row["street_address"],
            row["postal_code"],
            row["postal_town"],
            row["protected_identity"] == "ja",
        )

    heads = [row for row in rows if not row["manager_hsa_id"]]
    with transaction.atomic():
        insert_rows(Person, columns, [values(row, {}) for row in heads])
        managers = {str(hsa): pk for hsa, pk in Person.objects.values_list("hsa_id", "pk")}
        rest = [row for row in rows if row["manager_hsa_id"]]
        insert_rows(Person, columns, [values(row, managers) for row in rest])


def _live_cards_for(leavers: list[int], rows: list[dict[str, str]]) -> list[int]:
    """One active card each for the leavers, as after activation (no certificates)."""
    orderer = User.objects.create_user("bench-orderer", password=None)
    persons = dict(
        Person.objects.filter(
            identity_number__in=[rows[n]["identity_number"] for n in leavers]
        ).values_list("identity_number", "pk")
    )
    orders = CardOrder.objects.bulk_create(
        [
            CardOrder(person_id=pk, card_type="photo", ordered_by=orderer, ordered_at=FIRST_AT)
            for pk in persons.values()
        ]
    )
    cards = Card.objects.bulk_create(
        [
            Card(
                order=order,
                person_id=order.person_id,
                card_type="photo",
                state="active",
                number=f"BENCH{i:08d}",
                generation="portrait-2024",
                produced_at=FIRST_AT,
                activated_at=FIRST_AT,
                valid_until=date(2029, 5, 31),
            )
            for i, order in enumerate(orders)
        ]
    )
    return [card.pk for card in cards]


def run(ctx: Context) -> list[Result]:
    count, changes = size(ctx)
    organisation = Organisation.objects.create(name="Region Gävleborg", organisation_number=ORG)
    Unit.objects.bulk_create(
        [
            Unit(organisation=organisation, name=f"Enhet {n}", hsa_id=f"SE{ORG}-u{n}")
            for n in range(UNITS)
        ]
    )
    units = {str(hsa): pk for hsa, pk in Unit.objects.values_list("hsa_id", "pk")}
    rows = _rows(count)
    with stopwatch() as seeding:
        _seed(rows, units)
    leavers = _changed(rows, changes)
    cards = _live_cards_for(leavers, rows)
    second = ctx.workdir / "personal-changed.csv"
    _write(rows, second)
    changed_floor = _copy_floor(rows, units)
    entries_before = AuditEntry.objects.count()
    changed, changed_seconds = _import(second, CHANGED_AT)
    rerun, rerun_seconds = _import(second, CHANGED_AT + timedelta(hours=1))

    # The work checked: each change made once, each leaver's card blocked, nothing on the rerun.
    assert len(changed.updated) == changes, (len(changed.updated), changes)
    assert len(changed.ended) == len(leavers)
    assert changed.unchanged == count - changes
    assert Block.objects.filter(card_id__in=cards, reason="employment_ended").count() == len(cards)
    assert AuditEntry.objects.count() == entries_before + changes + len(cards)
    assert not rerun.changed
    assert rerun.unchanged == count
    assert Person.objects.count() == count
    assert audit.verify_trail() == []

    notes = (
        f"{count:,} persons in a {second.stat().st_size / 1e6:.1f} MB file, the register "
        f"holding them already (written by COPY in {seeding[0]:.1f} s, as its first import "
        f"would leave them); {changes:,} changed (names, e-mail, addresses, units, managers), "
        f"{len(leavers)} of them leaving with a live card each, blocked in their own "
        "transaction. COPY: the same rows into a table LIKE ekort_person, indexes included, "
        "one transaction."
    )
    return [
        Result(
            "people_import",
            f"import with {changes:,} changes",
            changed_seconds,
            "s",
            ratio=changed_seconds / changed_floor,
            ratio_to=f"COPY of the same rows ({changed_floor:.2f} s)",
            target=TARGET if not ctx.quick else None,
            notes=notes,
        ),
        Result(
            "people_import",
            "the same file again (no change)",
            rerun_seconds,
            "s",
            ratio=rerun_seconds / changed_floor,
            ratio_to=f"COPY of the same rows ({changed_floor:.2f} s)",
        ),
    ]
