"""The rules report behind `ekort rules`: the text table and the JSON, on the shipped calendar."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest

from ekort.domain.errors import Decision
from ekort.domain.policy_calendar import (
    BLOCK,
    PolicyAction,
    PolicyCalendar,
    days_text,
    decide_block,
    default_calendar,
)
from ekort.domain.rulebook import RULES
from ekort.domain.rules_report import (
    decide_sending,
    render_rules_markdown,
    render_rules_text,
    rules_json,
)
from ekort.domain.timekeeping import start_of_local_day
from ekort.domain.vocabulary import CardType

DURING_STOP = datetime.fromisoformat("2024-01-24T10:00:00+01:00")
DURING_STOP_UTC = datetime.fromisoformat("2024-01-24T09:00:00+00:00")
# What a simulated clock reads a moment after it started at 2024-01-24T10:00+01:00.
DURING_STOP_SIMULATED = DURING_STOP + timedelta(microseconds=123456)
LAST_PICKUP_DAY = datetime.fromisoformat("2024-01-22T15:00:00+01:00")
NEW_GENERATION_DAY = datetime.fromisoformat("2024-01-25T12:00:00+01:00")
AFTER_TRANSITION = datetime.fromisoformat("2024-01-31T08:00:00+01:00")
SIS_ERA = datetime.fromisoformat("2022-06-01T12:00:00+02:00")
RESERVE_ONLY_START_UTC = datetime.fromisoformat("2023-12-17T23:30:00+00:00")

TABLE_HEADER = re.compile(r"^ACTION\s+CARD TYPE\s+DECISION\s+RULE\s+REASON$", re.MULTILINE)

BLOCK_EN = (
    "A card can be blocked at any time, even during the ordering and issuing stop: blocking is "
    "not issuing, and a block request must never be lost."
)


@pytest.fixture(scope="module")
def calendar() -> PolicyCalendar:
    return default_calendar()


def table_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if TABLE_HEADER.match(line))
    return lines[start:]


def header(text: str, label: str) -> str:
    """The value of one `Label: value` line of the text report's header."""
    found = re.search(rf"^{re.escape(label)}:\s+(.*)$", text, re.MULTILINE)
    assert found is not None, label
    return found.group(1)


# --- the text report -------------------------------------------------------------------------


def test_text_report_during_the_stop(calendar: PolicyCalendar) -> None:
    text = render_rules_text(calendar, DURING_STOP)
    assert "Region:                 Region Gävleborg\n" in text
    assert "At:                     2024-01-24 10:00 Stockholm time (UTC+01:00)\n" in text
    assert "Period:                 stop (2024-01-23 – 2024-01-24)\n" in text
    assert (
        "Summary:                Ordering and issuing stop; block requests are still taken.\n"
        in text
    )
    assert "Generation:             legacy\n" in text
    assert "Delivery path:          code_envelope\n" in text
    assert "SIS-marked photo cards: no\n" in text
    assert (
        "Card sent now:          No card can be sent on 2024-01-24: no card is issued that day "
        "(R4)\n" in text
    )
    assert "Next change:            2024-01-25: stop-new-generation\n" in text
    assert "collect by" not in text  # the pick-up deadline 2024-01-22 has passed
    assert "activate by" not in text

    lines = table_lines(text)
    assert len(lines) == 1 + 12
    assert lines[1:] == [
        "order       photo      REFUSED   R4    2024-01-23 – 2024-01-25: ordering and issuing "
        "stop; no card can be ordered. Block requests are still taken.",
        "order       reserve    REFUSED   R4    2024-01-23 – 2024-01-25: ordering and issuing "
        "stop; no card can be ordered. Block requests are still taken.",
        "photograph  photo      REFUSED   R2    The holder can be photographed from 2024-01-26, "
        "when the new card issuer portal is live.",
        "photograph  reserve    REFUSED   E7    Reserve cards carry no photo; there is nothing to "
        "photograph.",
        "issue       photo      REFUSED   R4    2024-01-23 – 2024-01-25: ordering and issuing "
        "stop; no card is issued, photo or reserve.",
        "issue       reserve    REFUSED   R4    2024-01-23 – 2024-01-25: ordering and issuing "
        "stop; no card is issued, photo or reserve.",
        "hand_out    photo      REFUSED   R3    The last day to collect cards was Monday "
        "2024-01-22; cards not collected are blocked.",
        "hand_out    reserve    REFUSED   R3    The last day to collect cards was Monday "
        "2024-01-22; cards not collected are blocked.",
        "activate    photo      REFUSED   R7    Activation at a card office opens on 2024-01-25.",
        "activate    reserve    REFUSED   R7    Activation at a card office opens on 2024-01-25.",
        f"block       photo      ALLOWED   R4    {BLOCK_EN}",
        f"block       reserve    ALLOWED   R4    {BLOCK_EN}",
    ]


