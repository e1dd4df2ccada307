"""Bulk issuance: photo cards taken from "photographed" to "sent" through ekort's services.

The cards' persons, orders and photographed cards are generated in bulk (not through the
services, which is not what is measured); then `ekort bulk produce` and `ekort bulk send` take
every card on: card number, the virtual chip's PUK and authentication key, the certificate on
hold and its pre-signed OCSP response, the database rows, the audit entries and the cover
letter. The figure is cards per second for the whole batch, next to the raw signing rate of a
P-256 key measured in the same process (`bench.signing`): the ratio says how many signatures'
worth of time one card costs. Afterwards every card is checked to have really been issued.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass
from typing import Any

from .core import POSTGRES, SQLITE, Benchmark, Context, Result, Target, median_of, stopwatch
from .signing import signatures_per_second

# Tuesday 2024-02-06, 10:00 in Stockholm: the new process (R6) is open, cards are issued, sent
# home inactive and must be activated within three months (R8).
AT = dt.datetime(2024, 2, 6, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
FULL, QUICK = 10_000, 500
TARGET = Target(">=", 2000.0, "at least 2,000 cards/s on PostgreSQL")
ISSUER, ID_ADMIN, ORDERER = "bench-issuer", "bench-id-admin", "bench-orderer"


def luhn(payload: str) -> int:
    total = 0
    for i, ch in enumerate(payload):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def identity_numbers(n: int) -> list[str]:
    """`n` distinct valid 12-digit personnummer: one per day from 1950 on, serials 0-999."""
    numbers = []
    first = dt.date(1950, 1, 1)
    for i in range(n):
        birth = (first + dt.timedelta(days=i // 900)).strftime("%Y%m%d")
        serial = f"{i % 900 + 100:03d}"
        numbers.append(f"{birth}{serial}{luhn(birth[2:] + serial)}")
    return numbers


@dataclass(frozen=True)
class Staff:
    issuer: Any  # django.contrib.auth User (imported once Django is set up)
    id_admin: Any
    orderer: Any


def _staff() -> Staff:
    from django.contrib.auth.models import Group, User

    from ekort.domain.vocabulary import Role
    from ekort.store.models import Account

    def user(name: str, role: Role) -> User:
        made = User.objects.create_user(username=name, password=None)
        made.groups.add(Group.objects.get_or_create(name=role.value)[0])
        Account.objects.create(user=made)
        return made

    return Staff(
        user(ISSUER, Role.ISSUER_ADMIN), user(ID_ADMIN, Role.ID_ADMIN), user(ORDERER, Role.ORDERER)
    )


def photographed_cards(n: int, staff: Staff) -> list[int]:
    """`n` persons, each with one photo card ordered and photographed, in bulk."""
    from ekort.store.models import Card, CardOrder, Person

    photographed_at = AT - dt.timedelta(days=1)
    people = Person.objects.bulk_create(
        [
            Person(
                identity_number=number,
                identity_kind="personnummer",
                hsa_id=f"SE2321000198-b{i:08d}",
                given_name="Bänk",
                family_name=f"Provsson {i}",
                street_address="Storgatan 1",
                postal_code="80320",
                postal_town="Gävle",
            )
            for i, number in enumerate(identity_numbers(n))
        ],
        batch_size=2000,
    )
    people = list(Person.objects.filter(hsa_id__startswith="SE2321000198-b").order_by("pk"))
    orders = CardOrder.objects.bulk_create(
        [
            CardOrder(
                person=person,
                card_type="photo",
                ordered_by=staff.orderer,
                ordered_at=photographed_at - dt.timedelta(days=7),
            )
            for person in people
        ],
        batch_size=2000,
    )
    orders = list(CardOrder.objects.order_by("pk"))
    Card.objects.bulk_create(
        [
            Card(
                order=order,
                person_id=order.person_id,
                card_type="photo",
                state="photographed",
                photo_sha256="0" * 64,
                photographed_at=photographed_at,
                photographed_by=staff.id_admin,
            )
            for order in orders
        ],
        batch_size=2000,
    )
    return list(Card.objects.order_by("pk").values_list("pk", flat=True))


CHUNK = 1000  # cards per transaction


def issue_all(chunk: int = CHUNK) -> str:
    """`ekort bulk produce` then `ekort bulk send`, as an operator runs them."""
    from django.core.management import call_command

    out = io.StringIO()
    for verb in ("produce", "send"):
        call_command(
            "bulk", verb, "--card-type", "photo", "--actor", ISSUER, "--at", AT.isoformat(),
            "--chunk", str(chunk), stdout=out,
        )  # fmt: skip
    return out.getvalue()


def problems(card_ids: list[int]) -> list[str]:
    """What is missing or doubled: every card sent home, one authentication certificate on
    hold with its OCSP response, a produce and a send audit entry, a cover letter."""
    from django.db.models import Count

    from ekort.services import audit
    from ekort.store.models import AuditEntry, Card, Certificate, Letter, OcspResponse

    n = len(card_ids)
    found = []

    def expect(what: str, count: int) -> None:
        if count != n:
            found.append(f"{what}: {count} of {n}")

    expect("cards sent home", Card.objects.filter(state="sent_inactive").count())
    expect(
        "cards with a number and a sealed PUK",
        Card.objects.exclude(number=None).exclude(puk_ciphertext=None).count(),
    )
    per_card = Certificate.objects.values("card_id").annotate(n=Count("pk"))
    expect("cards with exactly one certificate", per_card.filter(n=1).count())
    expect(
        "authentication certificates on hold",
        Certificate.objects.filter(profile="auth", status="on_hold").count(),
    )
    expect("OCSP responses", OcspResponse.objects.count())
    for action in ("produce", "send"):
        expect(
            f"'{action}' audit entries",
            AuditEntry.objects.filter(object_type="card", action=action).count(),
        )
    expect("cover letters", Letter.objects.filter(kind="cover_letter").count())
    if Letter.objects.count() != n:
        found.append(f"letters: {Letter.objects.count()} for {n} cards")
    if audit.verify_trail():
        found.append("the audit chain does not verify")
    return found


def run(ctx: Context) -> list[Result]:
    import django.conf

    from ekort.services.pki.authority import init_hierarchy

    n = QUICK if ctx.quick else int(os.environ.get("EKORT_BENCH_ISSUANCE_CARDS", FULL))
    init_hierarchy(now=AT - dt.timedelta(days=30))
    staff = _staff()
    with stopwatch() as made:
        card_ids = photographed_cards(n, staff)
    with stopwatch() as took:
        transcript = issue_all()
    rate = n / took[0]
    found = problems(card_ids)
    signing = [signatures_per_second(1.0) for _ in range(3)]
    sig_rate = median_of(signing)
    notes = (
        f"{n} cards (generated in {made[0]:.1f} s), produced and sent in {took[0]:.1f} s "
        f"({1000 * took[0] / n:.1f} ms per card); card keys "
        f"{django.conf.settings.EKORT_CARD_KEY_ALGORITHM}, issuing CA "
        f"{django.conf.settings.EKORT_CA['issuing_algorithm']}"
    )
    if found:
        notes += "; CHECK FAILED: " + "; ".join(found) + " | " + transcript[-400:]
    result = Result(
        benchmark="issuance",
        metric="cards/s photographed → sent" if not found else "FAILED",
        value=rate if not found else float("nan"),
        unit="cards/s",
        ratio=rate / sig_rate,
        ratio_to=f"{sig_rate:,.0f} raw P-256 sig/s in the same process",
        target=TARGET if ctx.database == POSTGRES else None,
        notes=notes,
    )
    return [result]


BENCHMARK = Benchmark("issuance", (SQLITE, POSTGRES), run)
