"""Bulk issuance: photo cards taken from "photographed" to "sent" through ekort's services.

The cards' persons, orders and photographed cards are generated in bulk (not through the
services, which is not what is measured); then `ekort bulk produce` and `ekort bulk send` take
every card on: card number, the virtual chip's PUK and authentication key, the certificate on
hold (no OCSP response is signed ahead for it: `status.note_issued_on_hold`), the database
rows, the audit entries and the cover letter. The figure is cards per second for the whole
batch, once in one process and, for the median of three runs, in as many worker processes as
the machine has cores (`--workers`), each next to the raw signing rate of a P-256 key on one
core measured in the same process (`bench.signing`): the ratio says how many signatures' worth
of time one card costs. Afterwards every card is checked to have really been issued, and the
audit chain to verify.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass
from typing import Any

from .core import (
    POSTGRES,
    SQLITE,
    Benchmark,
    Context,
    Result,
    Target,
    median_of,
    stopwatch,
    usable_cores,
)
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


def identity_numbers(n: int, start: int = 0) -> list[str]:
    """`n` distinct valid 12-digit personnummer, the `start`-th on: 900 per day from 1950 on,
    serials 100-999."""
    numbers = []
    first = dt.date(1950, 1, 1)
    for i in range(start, start + n):
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


def photographed_cards(n: int, staff: Staff, start: int = 0) -> range:
    """`n` persons (the `start`-th on), each with one photo card ordered and photographed, in
    bulk; returns the cards' ids, which are consecutive."""
    from ekort.store.models import Card, CardOrder, Person

    photographed_at = AT - dt.timedelta(days=1)
    last = Card.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
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
            for i, number in enumerate(identity_numbers(n, start), start)
        ],
        batch_size=2000,
    )
    people = list(Person.objects.filter(pk__gte=min(p.pk for p in people)).order_by("pk"))
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
    orders = list(CardOrder.objects.filter(pk__gte=min(o.pk for o in orders)).order_by("pk"))
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
    ids = list(Card.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True))
    assert ids == list(range(ids[0], ids[0] + n)), "the new cards' ids are not consecutive"
    return range(ids[0], ids[0] + n)


CHUNK = 1000  # cards per transaction
RUNS = 3  # runs in all the machine's cores, for the median