def test_text_report_columns_line_up(calendar: PolicyCalendar) -> None:
    for instant in (SIS_ERA, DURING_STOP, NEW_GENERATION_DAY, AFTER_TRANSITION):
        lines = table_lines(render_rules_text(calendar, instant))
        for heading in ("CARD TYPE", "DECISION", "RULE", "REASON"):
            column = lines[0].index(heading)
            assert all(line[column - 2 : column] == "  " for line in lines), heading
            assert all(line[column] != " " for line in lines), heading


def test_text_report_on_the_last_day_to_collect(calendar: PolicyCalendar) -> None:
    text = render_rules_text(calendar, LAST_PICKUP_DAY)
    assert "Period:                 reserve-only (2023-12-18 – 2024-01-22)\n" in text
    # Only reserve cards are issued (R1), so only they are sent; collected today at the latest.
    assert (
        "Card sent now:          collect by 2024-01-22 (pick-up deadline, R3); "
        "reserve cards only\n" in text
    )


def test_text_report_on_the_last_day_of_the_stop(calendar: PolicyCalendar) -> None:
    text = render_rules_text(calendar, NEW_GENERATION_DAY)
    assert "Period:                 stop-new-generation (2024-01-25 – 2024-01-25)\n" in text
    assert "Generation:             portrait-2024\n" in text
    assert "Delivery path:          home\n" in text
    # Activation has begun, but issuing is still stopped: no card is sent on the 25th (R4).
    assert (
        "Card sent now:          No card can be sent on 2024-01-25: no card is issued that day "
        "(R4)\n" in text
    )
    assert "activate by" not in text
    assert "Next change:            2024-01-26: new-process\n" in text
    assert re.search(r"^activate\s+photo\s+ALLOWED\s+R7\s+An ID administrator", text, re.M)


def test_text_report_for_the_open_periods(calendar: PolicyCalendar) -> None:
    sis = render_rules_text(calendar, SIS_ERA)
    assert "Period:                 legacy-sis (… – 2022-09-30)\n" in sis
    assert "SIS-marked photo cards: yes\n" in sis
    after = render_rules_text(calendar, AFTER_TRANSITION)
    assert "Period:                 new-process (2024-01-26 – …)\n" in after
    assert "Card sent now:          activate by 2024-04-30 (activation deadline, R8)\n" in after
    assert "Next change" not in after


def test_text_report_prints_a_simulated_instant_to_the_minute(calendar: PolicyCalendar) -> None:
    text = render_rules_text(calendar, DURING_STOP_SIMULATED)
    assert header(text, "At") == "2024-01-24 10:00 Stockholm time (UTC+01:00)"
    assert "123456" not in text and ".1234" not in text


def test_text_report_gives_a_utc_instant_in_stockholm_time(calendar: PolicyCalendar) -> None:
    text = render_rules_text(calendar, RESERVE_ONLY_START_UTC)
    assert header(text, "At") == "2023-12-18 00:30 Stockholm time (UTC+01:00)"
    summer = render_rules_text(calendar, SIS_ERA)
    assert header(summer, "At") == "2022-06-01 12:00 Stockholm time (UTC+02:00)"


