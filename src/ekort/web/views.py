from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from ekort.domain.errors import InvalidInput
from ekort.domain.rules_report import rules_json
from ekort.domain.timekeeping import local_date, parse_instant
from ekort.services import clock
from ekort.services.offices import offices_by_town
from ekort.services.policy import current_calendar

from .labels import CARD_TYPES, POLICY_ACTIONS
from .timeline import timeline


def home(request: HttpRequest) -> HttpResponse:
    calendar = current_calendar()
    now = clock.now()
    return render(
        request,
        "ekort/home.html",
        {
            "period": calendar.period_at(now),
            "region": calendar.region,
            "offices": offices_by_town(now),
        },
    )


def rules(request: HttpRequest) -> HttpResponse:
    """The rules in force at a chosen instant (?at=2024-01-24), for planning a transition."""
    error = ""
    at = clock.now()
    text = request.GET.get("at", "").strip()[:40]
    if text:
        try:
            at = parse_instant(text)
        except InvalidInput:
            error = gettext(
                "Det är inget datum som går att läsa. Skriv datumet som 2024-01-24, eller med "
                "klockslag som 2024-01-24 10:00."
            )
    calendar = current_calendar()
    report = rules_json(calendar, at)
    rows = [
        {
            **row,
            "action_words": POLICY_ACTIONS[row["action"]],
            "card_type_words": CARD_TYPES[row["card_type"]],
        }
        for row in report["rules"]
    ]
    context = {
        "report": report,
        "period": calendar.period_at(at),
        "rows": rows,
        "at": at,
        "error": error,
        "at_text": text,
        "timeline": timeline(calendar, local_date(at)),
    }
    return render(request, "ekort/rules.html", context)
