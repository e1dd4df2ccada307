"""The deadline sweep's work (see bench.sweep): the "not activated within three months" job
(R8) over a million cards on PostgreSQL (100,000 on SQLite; 20,000 with --quick), with its
block records, audit entries and certificate revocations. Target: under 20 seconds on
PostgreSQL.

The cards are generated in bulk (`bench.population`): each is sent, inactive, past its
activation deadline, with an on-hold authentication certificate (and, as after production, no
stored OCSP response for it), so the sweep does all its real work. It runs through
`deadlines.run_all` with its chunks in one worker process per core on PostgreSQL, as `ekort
jobs run --workers W` runs it (in this process on SQLite, which has one writer at a time).
The command's second half, `status.publish_due` (the CRL, OCSP responses for the revoked
certificates), is timed on its own. Then everything is checked: each card blocked, one block
record and one audit entry per card, each certificate revoked with a fresh OCSP response, and
the audit chain verifies.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from ekort.cli.workers import sweeps_in_workers
from ekort.domain.timekeeping import STOCKHOLM
from ekort.services import audit, deadlines
from ekort.services.ca import authority, status
from ekort.store.models import AuditEntry, Block, Card, Certificate, OcspResponse

from .core import POSTGRES, Context, Result, Target, stopwatch, usable_cores
from .population import Cards, generate

SENT_AT = datetime(2024, 1, 31, 10, 0, tzinfo=STOCKHOLM)
LAST_DAY = date(2024, 4, 30)  # the activation deadline: the last day to activate (R8)
SWEEP_AT = datetime(2024, 5, 1, 0, 5, tzinfo=STOCKHOLM)
PUBLISH_LIMIT = 100_000
TARGET = Target("<=", 20.0, "under 20 s for 1,000,000 cards on PostgreSQL")
RATE_TARGET = Target(">=", 50_000.0, "at least 50,000 cards/s (1,000,000 in 20 s)")


def size(ctx: Context) -> int:
    if ctx.quick:
        return 20_000
    return 1_000_000 if ctx.database == POSTGRES else 100_000


def populate(count: int) -> tuple[int, float]:
    """The CA hierarchy and `count` due cards; returns the first card's pk and the seconds."""
    authority.init_hierarchy(now=SENT_AT - timedelta(days=30))
    ca = authority.issuing_ca("3")
    orderer = User.objects.create_user("bench-orderer", password=None)
    with stopwatch() as took:
        generated = generate(
            Cards(
                count=count,
                state="sent_inactive",
                ordered_by_id=orderer.pk,
                prefix=settings.EKORT_CARD_NUMBER_PREFIX,
                at=SENT_AT,
                valid_until=date(2029, 1, 31),
                activation_deadline=LAST_DAY,
                issuer_id=ca.pk,  # no stored response: none is signed for one on hold
            )
        )
    return generated.first_card, took[0]


def check(first_card: int, count: int, *, resigned: bool = True) -> list[str]:
    """What is wrong after the sweep; empty when every guarantee holds."""
    cards = Card.objects.filter(pk__gte=first_card, pk__lt=first_card + count)
    problems = []
    blocked = cards.filter(state="blocked", closed_at=SWEEP_AT).count()
    if blocked != count:
        problems.append(f"{count - blocked} cards not blocked")
    blocks = Block.objects.filter(card__in=cards, reason="not_activated").count()
    if blocks != count:
        problems.append(f"{blocks} block records for {count} cards")
    entries = AuditEntry.objects.filter(action="block", actor="job:not_activated").count()
    if entries != count:
        problems.append(f"{entries} audit entries for {count} cards")
    certificates = Certificate.objects.filter(card__in=cards)
    revoked = certificates.filter(status="revoked", revoked_at=SWEEP_AT).count()
    if revoked != count:
        problems.append(f"{count - revoked} certificates not revoked")
    fresh = OcspResponse.objects.filter(this_update=SWEEP_AT).count()
    if resigned and fresh != count:
        problems.append(f"{fresh} fresh OCSP responses for {count} revoked certificates")
    return problems


def run(ctx: Context) -> list[Result]:
    count = size(ctx)
    first_card, generating = populate(count)
    workers = usable_cores() if ctx.database == POSTGRES else 1
    with stopwatch() as swept:
        if workers == 1:
            results = deadlines.run_all(SWEEP_AT)
        else:
            with sweeps_in_workers(workers) as run_chunks:
                results = deadlines.run_all(SWEEP_AT, run_chunks=run_chunks)
    changed = {r.name: r.changed for r in results}
    # Re-signing every response (the publisher's half of `ekort jobs run`) signs one OCSP
    # response per card: about 3,000 a second here, too long for the suite's budget at a
    # million. It is timed up to PUBLISH_LIMIT cards; above, the fresh-response check is skipped.
    published = [float("nan")]
    if count <= PUBLISH_LIMIT:
        with stopwatch() as published:
            status.publish_due(SWEEP_AT)
    problems = check(first_card, count, resigned=count <= PUBLISH_LIMIT)
    if changed["not_activated"] != count:
        problems.insert(0, f"the sweep changed {changed['not_activated']} of {count} cards")
    with stopwatch() as verifying:
        findings = audit.verify_trail()
    if findings:
        problems.append(f"audit verify: {len(findings)} findings, first {findings[0]}")
    if problems:
        raise AssertionError("; ".join(problems))
    seconds = swept[0]
    scale = "" if ctx.database == POSTGRES and not ctx.quick else f" ({count:,} cards)"
    notes = (
        f"{count:,} cards generated in {generating:.1f} s ({connection.vendor}); "
        + (
            f"then `ekort jobs run`'s publish_due (re-signing the revoked certificates' OCSP "
            f"responses, CRL) took {published[0]:.1f} s; "
            if count <= PUBLISH_LIMIT
            else "publish_due not run (re-signs one OCSP response per card); "
        )
        + f"checked: all blocked, {count:,} blocks, audit entries and revoked certificates"
        + (" with fresh OCSP responses" if count <= PUBLISH_LIMIT else "")
        + f"; `audit verify` passed in {verifying[0]:.1f} s"
    )
    return [
        Result(
            benchmark="sweep",
            metric=f"R8 sweep{scale}",
            value=seconds,
            unit="s",
            target=TARGET if ctx.database == POSTGRES and not ctx.quick else None,
            notes=notes,
        ),
        Result(
            benchmark="sweep",
            metric=f"R8 sweep rate{scale}",
            value=count / seconds,
            unit="cards/s",
            target=RATE_TARGET if ctx.database == POSTGRES and not ctx.quick else None,
        ),
    ]
