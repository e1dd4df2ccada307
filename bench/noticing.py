"""The notice selection's work (see bench.notices): `notices.record_due` over 1,000,000 cards
on PostgreSQL (20,000 with --quick), a steady state as a region would have it.

The population is generated in the database (INSERT ... SELECT over generate_series, valid
identity and card numbers with their Luhn digits computed in SQL): a person for each card and a
manager for every twenty, each with an e-mail address, and cards spread evenly over the days
around the bench day D (2025-06-02), by their share in a region:

- 90 % active, last valid day D ... D + 5 years, each with its authentication certificate
  (ending with the card: the card's notice tells of it) and one in ten with a signature
  certificate ending sooner (a notice of its own, R12);
- 4 % sent home and not activated, activation deadline D ... D + 3 months (R8);
- 1 % awaiting pick-up, pick-up deadline D ... D + 30 days (R3);
- 5 % blocked, one a day over five years.

Three runs, each timed: the day before D, the first run after notices are switched on (every
notice then in its window is new); D, the nightly run the target is for (only the notices
whose threshold is crossed that day, or whose news is that day's, are new), after a VACUUM
ANALYZE of the records as autovacuum would have made during the day; and D again, which records
nothing. Before them, a plain COPY of the same rows (the columns of the cards and
certificates the selection reads) out of the database to this process, in the same run: the
floor for reading them. Checked after: the runs' counts add up, the rerun records nothing, and
for a sample of cards the records are exactly what the domain (`notices_due`) says.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import NOT_PROVIDED, Field, Model

from ekort.domain.lifecycle import CardState
from ekort.domain.notices import CardFacts, notices_due
from ekort.domain.timekeeping import STOCKHOLM, local_date
from ekort.services import notices
from ekort.services.ca import authority
from ekort.store.models import Card, CardOrder, Certificate, Notice, Person

from .core import POSTGRES, Context, Result, Target, stopwatch

D = date(2025, 6, 2)
EVE = datetime(2025, 6, 1, 23, 30, tzinfo=STOCKHOLM)  # the first run, the night before D
NIGHT = datetime(2025, 6, 2, 23, 30, tzinfo=STOCKHOLM)  # the nightly run on D
TARGET = Target("<=", 10.0, "under 10 s for 1,000,000 cards on PostgreSQL")
SAMPLE = 2000  # cards whose records are compared with the domain's decision
MANAGED = 20  # employees per manager


def size(ctx: Context) -> int:
    return 20_000 if ctx.quick else 1_000_000


def luhn(digits: str, length: int) -> str:
    """SQL for the Luhn check digit of the text expression `digits` of `length` digits
    (`identifiers.luhn_check_digit`): every other digit from the right doubled."""
    terms = []
    for position in range(length):
        digit = f"substr({digits}, {length - position}, 1)::int"
        if position % 2 == 0:
            terms.append(f"(({digit} * 2) / 10 + ({digit} * 2) % 10)")
        else:
            terms.append(digit)
    return f"((10 - ({' + '.join(terms)}) % 10) % 10)::text"


def _insert(model: type[Model], count: int, values: dict[str, str], params: dict[str, Any]) -> None:
    """`count` rows of `model` from `generate_series(0, count - 1) AS i`, each column from
    `values` (SQL over `i`, named parameters) or else its field's default (NULL, "", False):
    the columns others add to the model need nothing here."""
    fields: list[Field[Any, Any]] = [f for f in model._meta.concrete_fields]
    columns, expressions = [], []
    for field in fields:
        columns.append(connection.ops.quote_name(str(field.column)))
        if field.column in values:
            expressions.append(values[field.column])
            continue
        default = (
            field.get_default() if field.default is not NOT_PROVIDED or not field.null else None
        )
        name = f"default_{field.column}"
        params[name] = field.get_db_prep_save(default, connection)
        expressions.append(f"%({name})s")
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} "  # noqa: S608 - our SQL
        f"FROM generate_series(0, {int(count) - 1}) AS i"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql.replace(" % ", " %% "), params)  # the modulo, not a parameter


def _next_id(model: type[Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")  # noqa: S608
        row = cursor.fetchone()
    return int(row[0]) if row else 1


LOADED = ("ekort_person", "ekort_cardorder", "ekort_card", "ekort_certificate")


@contextmanager
def indexes_built_after(tables: Sequence[str]) -> Iterator[None]:
    """Drop the tables' unique constraints and indexes (their primary keys aside), and build
    them again once the rows are in: one sort per index instead of a million insertions into
    each (the load's time roughly halved)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c WHERE c.contype = 'u' AND c.conrelid::regclass::text"
            " = ANY(%s)",
            [list(tables)],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [list(tables)],
        )
        indexes = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(definition)


