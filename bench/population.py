"""Generated populations for the sweep and search benchmarks: persons, their card orders and
cards, and (for the sweep) the cards' authentication certificates and stored OCSP responses.

Rows go straight into the tables in bulk: PostgreSQL COPY (text format, written by us), SQLite
`executemany`, one transaction. They look like what the services leave behind (valid identity
numbers and card numbers, a card in its state with its deadlines, an on-hold certificate with
its pre-signed response) without walking each card through its lifecycle: a million ORM saves
and a million signatures would take the benchmark's whole budget. Certificates carry a short
placeholder instead of a signed DER and every stored OCSP response the same signed bytes: no
sweep, CRL or OCSP refresh reads either.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction

from ekort.domain.card_numbers import format_card_number
from ekort.domain.identifiers import luhn_check_digit

FIRST_BIRTH_DAY = date(1940, 1, 1)
BIRTH_DAYS = 20_000  # up to 1994-10: everybody is an adult in the benchmarks' 2024-2026
GIVEN = ("Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Per", "Sara", "Nils")
FAMILY = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson")
PLACEHOLDER_DER = b"\x30\x03\x02\x01\x00"  # a certificate's DER is not read by what we time
ROW_CHUNK = 50_000  # rows formatted and sent at a time: bounded memory at a million


def identity_number(index: int) -> str:
    """The `index`-th of up to 20,000,000 distinct, valid personnummer (12 digits)."""
    if not 0 <= index < BIRTH_DAYS * 1000:
        raise ValueError(f"identity number index {index} out of range")
    birth = FIRST_BIRTH_DAY + timedelta(days=index % BIRTH_DAYS)
    serial = f"{index // BIRTH_DAYS:03d}"
    short = f"{birth:%y%m%d}{serial}"
    return f"{birth:%Y%m%d}{serial}{luhn_check_digit(short)}"


def card_number(prefix: str, index: int) -> str:
    """The `index`-th card number (index from 0), valid with its Luhn digit."""
    return format_card_number(prefix, index + 1)


def serial_hex(index: int) -> str:
    """A certificate serial (lower-case hex, no leading zeros, positive, under 160 bits)."""
    return format(0x4000_0000_0000_0000 + index, "x")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]


PERSON = Table(
    "ekort_person",
    (
        "id",
        "identity_number",
        "identity_kind",
        "given_name",
        "family_name",
        "hsa_id",
        "protected_identity",
        "street_address",
        "postal_code",
        "postal_town",
        "email",
    ),
)
ORDER = Table(
    "ekort_cardorder",
    ("id", "person_id", "card_type", "ordered_by_id", "ordered_at", "note", "replacement_reason"),
)
CARD = Table(
    "ekort_card",
    (
        "id",
        "order_id",
        "person_id",
        "card_type",
        "state",
        "assurance_level",
        "number",
        "generation",
        "sis_marked",
        "photo_sha256",
        "delivery_path",
        "produced_at",
        "valid_until",
        "sent_at",
        "activation_deadline",
    ),
)
CERTIFICATE = Table(
    "ekort_certificate",
    (
        "id",
        "card_id",
        "issuer_id",
        "profile",
        "serial",
        "subject",
        "not_before",
        "not_after",
        "der",
        "status",
        "status_changed_at",
        "revocation_reason",
        "on_card",
    ),
)
OCSP_RESPONSE = Table(
    "ekort_ocspresponse",
    ("id", "issuer_id", "serial", "der", "this_update", "next_update", "revision"),
)


@dataclass(frozen=True)
class Cards:
    """What to generate: `count` persons with one card each."""

    count: int
    state: str
    ordered_by_id: int
    prefix: str
    at: datetime  # ordered, produced and sent
    valid_until: date
    activation_deadline: date | None = None
    # With an issuing CA's pk: an on-hold authentication certificate per card, and, where
    # `response_der` is given, a stored OCSP response (valid until `response_until`). ekort's
    # production stores none for a certificate on hold (`status.note_issued_on_hold`).
    issuer_id: int | None = None
    response_der: bytes = b""
    response_until: datetime | None = None


@dataclass(frozen=True)
class Generated:
    first_person: int
    first_card: int
    count: int


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - our names
        row = cursor.fetchone()
    return int(row[0])


def _persons(first: int, count: int, offset: int) -> Iterator[tuple[Any, ...]]:
    for i in range(count):
        n = offset + i
        yield (
            first + i,
            identity_number(n),
            "personnummer",
            GIVEN[n % len(GIVEN)],
            FAMILY[n % len(FAMILY)],
            None,
            False,
            f"Storgatan {n % 90 + 1}",
            "80320",
            "Gävle",
            "",
        )


def _cards(spec: Cards, card0: int, order0: int, person0: int) -> Iterator[tuple[Any, ...]]:
    for i in range(spec.count):
        yield (
            card0 + i,
            order0 + i,
            person0 + i,
            "photo",
            spec.state,
            "3",
            card_number(spec.prefix, card0 + i),
            "portrait-2024",
            False,
            "",
            "home",
            spec.at,
            spec.valid_until,
            spec.at,
            spec.activation_deadline,
        )


def person_lines(first: int, count: int, offset: int) -> Iterator[str]:
    """`copy_lines(_persons(...))`, written directly: the per-field formatting was most of the
    generation's Python time."""
    for i in range(count):
        n = offset + i
        yield (
            f"{first + i}\t{identity_number(n)}\tpersonnummer\t{GIVEN[n % len(GIVEN)]}\t"
            f"{FAMILY[n % len(FAMILY)]}\t\\N\tf\tStorgatan {n % 90 + 1}\t80320\tGävle\t\n"
        )


