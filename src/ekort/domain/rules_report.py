"""The rules in force at an instant, as a plain text table or as JSON (for `ekort rules`).

Both reports show the same facts: the period, its summary, the card generation and delivery
path, the deadline for a card sent at that instant, and one row per (action, card type) with
the decision, the rule cited and the sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from .policy_calendar import Period, PolicyCalendar
from .rulebook import Rule
from .timekeeping import STOCKHOLM, local_date


def render_rules_text(calendar: PolicyCalendar, now: datetime) -> str:
    """A plain, aligned table for a terminal; English, since the command line speaks English."""
    period = calendar.period_at(now)
    pickup, activation = _deadlines(calendar, period, now)
    following = _next_period(calendar, now)
    header = [
        ("Region", calendar.region),
        ("At", f"{_stockholm(now)} (Stockholm date {local_date(now)})"),
        ("Period", f"{period.name} ({_span(period)})"),
        ("Summary", period.summary_en),
        ("Generation", str(period.generation)),
        ("Delivery path", str(period.delivery_path)),
        ("SIS-marked photo cards", "yes" if period.sis_marked_photo_cards else "no"),
    ]
    if pickup is not None:
        header.append(("Card sent now", f"collect by {pickup} (pick-up deadline)"))
    if activation is not None:
        header.append(("Card sent now", f"activate by {activation} (activation deadline)"))
    if following is not None:
        header.append(("Next change", f"{following.first_day}: {following.name}"))
    label_width = max(len(label) for label, _ in header) + 1
    lines = [f"{label + ':':<{label_width}} {value}" for label, value in header]

    rows = [("ACTION", "CARD TYPE", "DECISION", "RULE", "REASON")] + [
        (
            str(row.action),
            str(row.card_type),
            "ALLOWED" if row.allowed else "REFUSED",
            row.rule,
            row.en,
        )
        for row in calendar.rules_table(now)
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines.append("")
    lines.extend(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + f"  {row[4]}"
        for row in rows
    )
    return "\n".join(lines) + "\n"


def rules_json(calendar: PolicyCalendar, now: datetime) -> dict[str, Any]:
    """The same report as data: stable keys, dates in ISO 8601, both languages per row."""
    period = calendar.period_at(now)
    pickup, activation = _deadlines(calendar, period, now)
    following = _next_period(calendar, now)
    return {
        "region": calendar.region,
        "instant": _stockholm(now),
        "local_date": local_date(now).isoformat(),
        "period": {
            "name": period.name,
            "first_day": _iso(period.first_day),
            "last_day": _iso(period.last_day),
            "summary_sv": period.summary_sv,
            "summary_en": period.summary_en,
            "generation": str(period.generation),
            "delivery_path": str(period.delivery_path),
            "sis_marked_photo_cards": period.sis_marked_photo_cards,
            "pickup_deadline": _iso(period.pickup_deadline),
            "activation_window_months": period.activation_window_months,
        },
        "card_sent_now": {
            "pickup_deadline": _iso(pickup),
            "activation_deadline": _iso(activation),
        },
        "next_change": None
        if following is None
        else {"first_day": _iso(following.first_day), "period": following.name},
        "validity_years": {str(kind): years for kind, years in calendar.validity_years.items()},
        "rules": [
            {
                "action": str(row.action),
                "card_type": str(row.card_type),
                "allowed": row.allowed,
                "rule": row.rule,
                "sv": row.sv,
                "en": row.en,
            }
            for row in calendar.rules_table(now)
        ],
    }


def _deadlines(
    calendar: PolicyCalendar, period: Period, now: datetime
) -> tuple[date | None, date | None]:
    """(pick-up deadline, activation deadline) for a card sent at `now`; one of them is None."""
    pickup = calendar.pickup_deadline(now) if period.pickup_deadline is not None else None
    activation = (
        calendar.activation_deadline(now) if period.activation_window_months is not None else None
    )
    return pickup, activation


def _next_period(calendar: PolicyCalendar, now: datetime) -> Period | None:
    today = local_date(now)
    return next(
        (p for p in calendar.periods if p.first_day is not None and p.first_day > today), None
    )


def _span(period: Period) -> str:
    if period.first_day is None:
        return "always" if period.last_day is None else f"until {period.last_day}"
    if period.last_day is None:
        return f"from {period.first_day}"
    if period.first_day == period.last_day:
        return f"{period.first_day} only"
    return f"{period.first_day} to {period.last_day}"


def _stockholm(now: datetime) -> str:
    return now.astimezone(STOCKHOLM).isoformat()


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def render_rules_markdown(calendar: PolicyCalendar, rules: Iterable[Rule]) -> str:
    """docs/rules.md: every rule ID, then the calendar's periods with each decision."""
    lines = [
        "# Rules",
        "",
        "Generated from `ekort.domain.rulebook` and the shipped policy calendar by `ekort docs`;",
        "do not edit by hand. R1-R18 come from the region's notice about the January 2024 card",
        "changes; E-rules are ekort's own, for what the notice leaves to the system.",
        "",
        "| ID | Svenska | English |",
        "|---|---|---|",
        *(f"| {r.id} | {r.sv} | {r.en} |" for r in rules),
        "",
        f"## Policy calendar: {calendar.region}",
        "",
        "Dates are Swedish local dates, inclusive. Refused decisions are in bold.",
        "",
    ]
    for period in calendar.periods:
        lines += [
            f"### {period.name} ({_span(period)})",
            "",
            f"{period.summary_en} Generation `{period.generation}`, delivery "
            f"`{period.delivery_path}`"
            + (f", collect by {period.pickup_deadline}" if period.pickup_deadline else "")
            + (
                f", activate within {period.activation_window_months} months"
                if period.activation_window_months
                else ""
            )
            + ".",
            "",
            "| Action | Card type | Decision | Rule | Why |",
            "|---|---|---|---|---|",
        ]
        for (action, card_type), decision in period.decisions.items():
            verdict = "allowed" if decision.allowed else "**refused**"
            lines.append(
                f"| {action} | {card_type} | {verdict} | {decision.rule} | {decision.en} |"
            )
        lines.append("")
    return "\n".join(lines)