# --- the JSON report -------------------------------------------------------------------------


def test_json_report_during_the_stop(calendar: PolicyCalendar) -> None:
    report = rules_json(calendar, DURING_STOP_UTC)
    assert json.loads(json.dumps(report, ensure_ascii=False)) == report
    assert list(report) == [
        "region",
        "instant",
        "local_date",
        "period",
        "card_sent_now",
        "next_change",
        "validity_years",
        "rules",
    ]
    assert report["region"] == "Region Gävleborg"
    assert report["instant"] == "2024-01-24T10:00:00+01:00"
    assert report["local_date"] == "2024-01-24"
    assert report["period"] == {
        "name": "stop",
        "first_day": "2024-01-23",
        "last_day": "2024-01-24",
        "days": "2024-01-23 – 2024-01-24",
        "summary_sv": "Beställnings- och kortutfärdarstopp; spärrar tas emot som vanligt.",
        "summary_en": "Ordering and issuing stop; block requests are still taken.",
        "generation": "legacy",
        "delivery_path": "code_envelope",
        "sis_marked_photo_cards": False,
        "pickup_deadline": "2024-01-22",
        "activation_window_months": None,
    }
    assert report["card_sent_now"] == {
        "allowed": False,
        "rule": "R4",
        "sv": "Inga kort kan skickas 2024-01-24: inga kort utfärdas den dagen.",
        "en": "No card can be sent on 2024-01-24: no card is issued that day.",
        "card_types": [],
        "pickup_deadline": None,
        "activation_deadline": None,
    }
    assert report["next_change"] == {"first_day": "2024-01-25", "period": "stop-new-generation"}
    assert report["validity_years"] == {"photo": 5, "reserve": 5}
    assert len(report["rules"]) == 12
    assert report["rules"][4] == {
        "action": "issue",
        "card_type": "photo",
        "allowed": False,
        "rule": "R4",
        "sv": "2024-01-23 – 2024-01-25 är det beställnings- och kortutfärdarstopp: inga kort "
        "utfärdas, varken fotokort eller reservkort.",
        "en": "2024-01-23 – 2024-01-25: ordering and issuing stop; no card is issued, "
        "photo or reserve.",
    }
    assert report["rules"][10:] == [
        {
            "action": "block",
            "card_type": card_type,
            "allowed": True,
            "rule": "R4",
            "sv": "Ett kort kan spärras när som helst, även under beställnings- och "
            "kortutfärdarstoppet: att spärra är inte att utfärda, och en spärrbegäran får "
            "aldrig gå förlorad.",
            "en": BLOCK_EN,
        }
        for card_type in ("photo", "reserve")
    ]


def test_json_report_takes_the_stockholm_date_of_a_utc_instant(calendar: PolicyCalendar) -> None:
    report = rules_json(calendar, RESERVE_ONLY_START_UTC)
    assert report["instant"] == "2023-12-18T00:30:00+01:00"
    assert report["local_date"] == "2023-12-18"
    assert report["period"]["name"] == "reserve-only"
    issue = {(r["action"], r["card_type"]): r["allowed"] for r in report["rules"]}
    assert issue[("issue", "photo")] is False
    assert issue[("issue", "reserve")] is True
    assert report["card_sent_now"]["card_types"] == ["reserve"]
    assert report["card_sent_now"]["pickup_deadline"] == "2024-01-22"