def populate(count: int) -> dict[str, Any]:
    """The CA hierarchy, `count` cards with their persons, orders and certificates, and
    `count` / 20 managers; the first ids."""
    authority.init_hierarchy(now=datetime(2020, 1, 1, tzinfo=STOCKHOLM))
    issuer = authority.issuing_ca("3")
    orderer = User.objects.create_user("bench-orderer", password=None)
    managers = max(1, count // MANAGED)
    person0, order0, card0, cert0 = (_next_id(m) for m in (Person, CardOrder, Card, Certificate))
    # A person's identity number is the n-th valid personnummer (n = the person's id), as
    # bench.population.identity_number makes them: born on day n % 20,000 from 1940, serial
    # n / 20,000, and the Luhn digit over YYMMDDNNN.
    n = "(i + %(person0)s)"
    serial = f"lpad(({n} / 20000)::text, 3, '0')"
    birth = f"(date '1940-01-01' + {n} % 20000)"
    short = f"(to_char({birth}, 'YYMMDD') || {serial})"
    number = f"to_char({birth}, 'YYYYMMDD') || {serial} || {luhn(short, 9)}"
    params: dict[str, Any] = {"person0": person0, "managers": managers, "count": count}
    prefix = settings.EKORT_CARD_NUMBER_PREFIX
    payload = f"'{prefix}' || lpad((i + %(card0)s)::text, 10, '0')"
    with transaction.atomic(), indexes_built_after(LOADED):
        # A bulk load of rows consistent by construction: no foreign-key trigger per row (the
        # deferred checks of four million references took minutes at the commit). Needs a
        # superuser, as the benchmarks' PostgreSQL role is.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        _insert(
            Person,
            managers + count,
            {
                "id": "i + %(person0)s",
                "identity_number": number,
                "identity_kind": "'personnummer'",
                "given_name": "(ARRAY['Anna','Erik','Maria','Lars','Karin','Johan'])[i % 6 + 1]",
                "family_name": "(ARRAY['Andersson','Johansson','Karlsson','Nilsson'])[i % 4 + 1]",
                "manager_id": (
                    "CASE WHEN i < %(managers)s THEN NULL ELSE %(person0)s + i % %(managers)s END"
                ),
                "street_address": "'Storgatan ' || (i % 90 + 1)",
                "postal_code": "'80320'",
                "postal_town": "'Gävle'",
                "email": "'p' || (i + %(person0)s) || '@bench.example'",
            },
            params,
        )
        # Card i belongs to employee i (person managers + i), by its share: i % 100.
        kind = "(i % 100)"
        j = "((i / 100) * 613)"  # spread over the days, even for a few cards
        day = "%(d)s::date"
        params.update(
            {"order0": order0, "card0": card0, "orderer": orderer.pk, "d": D, "cert0": cert0}
        )
        _insert(
            CardOrder,
            count,
            {
                "id": "i + %(order0)s",
                "person_id": "i + %(person0)s + %(managers)s",
                "card_type": "'photo'",
                "ordered_by_id": "%(orderer)s",
                "ordered_at": "timestamptz '2020-01-01 10:00+01'",
            },
            params,
        )
        sent_at = (
            f"(CASE WHEN {kind} < 4 THEN {day} + {j} % 92 - 91"
            f" WHEN {kind} = 4 THEN {day} + {j} % 30 - 30"
            f" ELSE {day} - 400 END + time '10:00') AT TIME ZONE 'Europe/Stockholm'"
        )
        _insert(
            Card,
            count,
            {
                "id": "i + %(card0)s",
                "order_id": "i + %(order0)s",
                "person_id": "i + %(person0)s + %(managers)s",
                "card_type": "'photo'",
                "state": (
                    f"CASE WHEN {kind} < 4 THEN 'sent_inactive' WHEN {kind} = 4 THEN "
                    f"'awaiting_pickup' WHEN {kind} < 10 THEN 'blocked' ELSE 'active' END"
                ),
                "assurance_level": "'3'",
                "number": f"{payload} || {luhn(payload, len(prefix) + 10)}",
                "generation": "'portrait-2024'",
                "delivery_path": f"CASE WHEN {kind} = 4 THEN 'code_envelope' ELSE 'home' END",
                "produced_at": sent_at,
                "sent_at": sent_at,
                "valid_until": (
                    f"CASE WHEN {kind} >= 10 THEN {day} + {j} % 1826 ELSE {day} + 1800 END"
                ),
                "activation_deadline": f"CASE WHEN {kind} < 4 THEN {day} + {j} % 92 END",
                "pickup_deadline": f"CASE WHEN {kind} = 4 THEN {day} + {j} % 30 END",
                "activated_at": f"CASE WHEN {kind} >= 10 THEN {sent_at} + interval '1 day' END",
                "closed_at": (
                    f"CASE WHEN {kind} BETWEEN 5 AND 9 THEN ({day} - {j} % 1826 + time '10:00')"
                    " AT TIME ZONE 'Europe/Stockholm' END"
                ),
            },
            params,
        )
        # Certificates: the active cards' authentication certificates, ending with them, and a
        # signature certificate on every tenth, ending within two years.
        actives = (count - count // 100 * 10) if count % 100 == 0 else None
        assert actives is not None, "a whole number of hundreds of cards"
        params.update({"issuer": issuer.pk})
        card_of = "(%(card0)s + (i / 90) * 100 + 10 + i % 90)"  # the i-th active card
        _insert(
            Certificate,
            actives,
            {
                "id": "i + %(cert0)s",
                "card_id": card_of,
                "issuer_id": "%(issuer)s",
                "profile": "'auth'",
                "serial": "to_hex(4611686018427387904 + i + %(cert0)s)",
                "subject": "'CN=Bench ' || i",
                "not_before": "timestamptz '2020-01-01 10:00+01'",
                "not_after": (
                    # its card's last day (j of card i / 90 * 100 + ...), at its end
                    f"(({day} + ((i / 90) * 613) % 1826)::date + time '23:59:59')"
                    " AT TIME ZONE 'Europe/Stockholm'"
                ),
                "der": "'\\x300302010000'::bytea",
                "status": "'valid'",
                "status_changed_at": "timestamptz '2020-01-01 10:00+01'",
                "on_card": "true",
            },
            params,
        )
        signatures = actives // 10
        params["sig0"] = cert0 + actives
        _insert(
            Certificate,
            signatures,
            {
                "id": "i + %(sig0)s",
                "card_id": "(%(card0)s + (i * 10 / 90) * 100 + 10 + (i * 10) % 90)",
                "issuer_id": "%(issuer)s",
                "profile": "'signature'",
                "serial": "to_hex(4611686018427387904 + i + %(sig0)s)",
                "subject": "'CN=Bench signature ' || i",
                "not_before": "timestamptz '2020-01-01 10:00+01'",
                "not_after": (
                    f"(({day} + (i * 7) % 730)::date + time '12:00')"
                    " AT TIME ZONE 'Europe/Stockholm'"
                ),
                "der": "'\\x300302010000'::bytea",
                "status": "'valid'",
                "status_changed_at": "timestamptz '2020-01-01 10:00+01'",
                "on_card": "true",
            },
            params,
        )
    with connection.cursor() as cursor:
        for table in LOADED:
            cursor.execute(f"VACUUM ANALYZE {table}")
            # the ids came with the rows: move the sequences past them
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            cursor.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")  # noqa: S608
    return {"first_card": card0, "managers": managers, "certificates": actives + signatures}


CARD_COLUMNS = (
    "id, state, sent_at, pickup_deadline, activation_deadline, valid_until, closed_at, person_id"
)
CERTIFICATE_COLUMNS = "id, card_id, not_after, status, on_card"


def copy_floor() -> tuple[float, int]:
    """A plain COPY out of the rows the selection reads (the cards' and certificates' columns
    it uses), read to this process and dropped: seconds, bytes."""
    received = 0
    with stopwatch() as took, connection.cursor() as cursor:
        raw = cursor.cursor
        for table, columns in (
            ("ekort_card", CARD_COLUMNS),
            ("ekort_certificate", CERTIFICATE_COLUMNS),
        ):
            with raw.copy(f"COPY {table} ({columns}) TO STDOUT") as copy:
                for block in copy:
                    received += len(block)
    return took[0], received


def facts(card: Card) -> CardFacts:
    block = getattr(card, "block", None)
    return CardFacts(
        CardState(card.state),
        sent_on=local_date(card.sent_at) if card.sent_at else None,
        pickup_deadline=card.pickup_deadline,
        activation_deadline=card.activation_deadline,
        valid_until=card.valid_until,
        closed_on=local_date(card.closed_at) if card.closed_at else None,
        block_reason=block.reason if block else "",
        has_manager=card.person.manager_id is not None,
    )


def check_sample(first_card: int, count: int) -> list[str]:
    """The records of a sample of cards against the domain's decision on the two days."""
    chosen = random.Random(13).sample(range(first_card, first_card + count), min(SAMPLE, count))  # noqa: S311
    problems = []
    recorded: dict[int, set[tuple[str, int, str]]] = {}
    for card_id, kind, days_before, role, certificate in Notice.objects.filter(
        card_id__in=chosen
    ).values_list("card_id", "kind", "days_before", "role", "certificate_id"):
        if certificate is None:
            recorded.setdefault(card_id, set()).add((kind, days_before, role))
    for card in Card.objects.filter(pk__in=chosen).select_related("person"):
        expected = {
            (due.kind.value, due.days_before, role.value)
            for day in (local_date(EVE), local_date(NIGHT))
            for due in notices_due(facts(card), day)
            for role in due.recipients
        }
        if recorded.get(card.pk, set()) != expected:
            problems.append(f"card {card.pk}: recorded {recorded.get(card.pk)}, due {expected}")
    return problems[:3]


def run(ctx: Context) -> list[Result]:
    if ctx.database != POSTGRES:
        raise RuntimeError("the notice selection benchmark runs on PostgreSQL")
    count = size(ctx)
    with stopwatch() as generating:
        made = populate(count)
    connection.close()  # a fresh session, as the nightly job has
    floor, received = copy_floor()
    with stopwatch() as first:
        catch_up = notices.record_due(EVE)
    # A day passes: autovacuum would have vacuumed and analysed the new records (it starts
    # after a thousand inserts), which the nightly run's probes of their index rely on.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE ekort_notice")
    with stopwatch() as nightly:
        new = notices.record_due(NIGHT)
    with stopwatch() as again:
        rerun = notices.record_due(NIGHT)
    problems = check_sample(made["first_card"], count)
    total = Notice.objects.count()
    if total != catch_up + new:
        problems.append(f"{total} records after runs that reported {catch_up} + {new}")
    if rerun:
        problems.append(f"the rerun recorded {rerun} notices")
    if not new or not catch_up:
        problems.append(f"the runs recorded {catch_up} and {new}: nothing to measure")
    if problems:
        raise AssertionError("; ".join(problems))
    full = not ctx.quick
    scale = "" if full else f" ({count:,} cards)"
    notes = (
        f"{count:,} cards, {made['managers']:,} managers, {made['certificates']:,} certificates "
        f"generated in {generating[0]:.1f} s; the first run after switching notices on "
        f"recorded {catch_up:,} notices in {first[0]:.2f} s, then VACUUM ANALYZE of them (the "
        f"day's autovacuum), the nightly run {new:,} "
        f"({nightly[0]:.2f} s), a second run the same night none ({again[0]:.2f} s); checked: "
        f"the records of {min(SAMPLE, count):,} cards are what the domain decides"
    )
    return [
        Result(
            benchmark="notices",
            metric=f"nightly notice selection{scale}",
            value=nightly[0],
            unit="s",
            ratio=nightly[0] / floor,
            ratio_to="a plain COPY of the same rows out of PostgreSQL, same run",
            target=TARGET if full else None,
            notes=notes,
        ),
        Result(
            benchmark="notices",
            metric=f"first notice selection, all due at once{scale}",
            value=first[0],
            unit="s",
            ratio=first[0] / floor,
            ratio_to="the same COPY",
        ),
        Result(
            benchmark="notices",
            metric=f"rerun the same night{scale}",
            value=again[0],
            unit="s",
            ratio=again[0] / floor,
            ratio_to="the same COPY",
        ),
        Result(
            benchmark="notices",
            metric=f"COPY of the cards' and certificates' rows{scale}",
            value=floor,
            unit="s",
            notes=f"{received / 1e6:.1f} MB to this process (psycopg COPY TO STDOUT)",
        ),
    ]
