"""The rules in force at an instant, as a plain text table or as JSON (for `ekort rules`).

Both reports show the same facts: the period with its first and last day, its summary, the
card generation and delivery path, what happens to a card sent at that instant (the deadline,
or why no card can be sent), and one row per (action, card type) with the decision, the rule
cited and the sentence; blocking is among the actions, allowed in every period (R4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from .deciders import deciders
from .errors import Decision
from .policy_calendar import BLOCK, Period, PolicyAction, PolicyCalendar, decide_block
from .rulebook import Rule
from .timekeeping import STOCKHOLM, local_date
from .vocabulary import CardType, DeliveryPath

_CARD_TYPE_NAMES: dict[CardType, tuple[str, str]] = {
    CardType.PHOTO: ("fotokort", "photo cards"),
    CardType.RESERVE: ("reservkort", "reserve cards"),
}


def render_rules_text(calendar: PolicyCalendar, now: datetime) -> str:
    """A plain, aligned table for a terminal; English, since the command line speaks English."""
    period = calendar.period_at(now)
    following = _next_period(calendar, now)
    header = [
        ("Region", calendar.region),
        ("At", _local_minute(now)),
        ("Period", f"{period.name} ({period.days})"),
        ("Summary", period.summary_en),
        ("Generation", str(period.generation)),
        ("Delivery path", str(period.delivery_path)),
        ("SIS-marked photo cards", "yes" if period.sis_marked_photo_cards else "no"),
        ("Card sent now", _sent_now_text(calendar, now)),
    ]
    if following is not None:
        header.append(("Next change", f"{following.first_day}: {following.name}"))
    label_width = max(len(label) for label, _ in header) + 1
    lines = [f"{label + ':':<{label_width}} {value}" for label, value in header]

    rows = [("ACTION", "CARD TYPE", "DECISION", "RULE", "REASON")] + [
        (action, str(card_type), "ALLOWED" if d.allowed else "REFUSED", d.rule, d.en)
        for action, card_type, d in _rows(period)
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
    sending = decide_sending(calendar, now)
    pickup, activation = _deadlines(calendar, now) if sending.allowed else (None, None)
    following = _next_period(calendar, now)
    return {
        "region": calendar.region,
        "instant": now.astimezone(STOCKHOLM).isoformat(timespec="seconds"),
        "local_date": local_date(now).isoformat(),
        "period": {
            "name": period.name,
            "first_day": _iso(period.first_day),
            "last_day": _iso(period.last_day),
            "days": period.days,
            "summary_sv": period.summary_sv,
            "summary_en": period.summary_en,
            "generation": str(period.generation),
            "delivery_path": str(period.delivery_path),
            "sis_marked_photo_cards": period.sis_marked_photo_cards,
            "pickup_deadline": _iso(period.pickup_deadline),
            "activation_window_months": period.activation_window_months,
        },
        "card_sent_now": {
            "allowed": sending.allowed,
            "rule": sending.rule,
            "sv": sending.sv,
            "en": sending.en,
            "card_types": [str(t) for t in _sendable(calendar, now)] if sending.allowed else [],
            "pickup_deadline": _iso(pickup),
            "activation_deadline": _iso(activation),
        },
        "next_change": None
        if following is None
        else {"first_day": _iso(following.first_day), "period": following.name},
        "validity_years": {str(kind): years for kind, years in calendar.validity_years.items()},
        "rules": [
            {
                "action": action,
                "card_type": str(card_type),
                "allowed": d.allowed,
                "rule": d.rule,
                "sv": d.sv,
                "en": d.en,
            }
            for action, card_type, d in _rows(period)
        ],
    }


def decide_sending(calendar: PolicyCalendar, now: datetime) -> Decision:
    """Can a card be sent at `now`, and by when must its holder act?

    Sending goes with issuing (`PolicyCalendar.decide`, ISSUE): a card is sent only when its
    type may be issued, so during the ordering and issuing stop none is (R4), nor one with a
    code envelope after the last day to collect (R3). This puts the calendar's answer for the
    report's "card sent now" line; otherwise it names the deadline: the pick-up day (R3) or
    the end of the activation window (R8), never a day that has passed.
    """
    today = local_date(now).isoformat()
    answers = [calendar.decide(PolicyAction.ISSUE, kind, now) for kind in CardType]
    sendable = tuple(kind for kind, d in zip(CardType, answers, strict=True) if d.allowed)
    if not sendable:
        refusal = answers[0]
        if refusal.rule == "R3":  # the calendar's own sentence names the day and the deadline
            return refusal
        return replace(
            refusal,
            sv=f"Inga kort kan skickas {today}: inga kort utfärdas den dagen.",
            en=f"No card can be sent on {today}: no card is issued that day.",
        )
    pickup, activation = _deadlines(calendar, now)
    only_sv, only_en = _only(sendable)
    if pickup is not None:
        return Decision.allow(
            "R3",
            f"Ett kort som skickas {today} ska hämtas ut senast {pickup}.{only_sv}",
            f"A card sent on {today} must be collected by {pickup}.{only_en}",
        )
    return Decision.allow(
        "R8",
        f"Ett kort som skickas {today} ska aktiveras senast {activation}.{only_sv}",
        f"A card sent on {today} must be activated by {activation}.{only_en}",
    )


def _sendable(calendar: PolicyCalendar, now: datetime) -> tuple[CardType, ...]:
    """The card types that may be issued, and so sent, at `now`."""
    return tuple(t for t in CardType if calendar.decide(PolicyAction.ISSUE, t, now).allowed)


def _only(sendable: tuple[CardType, ...]) -> tuple[str, str]:
    """A closing sentence naming the card types sent, where not every type is."""
    if len(sendable) == len(CardType):
        return "", ""
    sv = " och ".join(_CARD_TYPE_NAMES[t][0] for t in sendable)
    en = " and ".join(_CARD_TYPE_NAMES[t][1] for t in sendable)
    return f" Endast {sv} skickas.", f" Only {en} are sent."


def _sent_now_text(calendar: PolicyCalendar, now: datetime) -> str:
    sending = decide_sending(calendar, now)
    if not sending.allowed:
        return f"{sending.en.removesuffix('.')} ({sending.rule})"
    pickup, activation = _deadlines(calendar, now)
    text = (
        f"collect by {pickup} (pick-up deadline, {sending.rule})"
        if pickup is not None
        else f"activate by {activation} (activation deadline, {sending.rule})"
    )
    sendable = _sendable(calendar, now)
    if len(sendable) < len(CardType):
        text += "; " + " and ".join(_CARD_TYPE_NAMES[t][1] for t in sendable) + " only"
    return text


def _rows(period: Period) -> list[tuple[str, CardType, Decision]]:
    """The period's decisions in declaration order, then blocking, which no period refuses."""
    return [
        (str(action), card_type, period.decisions[(action, card_type)])
        for action in PolicyAction
        for card_type in CardType
    ] + [(BLOCK, card_type, decide_block()) for card_type in CardType]