def test_json_report_after_the_transition(calendar: PolicyCalendar) -> None:
    report = rules_json(calendar, AFTER_TRANSITION)
    assert report["period"]["name"] == "new-process"
    assert report["period"]["last_day"] is None
    assert report["period"]["days"] == "2024-01-26 – …"
    assert report["card_sent_now"] == {
        "allowed": True,
        "rule": "R8",
        "sv": "Ett kort som skickas 2024-01-31 ska aktiveras senast 2024-04-30.",
        "en": "A card sent on 2024-01-31 must be activated by 2024-04-30.",
        "card_types": ["photo", "reserve"],
        "pickup_deadline": None,
        "activation_deadline": "2024-04-30",
    }
    assert report["next_change"] is None
    assert {(r["action"], r["card_type"], r["allowed"], r["rule"]) for r in report["rules"]} == {
        ("order", "photo", True, "R6"),
        ("order", "reserve", True, "R6"),
        ("photograph", "photo", True, "R2"),
        ("photograph", "reserve", False, "E7"),
        ("issue", "photo", True, "R5"),
        ("issue", "reserve", True, "R5"),
        ("hand_out", "photo", False, "R6"),
        ("hand_out", "reserve", False, "R6"),
        ("activate", "photo", True, "R7"),
        ("activate", "reserve", True, "R7"),
        ("block", "photo", True, "R4"),
        ("block", "reserve", True, "R4"),
    }


def test_json_instant_has_no_stray_microseconds(calendar: PolicyCalendar) -> None:
    assert rules_json(calendar, DURING_STOP_SIMULATED)["instant"] == "2024-01-24T10:00:00+01:00"


# --- blocking: allowed in every period ------------------------------------------------------


def test_blocking_is_allowed_for_every_card_type_in_every_period(calendar: PolicyCalendar) -> None:
    for period in calendar.periods:
        day = period.first_day or period.last_day
        assert day is not None
        report = rules_json(calendar, start_of_local_day(day))
        blocks = [row for row in report["rules"] if row["action"] == BLOCK]
        assert [(row["card_type"], row["allowed"], row["rule"]) for row in blocks] == [
            (str(card_type), True, "R4") for card_type in CardType
        ], period.name


def test_the_block_decision_cites_the_rule_that_keeps_block_requests() -> None:
    decision = decide_block()
    assert decision == Decision(True, "R4", decision.sv, BLOCK_EN)
    assert "spärrbegäran" in decision.sv
    assert decision.rule in RULES
    assert BLOCK not in {str(action) for action in PolicyAction}  # no calendar may refuse it


# --- card sent now: never a deadline that has passed ----------------------------------------


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_card_sent_now_never_shows_a_deadline_that_has_passed(calendar: PolicyCalendar) -> None:
    for day in every_day(date(2022, 9, 25), date(2024, 2, 5)):
        for instant in (start_of_local_day(day), start_of_local_day(day) + timedelta(hours=23)):
            sent = rules_json(calendar, instant)["card_sent_now"]
            deadlines = [sent["pickup_deadline"], sent["activation_deadline"]]
            if sent["allowed"]:
                assert [d for d in deadlines if d is not None] != [], day
                assert all(d is None or d >= day.isoformat() for d in deadlines), day
                assert sent["card_types"], day
            else:
                assert deadlines == [None, None], day
                assert sent["card_types"] == [], day
                assert sent["en"].startswith(f"No card can be sent on {day}"), day


@pytest.mark.parametrize(
    ("day", "allowed", "rule"),
    [
        (date(2023, 12, 17), True, "R3"),
        (date(2024, 1, 22), True, "R3"),
        (date(2024, 1, 23), False, "R4"),
        (date(2024, 1, 24), False, "R4"),
        (date(2024, 1, 25), False, "R4"),
        (date(2024, 1, 26), True, "R8"),
    ],
)
def test_sending_around_the_stop(
    calendar: PolicyCalendar, day: date, allowed: bool, rule: str
) -> None:
    decision = decide_sending(calendar, start_of_local_day(day) + timedelta(hours=12))
    assert (decision.allowed, decision.rule) == (allowed, rule)