def card_lines(spec: Cards, card0: int, order0: int, person0: int) -> Iterator[str]:
    """`copy_lines(_cards(...))`, written directly (see `person_lines`)."""
    middle = "\t".join(map(_text, ("photo", spec.state, "3")))
    tail = "\t".join(
        map(
            _text,
            (
                "portrait-2024",
                False,
                "",
                "home",
                spec.at,
                spec.valid_until,
                spec.at,
                spec.activation_deadline,
            ),
        )
    )
    for i in range(spec.count):
        number = card_number(spec.prefix, card0 + i)
        yield f"{card0 + i}\t{order0 + i}\t{person0 + i}\t{middle}\t{number}\t{tail}\n"


def generate(spec: Cards) -> Generated:
    """Insert the population in one transaction; returns where its ids start."""
    offset = _next_id(PERSON.name) - 1  # identity numbers continue after earlier persons
    person0, order0, card0 = (_next_id(t.name) for t in (PERSON, ORDER, CARD))
    n, at = spec.count, spec.at
    tables: list[tuple[Table, Callable[[], Iterable[tuple[Any, ...]]]]] = [
        (PERSON, lambda: _persons(person0, n, offset)),
        (
            ORDER,
            lambda: (
                (order0 + i, person0 + i, "photo", spec.ordered_by_id, at, "", "") for i in range(n)
            ),
        ),
        (CARD, lambda: _cards(spec, card0, order0, person0)),
    ]
    if spec.issuer_id is not None:
        issuer = spec.issuer_id
        cert0, response0 = _next_id(CERTIFICATE.name), _next_id(OCSP_RESPONSE.name)
        not_after = datetime.combine(spec.valid_until, datetime.min.time(), tzinfo=at.tzinfo)
        tables.append(
            (
                CERTIFICATE,
                lambda: (
                    (
                        cert0 + i,
                        card0 + i,
                        issuer,
                        "auth",
                        serial_hex(cert0 + i),
                        f"CN=Bench {card0 + i}",
                        at,
                        not_after,
                        PLACEHOLDER_DER,
                        "on_hold",
                        at,
                        "",
                        True,
                    )
                    for i in range(n)
                ),
            )
        )
        if spec.response_der:
            tables.append(
                (
                    OCSP_RESPONSE,
                    lambda: (
                        (
                            response0 + i,
                            issuer,
                            serial_hex(cert0 + i),
                            spec.response_der,
                            at,
                            spec.response_until,
                            0,
                        )
                        for i in range(n)
                    ),
                )
            )
    server_side = _server_side(spec, order0, person0, card0) if _postgres() else {}
    lines: dict[str, Callable[[], Iterator[str]]] = (
        {
            PERSON.name: lambda: person_lines(person0, n, offset),
            CARD.name: lambda: card_lines(spec, card0, order0, person0),
        }
        if _postgres()
        else {}
    )
    with transaction.atomic():
        if _postgres():
            _skip_reference_checks()
        for table, rows in tables:
            if table.name in server_side:
                with connection.cursor() as cursor:
                    cursor.execute(*server_side[table.name])
            elif table.name in lines:
                copy_in(table, lines[table.name]())
            else:
                insert(table, rows())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table, _ in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table.name}))"
                )
                # As pgbench does before a run: tables just filled with a million rows would
                # otherwise be vacuumed by autovacuum (and have their rows' hint bits set)
                # during the timed work, which a table in service has long had done.
                cursor.execute(f"VACUUM (ANALYZE) {table.name}")
    return Generated(person0, card0, n)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _skip_reference_checks() -> None:
    """For this transaction, as a superuser can (pg_restore --disable-triggers does the same):
    no foreign-key check per inserted row at commit, which took a third of the generation's
    time. The rows refer to each other by construction; the benchmarks check what they use."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def _server_side(
    spec: Cards, order0: int, person0: int, card0: int
) -> dict[str, tuple[str, list[Any]]]:
    """The tables PostgreSQL can generate itself (INSERT ... SELECT over generate_series): no
    check digits in them, so nothing Python must compute per row, and the rows (an OCSP
    response each) never cross the connection. The same rows as the Python generators make."""
    n, at = spec.count, spec.at
    series = "generate_series(0, %s - 1) AS i"
    statements = {
        ORDER.name: (
            f"INSERT INTO {ORDER.name} ({', '.join(ORDER.columns)}) "  # noqa: S608 - our names
            f"SELECT %s + i, %s + i, 'photo', %s, %s, '', '' FROM {series}",
            [order0, person0, spec.ordered_by_id, at, n],
        )
    }
    if spec.issuer_id is not None:
        cert0, response0 = _next_id(CERTIFICATE.name), _next_id(OCSP_RESPONSE.name)
        not_after = datetime.combine(spec.valid_until, datetime.min.time(), tzinfo=at.tzinfo)
        serial = f"to_hex({int(serial_hex(0), 16)} + %s + i)"
        statements[CERTIFICATE.name] = (
            f"INSERT INTO {CERTIFICATE.name} ({', '.join(CERTIFICATE.columns)}) "  # noqa: S608
            f"SELECT %s + i, %s + i, %s, 'auth', {serial}, 'CN=Bench ' || (%s + i), %s, %s, "
            f"%s, 'on_hold', %s, '', true FROM {series}",
            [cert0, card0, spec.issuer_id, cert0, card0, at, not_after, PLACEHOLDER_DER, at, n],
        )
        if spec.response_der:
            statements[OCSP_RESPONSE.name] = (
                f"INSERT INTO {OCSP_RESPONSE.name} ({', '.join(OCSP_RESPONSE.columns)}) "  # noqa: S608
                f"SELECT %s + i, %s, {serial}, %s, %s, %s, 0 FROM {series}",
                [response0, spec.issuer_id, cert0, spec.response_der, at, spec.response_until, n],
            )
    return statements


def _text(value: Any) -> str:
    """One field in PostgreSQL's COPY text format (our values hold no tabs or newlines)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def copy_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    for row in rows:
        yield "\t".join(map(_text, row)) + "\n"


def copy_in(table: Table, lines: Iterable[str]) -> None:
    """COPY lines already in PostgreSQL's text format into `table`."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, under Django's wrapper
        with raw.copy(f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN") as copy:
            for batch in _batched(lines, ROW_CHUNK):
                copy.write("".join(batch))


def insert(table: Table, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk-insert `rows` (tuples in `table.columns` order) on the current connection."""
    columns = ", ".join(table.columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's own cursor, under Django's wrapper
            with raw.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                for lines in _batched(copy_lines(rows), ROW_CHUNK):
                    copy.write("".join(lines))
        else:
            marks = ", ".join(["%s"] * len(table.columns))
            sql = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"  # noqa: S608
            for batch in _batched(rows, ROW_CHUNK):
                cursor.executemany(sql, [_sqlite(row) for row in batch])


def _sqlite(row: Sequence[Any]) -> tuple[Any, ...]:
    # Django stores aware datetimes on SQLite as naive UTC text; match it.
    return tuple(
        v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") if isinstance(v, datetime) else v
        for v in row
    )


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