def chunk_for(n: int, workers: int) -> int:
    """`CHUNK`, or smaller for a small run, so that every worker gets a few chunks."""
    return max(50, min(CHUNK, n // (4 * workers)))


def issue_all(workers: int, chunk: int = CHUNK) -> str:
    """`ekort bulk produce` then `ekort bulk send` of every card ready for it, as an operator
    runs them, in `workers` processes."""
    from django.core.management import call_command

    out = io.StringIO()
    for verb in ("produce", "send"):
        call_command(
            "bulk", verb, "--card-type", "photo", "--actor", ISSUER, "--at", AT.isoformat(),
            "--chunk", str(chunk), "--workers", str(workers), stdout=out,
        )  # fmt: skip
    return out.getvalue()


def problems(cards: range, audit_before: int) -> list[str]:
    """What is missing or doubled for these cards: every card sent home, one authentication
    certificate on hold, a produce and a send audit entry (after `audit_before`), a cover
    letter, and no OCSP response signed ahead (`status.note_issued_on_hold`)."""
    from django.db.models import Count

    from ekort.store.models import AuditEntry, Card, Certificate, Letter, OcspResponse

    n = len(cards)
    found = []
    span = (cards.start, cards.stop - 1)

    def expect(what: str, count: int) -> None:
        if count != n:
            found.append(f"{what}: {count} of {n}")

    these = Card.objects.filter(pk__range=span)
    expect("cards sent home", these.filter(state="sent_inactive").count())
    expect(
        "cards with a number and a sealed PUK",
        these.exclude(number=None).exclude(puk_ciphertext=None).count(),
    )
    certificates = Certificate.objects.filter(card__pk__range=span)
    per_card = certificates.values("card_id").annotate(n=Count("pk"))
    expect("cards with exactly one certificate", per_card.filter(n=1).count())
    expect(
        "authentication certificates on hold",
        certificates.filter(profile="auth", status="on_hold").count(),
    )
    if OcspResponse.objects.exists():
        found.append(f"OCSP responses signed for cards on hold: {OcspResponse.objects.count()}")
    entries = AuditEntry.objects.filter(seq__gt=audit_before, object_type="card")
    for action in ("produce", "send"):
        expect(f"'{action}' audit entries", entries.filter(action=action).count())
    letters = Letter.objects.filter(card__pk__range=span)
    expect("cover letters", letters.filter(kind="cover_letter").count())
    if letters.count() != n:
        found.append(f"letters: {letters.count()} for {n} cards")
    return found


def _round(n: int, staff: Staff, start: int, workers: int) -> tuple[float, list[str], str]:
    """Generate `n` photographed cards, issue them in `workers` processes and check them:
    the seconds, what is wrong (nothing, normally) and the commands' transcript."""
    from django.db.models import Max

    from ekort.store.models import AuditEntry

    cards = photographed_cards(n, staff, start)
    audit_before = AuditEntry.objects.aggregate(m=Max("seq"))["m"] or 0
    with stopwatch() as took:
        transcript = issue_all(workers, chunk_for(n, workers))
    return took[0], problems(cards, audit_before), transcript


def run(ctx: Context) -> list[Result]:
    import django.conf

    from ekort.services import audit
    from ekort.services.ca.authority import init_hierarchy

    n = QUICK if ctx.quick else int(os.environ.get("EKORT_BENCH_ISSUANCE_CARDS", FULL))
    cores = usable_cores()
    init_hierarchy(now=AT - dt.timedelta(days=30))
    staff = _staff()
    settings = django.conf.settings
    algorithms = (settings.EKORT_CARD_KEY_ALGORITHM, settings.EKORT_CA["issuing_algorithm"])
    keys = "card keys {}, CA {}".format(*algorithms)
    signing = [signatures_per_second(1.0) for _ in range(3)]
    sig_rate = median_of(signing)
    results = []
    start = 0
    for workers, runs in ((1, 1), (cores, 1 if ctx.quick else RUNS)):
        seconds, found = [], []
        for _ in range(runs):
            took, wrong, transcript = _round(n, staff, start, workers)
            start += n
            seconds.append(took)
            found += [f"{w} | {transcript[-300:]}" for w in wrong]
        rate = n / median_of(seconds)
        notes = (
            f"{n} cards per run in {workers} process(es), chunks of {chunk_for(n, workers)}; "
            "runs took "
            + ", ".join(f"{s:.1f} s" for s in seconds)
            + f" ({1000 * median_of(seconds) / n:.2f} ms per card); {keys}"
        )
        if found:
            notes += "; CHECK FAILED: " + "; ".join(found[:3])
        results.append(
            Result(
                benchmark="issuance",
                metric=(
                    f"cards/s photographed → sent, {workers} process(es)" if not found else "FAILED"
                ),
                value=rate if not found else float("nan"),
                unit="cards/s",
                runs=runs,
                samples=[n / s for s in seconds],
                ratio=rate / sig_rate,
                ratio_to=f"{sig_rate:,.0f} raw P-256 sig/s on one core, same process",
                # The target is for the full run's 10,000 cards, not --quick's few.
                target=(
                    TARGET
                    if ctx.database == POSTGRES and workers == cores and not ctx.quick
                    else None
                ),
                notes=notes,
            )
        )
    if audit.verify_trail():
        results[-1].metric, results[-1].value = "FAILED", float("nan")
        results[-1].notes += "; CHECK FAILED: the audit chain does not verify"
    return results


BENCHMARK = Benchmark("issuance", (SQLITE, POSTGRES), run)