# A calendar that keeps issuing on code envelopes after its pick-up day: a card sent then
# could never be collected, so the report says no card can be sent rather than show the day.
LATE_ISSUING = """\
region = "Region Sent"

[validity_years]
photo = 5
reserve = 5

[[period]]
name = "envelopes"
first_day = "open"
last_day = "open"
summary_sv = "Kodkuvert."
summary_en = "Code envelopes."
generation = "legacy"
delivery_path = "code_envelope"
sis_marked_photo_cards = false
pickup_deadline = 2024-03-01

[period.actions]
order      = { photo = "yes", reserve = "yes" }
photograph = { photo = "yes", reserve = "yes" }
issue      = { photo = "yes", reserve = "yes" }
hand_out   = { photo = "yes", reserve = "yes" }
activate   = { photo = "yes", reserve = "yes" }

[decisions.yes]
allowed = true
rule = "R3"
sv = "Ja."
en = "Yes."
"""


def test_no_card_is_sent_once_the_pickup_deadline_has_passed() -> None:
    late = PolicyCalendar.from_toml(LATE_ISSUING)
    on_the_day = rules_json(late, start_of_local_day(date(2024, 3, 1)))["card_sent_now"]
    assert on_the_day["allowed"] is True
    assert on_the_day["pickup_deadline"] == "2024-03-01"
    day_after = rules_json(late, start_of_local_day(date(2024, 3, 2)))["card_sent_now"]
    assert day_after == {
        "allowed": False,
        "rule": "R3",
        "sv": "Inga kort kan skickas 2024-03-02: sista dag att hämta ut kort, 2024-03-01, "
        "har passerat.",
        "en": "No card can be sent on 2024-03-02: the last day to collect cards, 2024-03-01, "
        "has passed.",
        "card_types": [],
        "pickup_deadline": None,
        "activation_deadline": None,
    }
    text = render_rules_text(late, start_of_local_day(date(2024, 3, 2)))
    assert header(text, "Card sent now").startswith(
        "No card can be sent on 2024-03-02: the last day to collect cards, 2024-03-01, has passed"
    )
    assert "collect by" not in text


# --- periods: inclusive first and last days, written one way --------------------------------


@pytest.mark.parametrize(
    ("first", "last", "text"),
    [
        (date(2024, 1, 23), date(2024, 1, 25), "2024-01-23 – 2024-01-25"),
        (date(2024, 1, 25), date(2024, 1, 25), "2024-01-25 – 2024-01-25"),
        (None, date(2022, 9, 30), "… – 2022-09-30"),
        (date(2024, 1, 26), None, "2024-01-26 – …"),
        (None, None, "… – …"),
    ],
)
def test_days_text(first: date | None, last: date | None, text: str) -> None:
    assert days_text(first, last) == text


def test_no_report_writes_a_period_with_to(calendar: PolicyCalendar) -> None:
    """A period written "2024-01-23 to 2024-01-24" leaves open whether the 24th is in; every
    period is written with both its days, "2024-01-23 – 2024-01-24", in every report and rule
    sentence."""
    ranged = re.compile(
        r"\d{4}-\d\d-\d\d to \d{4}|[Ff]rom \d{4}-\d\d-\d\d to"  # English "from ... to"
        r"|\d+[-–]\d+ \w+ \d{4}|\d+ \w+ \d{4} [-–] \d+"  # Swedish "23–25 januari 2024"
    )
    reports = [render_rules_markdown(calendar, RULES.values())]
    for period in calendar.periods:
        day = period.first_day or period.last_day
        assert day is not None
        reports.append(render_rules_text(calendar, start_of_local_day(day)))
        reports.append(
            json.dumps(rules_json(calendar, start_of_local_day(day)), ensure_ascii=False)
        )
    for report in reports:
        assert ranged.search(report) is None, ranged.search(report)


def test_markdown_lists_blocking_in_every_period(calendar: PolicyCalendar) -> None:
    text = render_rules_markdown(calendar, RULES.values())
    assert "### stop (2024-01-23 – 2024-01-24)" in text
    assert "### legacy-sis (… – 2022-09-30)" in text
    assert text.count(f"| block | photo | allowed | R4 | {BLOCK_EN} |") == len(calendar.periods)
    assert text.count(f"| block | reserve | allowed | R4 | {BLOCK_EN} |") == len(calendar.periods)
