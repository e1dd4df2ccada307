"""The rules report behind `ekort rules`: the text table and the JSON, on the shipped calendar."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from ekort.domain.policy_calendar import PolicyCalendar, default_calendar
from ekort.domain.rules_report import render_rules_text, rules_json

DURING_STOP = datetime.fromisoformat("2024-01-24T10:00:00+01:00")
DURING_STOP_UTC = datetime.fromisoformat("2024-01-24T09:00:00+00:00")
NEW_GENERATION_DAY = datetime.fromisoformat("2024-01-25T12:00:00+01:00")
AFTER_TRANSITION = datetime.fromisoformat("2024-01-31T08:00:00+01:00")
SIS_ERA = datetime.fromisoformat("2022-06-01T12:00:00+02:00")
RESERVE_ONLY_START_UTC = datetime.fromisoformat("2023-12-17T23:30:00+00:00")

TABLE_HEADER = re.compile(r"^ACTION\s+CARD TYPE\s+DECISION\s+RULE\s+REASON$", re.MULTILINE)


@pytest.fixture(scope="module")
def calendar() -> PolicyCalendar:
    return default_calendar()


def table_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if TABLE_HEADER.match(line))
    return lines[start:]


def test_text_report_during_the_stop(calendar: PolicyCalendar) -> None:
    text = render_rules_text(calendar, DURING_STOP)
    assert "Region:                 Region Gävleborg\n" in text
    assert "At:                     2024-01-24T10:00:00+01:00 (Stockholm date 2024-01-24)\n" in text
    assert "Period:                 stop (2024-01-23 to 2024-01-24)\n" in text
    assert (
        "Summary:                Ordering and issuing stop; block requests are still taken.\n"
        in text
    )
    assert "Generation:             legacy\n" in text
    assert "Delivery path:          code_envelope\n" in text
    assert "SIS-marked photo cards: no\n" in text
    assert "Card sent now:          collect by 2024-01-22 (pick-up deadline)\n" in text
    assert "Next change:            2024-01-25: stop-new-generation\n" in text
    assert "activate by" not in text

    lines = table_lines(text)
    assert len(lines) == 1 + 10
    assert lines[1:] == [
        "order       photo      REFUSED   R4    From 2024-01-23 to 2024-01-25 ordering and issuing "
        "stop: no card can be ordered. Block requests are still taken.",
        "order       reserve    REFUSED   R4    From 2024-01-23 to 2024-01-25 ordering and issuing "
        "stop: no card can be ordered. Block requests are still taken.",
        "photograph  photo      REFUSED   R2    The holder can be photographed from 2024-01-26, "
        "when the new card issuer portal is live.",
        "photograph  reserve    REFUSED   E7    Reserve cards carry no photo; there is nothing to "
        "photograph.",
        "issue       photo      REFUSED   R4    From 2024-01-23 to 2024-01-25 ordering and issuing "
        "stop: no card is issued, photo or reserve.",
        "issue       reserve    REFUSED   R4    From 2024-01-23 to 2024-01-25 ordering and issuing "
        "stop: no card is issued, photo or reserve.",
        "hand_out    photo      REFUSED   R3    The last day to collect cards was Monday "
        "2024-01-22; cards not collected are blocked.",
        "hand_out    reserve    REFUSED   R3    The last day to collect cards was Monday "
        "2024-01-22; cards not collected are blocked.",
        "activate    photo      REFUSED   R7    Activation at a card office opens on 2024-01-25.",
        "activate    reserve    REFUSED   R7    Activation at a card office opens on 2024-01-25.",
    ]


def test_text_report_columns_line_up(calendar: PolicyCalendar) -> None:
    for instant in (SIS_ERA, DURING_STOP, NEW_GENERATION_DAY, AFTER_TRANSITION):
        lines = table_lines(render_rules_text(calendar, instant))
        for heading in ("CARD TYPE", "DECISION", "RULE", "REASON"):
            column = lines[0].index(heading)
            assert all(line[column - 2 : column] == "  " for line in lines), heading
            assert all(line[column] != " " for line in lines), heading


def test_text_report_on_the_first_day_of_the_new_process(calendar: PolicyCalendar) -> None:
    text = render_rules_text(calendar, NEW_GENERATION_DAY)
    assert "Period:                 stop-new-generation (2024-01-25 only)\n" in text
    assert "Generation:             portrait-2024\n" in text
    assert "Delivery path:          home\n" in text
    assert "Card sent now:          activate by 2024-04-25 (activation deadline)\n" in text
    assert "Next change:            2024-01-26: new-process\n" in text
    assert "pick-up deadline" not in text
    assert re.search(r"^activate\s+photo\s+ALLOWED\s+R7\s+An ID administrator", text, re.M)


def test_text_report_for_the_open_periods(calendar: PolicyCalendar) -> None:
    sis = render_rules_text(calendar, SIS_ERA)
    assert "Period:                 legacy-sis (until 2022-09-30)\n" in sis
    assert "SIS-marked photo cards: yes\n" in sis
    after = render_rules_text(calendar, AFTER_TRANSITION)
    assert "Period:                 new-process (from 2024-01-26)\n" in after
    assert "Card sent now:          activate by 2024-04-30 (activation deadline)\n" in after
    assert "Next change" not in after


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
        "summary_sv": "Beställnings- och kortutfärdarstopp; spärrar tas emot som vanligt.",
        "summary_en": "Ordering and issuing stop; block requests are still taken.",
        "generation": "legacy",
        "delivery_path": "code_envelope",
        "sis_marked_photo_cards": False,
        "pickup_deadline": "2024-01-22",
        "activation_window_months": None,
    }
    assert report["card_sent_now"] == {"pickup_deadline": "2024-01-22", "activation_deadline": None}
    assert report["next_change"] == {"first_day": "2024-01-25", "period": "stop-new-generation"}
    assert report["validity_years"] == {"photo": 5, "reserve": 5}
    assert len(report["rules"]) == 10
    assert report["rules"][4] == {
        "action": "issue",
        "card_type": "photo",
        "allowed": False,
        "rule": "R4",
        "sv": "23–25 januari 2024 är det beställnings- och kortutfärdarstopp: inga kort utfärdas, "
        "varken fotokort eller reservkort.",
        "en": "From 2024-01-23 to 2024-01-25 ordering and issuing stop: no card is issued, "
        "photo or reserve.",
    }


def test_json_report_takes_the_stockholm_date_of_a_utc_instant(calendar: PolicyCalendar) -> None:
    report = rules_json(calendar, RESERVE_ONLY_START_UTC)
    assert report["instant"] == "2023-12-18T00:30:00+01:00"
    assert report["local_date"] == "2023-12-18"
    assert report["period"]["name"] == "reserve-only"
    issue = {(r["action"], r["card_type"]): r["allowed"] for r in report["rules"]}
    assert issue[("issue", "photo")] is False
    assert issue[("issue", "reserve")] is True


def test_json_report_after_the_transition(calendar: PolicyCalendar) -> None:
    report = rules_json(calendar, AFTER_TRANSITION)
    assert report["period"]["name"] == "new-process"
    assert report["period"]["last_day"] is None
    assert report["card_sent_now"] == {"pickup_deadline": None, "activation_deadline": "2024-04-30"}
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
    }
