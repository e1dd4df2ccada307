"""The transition's progress week by week, for Kundtjänst → Översikt: from the dated columns the
cards and their blocks carry (sent, activated, closed; the block's registration), grouped by
ISO week in Swedish time in the database, one statement, and shaped by the domain
(`domain.transition_weeks`).

A block came from a deadline when the R3 or R8 sweep registered it: no account registered it
and its requester is the sweep's job (`deadlines.SWEEPS`). A person's block says a person
asked, whatever reason was chosen, so it is never counted as the deadline's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Count, DateField, QuerySet, Value
from django.db.models.functions import Coalesce, TruncWeek

from ekort.domain.timekeeping import STOCKHOLM, local_date, require_aware
from ekort.domain.transition_weeks import WeekEvent, WeekFigures, transition_start, weekly_progress
from ekort.store.models import Block, Card

from .deadlines import SWEEPS
from .policy import current_calendar
from .roles import Job, actor_label

DEADLINE_JOBS = tuple(actor_label(Job(sweep.name)) for sweep in SWEEPS if sweep.reason)


def _week(field: Any) -> TruncWeek:
    # The Monday of the Stockholm week: Django truncates in this time zone on SQLite (its own
    # function) and on PostgreSQL (AT TIME ZONE), so both count the same weeks.
    return TruncWeek(field, output_field=DateField(), tzinfo=STOCKHOLM)


def _by_week(rows: QuerySet[Any], when: Any, event: WeekEvent) -> QuerySet[Any]:
    return (
        rows.order_by()
        .annotate(week=_week(when), event=Value(event.value))
        .values("week", "event")
        .annotate(n=Count("pk"))
    )


def weekly_events(now: datetime) -> list[tuple[date, str, int]]:
    """How many cards were sent, stopped waiting, were activated, and were blocked by a
    deadline, per Stockholm week, up to `now`: (Monday, `WeekEvent`, count) rows. One SQL
    statement (UNION ALL of four GROUP BYs), a few rows per week, never a row per card."""
    require_aware(now)
    cards = Card.objects.all()
    sent = cards.filter(sent_at__isnull=False, sent_at__lte=now)
    left = sent.annotate(left_at=Coalesce("activated_at", "closed_at")).filter(left_at__lte=now)
    parts = [
        _by_week(sent, "sent_at", WeekEvent.SENT),
        _by_week(left, "left_at", WeekEvent.LEFT),
        _by_week(cards.filter(activated_at__lte=now), "activated_at", WeekEvent.ACTIVATED),
        _by_week(
            Block.objects.filter(
                registered_by__isnull=True, requested_by__in=DEADLINE_JOBS, registered_at__lte=now
            ),
            "registered_at",
            WeekEvent.DEADLINE_BLOCK,
        ),
    ]
    union = parts[0].union(*parts[1:], all=True)
    return [(row["week"], str(row["event"]), int(row["n"])) for row in union]


def progress(now: datetime) -> list[WeekFigures]:
    """The weeks from the start of the transition in the policy calendar in force (the first
    day of a new card generation) to the week of `now`; empty if the calendar has none."""
    require_aware(now)
    start = transition_start(current_calendar())
    if start is None:
        return []
    return weekly_progress(weekly_events(now), start, local_date(now))