def _deadlines(calendar: PolicyCalendar, now: datetime) -> tuple[date | None, date | None]:
    """(pick-up deadline, activation deadline) for a card sent at `now`; one of them is None."""
    if calendar.delivery_path(now) is DeliveryPath.CODE_ENVELOPE:
        return calendar.pickup_deadline(now), None
    return None, calendar.activation_deadline(now)


def _next_period(calendar: PolicyCalendar, now: datetime) -> Period | None:
    today = local_date(now)
    return next(
        (p for p in calendar.periods if p.first_day is not None and p.first_day > today), None
    )


def _local_minute(now: datetime) -> str:
    """`2024-01-24 10:00 Stockholm time (UTC+01:00)`: to the minute, as people read a clock."""
    local = now.astimezone(STOCKHOLM)
    offset = local.isoformat()[-6:]
    return f"{local:%Y-%m-%d %H:%M} Stockholm time (UTC{offset})"


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _decided_by(rule_id: str) -> str:
    return ", ".join(
        f"`{name.removeprefix('ekort.domain.')}`" for name in deciders().get(rule_id, [])
    )


def render_rules_markdown(calendar: PolicyCalendar, rules: Iterable[Rule]) -> str:
    """docs/rules.md: every rule ID, then the calendar's periods with each decision."""
    lines = [
        "# Rules",
        "",
        "Generated from `ekort.domain.rulebook` and the shipped policy calendar by `ekort docs`;",
        "do not edit by hand. R1-R18 come from the region's notice about the January 2024 card",
        "changes; E-rules are ekort's own, for what the notice leaves to the system.",
        "",
        'Each rule is refused by one function of `ekort.domain` only ("decided by"): the',
        "services call it and require its answer, the portal and the API ask it before they",
        "show a form. A rule no function refuses is information for the people concerned.",
        "",
        "| ID | Svenska | English | Decided by |",
        "|---|---|---|---|",
        *(f"| {r.id} | {r.sv} | {r.en} | {_decided_by(r.id)} |" for r in rules),
        "",
        f"## Policy calendar: {calendar.region}",
        "",
        "Dates are Swedish local dates. A period is written with its first and last day, both",
        "included (`…` for an open end). Refused decisions are in bold. Blocking is not one of",
        "the calendar's actions: it is allowed in every period (R4).",
        "",
    ]
    for period in calendar.periods:
        lines += [
            f"### {period.name} ({period.days})",
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
        for action, card_type, decision in _rows(period):
            verdict = "allowed" if decision.allowed else "**refused**"
            lines.append(
                f"| {action} | {card_type} | {verdict} | {decision.rule} | {decision.en} |"
            )
        lines.append("")
    return "\n".join(lines)
