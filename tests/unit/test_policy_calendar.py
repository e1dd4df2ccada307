"""The dated policy calendar: the shipped Gävleborg file, the loader's checks, another region.

Expected values are written out here, not derived from the file under test.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from ekort.domain.errors import Decision, InvalidInput, Refused
from ekort.domain.policy_calendar import (
    CalendarError,
    PolicyAction,
    PolicyCalendar,
    RuleRow,
    default_calendar,
)
from ekort.domain.vocabulary import CardType, DeliveryPath, Generation


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- named instants (Stockholm local time unless the name says UTC) -------------------------

LONG_AGO = at("2015-06-01T12:00:00+02:00")
LAST_SIS_DAY_END = at("2022-09-30T23:59:59+02:00")
FIRST_COMPANY_CARD_DAY_START = at("2022-10-01T00:00:00+02:00")
LAST_LEGACY_DAY_END = at("2023-12-17T23:59:59+01:00")
RESERVE_ONLY_START = at("2023-12-18T00:00:00+01:00")
LAST_PICKUP_DAY_END = at("2024-01-22T23:59:59+01:00")
STOP_START = at("2024-01-23T00:00:00+01:00")
STOP_LAST_LEGACY_DAY_END = at("2024-01-24T23:59:59+01:00")
NEW_GENERATION_START = at("2024-01-25T00:00:00+01:00")
LAST_STOP_DAY_END = at("2024-01-25T23:59:59+01:00")
NEW_PROCESS_START = at("2024-01-26T00:00:00+01:00")
FAR_FUTURE = at("2031-05-05T12:00:00+02:00")

# The same boundaries as UTC instants (Stockholm is UTC+2 in summer 2022, UTC+1 in winter).
LAST_SIS_DAY_END_UTC = at("2022-09-30T21:59:59+00:00")
FIRST_COMPANY_CARD_DAY_START_UTC = at("2022-09-30T22:00:00+00:00")
LAST_LEGACY_DAY_END_UTC = at("2023-12-17T22:59:59+00:00")
RESERVE_ONLY_START_UTC = at("2023-12-17T23:00:00+00:00")
RESERVE_ONLY_HALF_HOUR_IN_UTC = at("2023-12-17T23:30:00+00:00")  # still the 17th in UTC
LAST_PICKUP_DAY_END_UTC = at("2024-01-22T22:59:59+00:00")
STOP_START_UTC = at("2024-01-22T23:00:00+00:00")
STOP_LAST_LEGACY_DAY_END_UTC = at("2024-01-24T22:59:59+00:00")
NEW_GENERATION_START_UTC = at("2024-01-24T23:00:00+00:00")
LAST_STOP_DAY_END_UTC = at("2024-01-25T22:59:59+00:00")
NEW_PROCESS_START_UTC = at("2024-01-25T23:00:00+00:00")

P, R = CardType.PHOTO, CardType.RESERVE


@pytest.fixture(scope="module")
def calendar() -> PolicyCalendar:
    return default_calendar()


# --- which period, at every boundary ---------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "period"),
    [
        (LONG_AGO, "legacy-sis"),
        (LAST_SIS_DAY_END, "legacy-sis"),
        (FIRST_COMPANY_CARD_DAY_START, "legacy-company-cards"),
        (LAST_LEGACY_DAY_END, "legacy-company-cards"),
        (RESERVE_ONLY_START, "reserve-only"),
        (LAST_PICKUP_DAY_END, "reserve-only"),
        (STOP_START, "stop"),
        (STOP_LAST_LEGACY_DAY_END, "stop"),
        (NEW_GENERATION_START, "stop-new-generation"),
        (LAST_STOP_DAY_END, "stop-new-generation"),
        (NEW_PROCESS_START, "new-process"),
        (FAR_FUTURE, "new-process"),
        (LAST_SIS_DAY_END_UTC, "legacy-sis"),
        (FIRST_COMPANY_CARD_DAY_START_UTC, "legacy-company-cards"),
        (LAST_LEGACY_DAY_END_UTC, "legacy-company-cards"),
        (RESERVE_ONLY_START_UTC, "reserve-only"),
        (RESERVE_ONLY_HALF_HOUR_IN_UTC, "reserve-only"),
        (LAST_PICKUP_DAY_END_UTC, "reserve-only"),
        (STOP_START_UTC, "stop"),
        (STOP_LAST_LEGACY_DAY_END_UTC, "stop"),
        (NEW_GENERATION_START_UTC, "stop-new-generation"),
        (LAST_STOP_DAY_END_UTC, "stop-new-generation"),
        (NEW_PROCESS_START_UTC, "new-process"),
    ],
)
def test_period_at_each_boundary(calendar: PolicyCalendar, instant: datetime, period: str) -> None:
    assert calendar.period_at(instant).name == period


def test_boundaries_are_the_first_days_after_the_first_period(calendar: PolicyCalendar) -> None:
    assert calendar.boundaries() == (
        date(2022, 10, 1),
        date(2023, 12, 18),
        date(2024, 1, 23),
        date(2024, 1, 25),
        date(2024, 1, 26),
    )


def test_period_on_takes_a_local_date(calendar: PolicyCalendar) -> None:
    assert calendar.period_on(date(2024, 1, 22)).name == "reserve-only"
    assert calendar.period_on(date(2024, 1, 23)).name == "stop"
    assert calendar.period_on(date(1990, 1, 1)).name == "legacy-sis"
    assert calendar.period_on(date(2099, 12, 31)).name == "new-process"


def test_an_instant_without_time_zone_is_refused(calendar: PolicyCalendar) -> None:
    with pytest.raises(InvalidInput, match="no time zone"):
        calendar.period_at(datetime(2024, 1, 24, 12, 0))


# --- the facts each period fixes -------------------------------------------------------------

CL, PT = Generation.LEGACY, Generation.PORTRAIT_2024
ENVELOPE, HOME = DeliveryPath.CODE_ENVELOPE, DeliveryPath.HOME
JAN_22 = date(2024, 1, 22)

# name: (first day, last day, generation, delivery path, SIS photo cards, pick-up, window months)
EXPECTED_PERIODS = {
    "legacy-sis": (None, date(2022, 9, 30), CL, ENVELOPE, True, JAN_22, None),
    "legacy-company-cards": (
        date(2022, 10, 1),
        date(2023, 12, 17),
        CL,
        ENVELOPE,
        False,
        JAN_22,
        None,
    ),
    "reserve-only": (date(2023, 12, 18), JAN_22, CL, ENVELOPE, False, JAN_22, None),
    "stop": (date(2024, 1, 23), date(2024, 1, 24), CL, ENVELOPE, False, JAN_22, None),
    "stop-new-generation": (date(2024, 1, 25), date(2024, 1, 25), PT, HOME, False, None, 3),
    "new-process": (date(2024, 1, 26), None, PT, HOME, False, None, 3),
}


def test_the_shipped_periods_in_order(calendar: PolicyCalendar) -> None:
    assert calendar.region == "Region Gävleborg"
    assert [p.name for p in calendar.periods] == list(EXPECTED_PERIODS)
    for period in calendar.periods:
        assert (
            period.first_day,
            period.last_day,
            period.generation,
            period.delivery_path,
            period.sis_marked_photo_cards,
            period.pickup_deadline,
            period.activation_window_months,
        ) == EXPECTED_PERIODS[period.name], period.name
        assert period.summary_sv
        assert period.summary_en


def test_each_period_is_written_with_both_its_days_inclusive(calendar: PolicyCalendar) -> None:
    assert [period.days for period in calendar.periods] == [
        "… – 2022-09-30",
        "2022-10-01 – 2023-12-17",
        "2023-12-18 – 2024-01-22",
        "2024-01-23 – 2024-01-24",
        "2024-01-25 – 2024-01-25",
        "2024-01-26 – …",
    ]


def test_validity_is_five_years_for_both_card_types(calendar: PolicyCalendar) -> None:
    assert dict(calendar.validity_years) == {P: 5, R: 5}


@pytest.mark.parametrize(
    ("instant", "generation", "path"),
    [
        (LAST_PICKUP_DAY_END, CL, ENVELOPE),
        (STOP_LAST_LEGACY_DAY_END, CL, ENVELOPE),
        (NEW_GENERATION_START, PT, HOME),
        (STOP_LAST_LEGACY_DAY_END_UTC, CL, ENVELOPE),
        (NEW_GENERATION_START_UTC, PT, HOME),
        (NEW_PROCESS_START, PT, HOME),
    ],
)
def test_generation_and_delivery_path_change_on_25_january(
    calendar: PolicyCalendar, instant: datetime, generation: Generation, path: DeliveryPath
) -> None:
    assert calendar.generation_at(instant) is generation
    assert calendar.delivery_path(instant) is path


@pytest.mark.parametrize(
    ("issued_at", "photo_card_sis_marked"),
    [
        (LONG_AGO, True),
        (LAST_SIS_DAY_END, True),
        (FIRST_COMPANY_CARD_DAY_START, False),
        (LAST_SIS_DAY_END_UTC, True),
        (FIRST_COMPANY_CARD_DAY_START_UTC, False),
        (NEW_PROCESS_START, False),
    ],
)
def test_sis_marking_ends_with_september_2022(
    calendar: PolicyCalendar, issued_at: datetime, photo_card_sis_marked: bool
) -> None:
    assert calendar.sis_marked(P, issued_at) is photo_card_sis_marked
    assert calendar.sis_marked(R, issued_at) is False  # R17: only photo cards were SIS-marked


# --- every decision of the shipped file -------------------------------------------------------

# (photo, reserve) per action; "+R2" = allowed citing R2, "-E7" = refused citing E7.
EXPECTED_DECISIONS: dict[str, dict[PolicyAction, tuple[str, str]]] = {
    "legacy-sis": {
        PolicyAction.ORDER: ("+R2", "+R1"),
        PolicyAction.PHOTOGRAPH: ("+R2", "-E7"),
        PolicyAction.ISSUE: ("+R17", "+R1"),
        PolicyAction.HAND_OUT: ("+R3", "+R3"),
        PolicyAction.ACTIVATE: ("-R7", "-R7"),
    },
    "legacy-company-cards": {
        PolicyAction.ORDER: ("+R2", "+R1"),
        PolicyAction.PHOTOGRAPH: ("+R2", "-E7"),
        PolicyAction.ISSUE: ("+R17", "+R1"),
        PolicyAction.HAND_OUT: ("+R3", "+R3"),
        PolicyAction.ACTIVATE: ("-R7", "-R7"),
    },
    "reserve-only": {
        PolicyAction.ORDER: ("+R2", "+R1"),
        PolicyAction.PHOTOGRAPH: ("-R2", "-E7"),
        PolicyAction.ISSUE: ("-R1", "+R1"),
        PolicyAction.HAND_OUT: ("+R3", "+R3"),
        PolicyAction.ACTIVATE: ("-R7", "-R7"),
    },
    "stop": {
        PolicyAction.ORDER: ("-R4", "-R4"),
        PolicyAction.PHOTOGRAPH: ("-R2", "-E7"),
        PolicyAction.ISSUE: ("-R4", "-R4"),
        PolicyAction.HAND_OUT: ("-R3", "-R3"),
        PolicyAction.ACTIVATE: ("-R7", "-R7"),
    },
    "stop-new-generation": {
        PolicyAction.ORDER: ("-R4", "-R4"),
        PolicyAction.PHOTOGRAPH: ("-R2", "-E7"),
        PolicyAction.ISSUE: ("-R4", "-R4"),
        PolicyAction.HAND_OUT: ("-R3", "-R3"),
        PolicyAction.ACTIVATE: ("+R7", "+R7"),
    },
    "new-process": {
        PolicyAction.ORDER: ("+R6", "+R6"),
        PolicyAction.PHOTOGRAPH: ("+R2", "-E7"),
        PolicyAction.ISSUE: ("+R5", "+R5"),
        PolicyAction.HAND_OUT: ("-R6", "-R6"),
        PolicyAction.ACTIVATE: ("+R7", "+R7"),
    },
}

# The first and last instant of every period (a far instant for the open ends).
PERIOD_EDGES = {
    "legacy-sis": (LONG_AGO, LAST_SIS_DAY_END),
    "legacy-company-cards": (FIRST_COMPANY_CARD_DAY_START, LAST_LEGACY_DAY_END),
    "reserve-only": (RESERVE_ONLY_START, LAST_PICKUP_DAY_END),
    "stop": (STOP_START, STOP_LAST_LEGACY_DAY_END),
    "stop-new-generation": (NEW_GENERATION_START, LAST_STOP_DAY_END),
    "new-process": (NEW_PROCESS_START, FAR_FUTURE),
}

DECISION_CASES = [
    pytest.param(instant, action, card_type, expected, id=f"{name}-{edge}-{action}-{card_type}")
    for name, by_action in EXPECTED_DECISIONS.items()
    for edge, instant in zip(("first", "last"), PERIOD_EDGES[name], strict=True)
    for action, pair in by_action.items()
    for card_type, expected in zip((P, R), pair, strict=True)
]


def test_the_expected_table_covers_every_period_action_and_card_type() -> None:
    assert len(DECISION_CASES) == 6 * 2 * len(PolicyAction) * len(CardType)


@pytest.mark.parametrize(("instant", "action", "card_type", "expected"), DECISION_CASES)
def test_every_decision_of_the_shipped_calendar(
    calendar: PolicyCalendar,
    instant: datetime,
    action: PolicyAction,
    card_type: CardType,
    expected: str,
) -> None:
    decision = calendar.decide(action, card_type, instant)
    assert ("+" if decision.allowed else "-") + decision.rule == expected
    assert decision.sv
    assert decision.en


@pytest.mark.parametrize(
    ("instant", "action", "card_type", "allowed"),
    [
        # R1: photo cards stop being issued on 18 December, reserve cards go on.
        (LAST_LEGACY_DAY_END_UTC, PolicyAction.ISSUE, P, True),
        (RESERVE_ONLY_START_UTC, PolicyAction.ISSUE, P, False),
        (RESERVE_ONLY_HALF_HOUR_IN_UTC, PolicyAction.ISSUE, R, True),
        # R3: hand-out ends with 22 January.
        (LAST_PICKUP_DAY_END_UTC, PolicyAction.HAND_OUT, R, True),
        (STOP_START_UTC, PolicyAction.HAND_OUT, R, False),
        # R4: ordering stops on the 23rd and stays stopped through the 25th.
        (LAST_PICKUP_DAY_END_UTC, PolicyAction.ORDER, R, True),
        (STOP_START_UTC, PolicyAction.ORDER, R, False),
        (LAST_STOP_DAY_END_UTC, PolicyAction.ISSUE, P, False),
        (NEW_PROCESS_START_UTC, PolicyAction.ISSUE, P, True),
        # R7: activation opens on the 25th.
        (STOP_LAST_LEGACY_DAY_END_UTC, PolicyAction.ACTIVATE, P, False),
        (NEW_GENERATION_START_UTC, PolicyAction.ACTIVATE, P, True),
        # R2: photographing opens on the 26th.
        (LAST_STOP_DAY_END_UTC, PolicyAction.PHOTOGRAPH, P, False),
        (NEW_PROCESS_START_UTC, PolicyAction.PHOTOGRAPH, P, True),
    ],
)
def test_decisions_flip_at_stockholm_midnight_given_utc_instants(
    calendar: PolicyCalendar,
    instant: datetime,
    action: PolicyAction,
    card_type: CardType,
    allowed: bool,
) -> None:
    assert calendar.decide(action, card_type, instant).allowed is allowed


def test_a_refusal_carries_the_rule_and_both_sentences(calendar: PolicyCalendar) -> None:
    decision = calendar.decide(PolicyAction.ISSUE, R, STOP_START)
    assert decision == Decision(
        False,
        "R4",
        "2024-01-23 – 2024-01-25 är det beställnings- och kortutfärdarstopp: inga kort "
        "utfärdas, varken fotokort eller reservkort.",
        "2024-01-23 – 2024-01-25: ordering and issuing stop; no card is issued, photo or reserve.",
    )
    with pytest.raises(Refused, match=r"^R4: 2024-01-23 – 2024-01-25: ordering"):
        decision.require()


def test_rules_table_has_one_row_per_action_and_card_type(calendar: PolicyCalendar) -> None:
    rows = calendar.rules_table(RESERVE_ONLY_START)
    assert [(row.action, row.card_type) for row in rows] == [
        (action, card_type) for action in PolicyAction for card_type in CardType
    ]
    issue_photo = rows[2 * len(CardType)]
    assert issue_photo == RuleRow(
        PolicyAction.ISSUE,
        P,
        False,
        "R1",
        "2023-12-18 – 2024-01-22 utfärdas endast reservkort; fotokort utfärdas igen från "
        "2024-01-26.",
        "2023-12-18 – 2024-01-22: only reserve cards are issued; photo cards are issued again "
        "from 2024-01-26.",
    )


# --- deadlines and validity ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent_at", "last_day"),
    [
        (at("2024-01-31T10:00:00+01:00"), date(2024, 4, 30)),  # clamped to the month's end
        (at("2024-02-15T10:00:00+01:00"), date(2024, 5, 15)),
        (at("2024-11-30T10:00:00+01:00"), date(2025, 2, 28)),
        (NEW_GENERATION_START, date(2024, 4, 25)),
        (at("2024-01-30T23:30:00+00:00"), date(2024, 4, 30)),  # already the 31st in Stockholm
        (at("2024-01-30T22:59:59+00:00"), date(2024, 4, 30)),  # the 30th: 30 April too
        (at("2024-02-29T23:00:00+00:00"), date(2024, 6, 1)),  # 1 March in Stockholm
    ],
)
def test_activation_deadline_is_three_calendar_months_r8(
    calendar: PolicyCalendar, sent_at: datetime, last_day: date
) -> None:
    assert calendar.activation_deadline(sent_at) == last_day


@pytest.mark.parametrize("sent_at", [LAST_LEGACY_DAY_END, LAST_PICKUP_DAY_END, STOP_START])
def test_cards_sent_with_a_code_envelope_have_no_activation_deadline(
    calendar: PolicyCalendar, sent_at: datetime
) -> None:
    # R3: collected at a hand-out point with a code envelope instead.
    assert calendar.activation_deadline(sent_at) is None


@pytest.mark.parametrize(
    "sent_at",
    [LONG_AGO, LAST_SIS_DAY_END, LAST_LEGACY_DAY_END, RESERVE_ONLY_START, LAST_PICKUP_DAY_END_UTC],
)
def test_code_envelope_cards_must_be_collected_by_22_january_r3(
    calendar: PolicyCalendar, sent_at: datetime
) -> None:
    assert calendar.pickup_deadline(sent_at) == date(2024, 1, 22)


@pytest.mark.parametrize("sent_at", [NEW_GENERATION_START, NEW_PROCESS_START, FAR_FUTURE])
def test_cards_sent_home_have_no_pickup_deadline(
    calendar: PolicyCalendar, sent_at: datetime
) -> None:
    # R6: sent home and activated at a card office instead.
    assert calendar.pickup_deadline(sent_at) is None


@pytest.mark.parametrize(
    ("card_type", "issued_at", "valid_until"),
    [
        (P, NEW_PROCESS_START, date(2029, 1, 26)),
        (R, RESERVE_ONLY_START_UTC, date(2028, 12, 18)),
        (P, at("2024-02-29T12:00:00+01:00"), date(2029, 2, 28)),
        (P, LAST_SIS_DAY_END_UTC, date(2027, 9, 30)),
    ],
)
def test_valid_until_adds_the_validity_years_to_the_local_issue_date(
    calendar: PolicyCalendar, card_type: CardType, issued_at: datetime, valid_until: date
) -> None:
    assert calendar.valid_until(card_type, issued_at) == valid_until


# --- local dates across the daylight saving changes -------------------------------------------


@pytest.mark.parametrize(
    ("issued_at", "valid_until"),
    [
        (at("2024-03-30T22:59:00+00:00"), date(2029, 3, 30)),  # 23:59 CET on 30 March
        (at("2024-03-30T23:00:00+00:00"), date(2029, 3, 31)),  # midnight, 31 March
        (at("2024-03-31T01:30:00+00:00"), date(2029, 3, 31)),  # 03:30 CEST, after the change
        (at("2024-03-31T21:59:59+00:00"), date(2029, 3, 31)),  # 23:59:59 CEST
        (at("2024-03-31T22:00:00+00:00"), date(2029, 4, 1)),  # midnight CEST, 1 April
    ],
)
def test_local_date_across_the_spring_change(
    calendar: PolicyCalendar, issued_at: datetime, valid_until: date
) -> None:
    assert calendar.valid_until(P, issued_at) == valid_until


@pytest.mark.parametrize(
    ("sent_at", "last_day"),
    [
        (at("2024-10-26T21:59:59+00:00"), date(2025, 1, 26)),  # 23:59:59 CEST on the 26th
        (at("2024-10-26T22:00:00+00:00"), date(2025, 1, 27)),  # midnight CEST, the 27th
        (at("2024-10-27T00:30:00+00:00"), date(2025, 1, 27)),  # 02:30 CEST
        (at("2024-10-27T01:30:00+00:00"), date(2025, 1, 27)),  # 02:30 CET, the hour again
        (at("2024-10-27T22:59:59+00:00"), date(2025, 1, 27)),  # 23:59:59 CET
        (at("2024-10-27T23:00:00+00:00"), date(2025, 1, 28)),  # midnight CET, the 28th
    ],
)
def test_local_date_across_the_autumn_change(
    calendar: PolicyCalendar, sent_at: datetime, last_day: date
) -> None:
    assert calendar.activation_deadline(sent_at) == last_day


# --- loading ---------------------------------------------------------------------------------


def test_default_calendar_is_loaded_once(calendar: PolicyCalendar) -> None:
    assert default_calendar() is calendar


def test_the_shipped_file_loads_from_its_path_too(calendar: PolicyCalendar) -> None:
    import ekort.domain

    path = Path(ekort.domain.__file__).parent / "data" / "gavleborg-2024.toml"
    loaded = PolicyCalendar.load(path)
    assert loaded.periods == calendar.periods
    assert loaded.validity_years == calendar.validity_years


# A small calendar for another region; each validation test breaks it in one place.
OTHER_REGION = """\
region = "Region Exempel"

[validity_years]
photo = 4
reserve = 2

[[period]]
name = "before"
first_day = "open"
last_day = 2023-12-31
summary_sv = "Som vanligt."
summary_en = "As usual."
generation = "legacy"
delivery_path = "home"
sis_marked_photo_cards = true
activation_window_months = 3

[period.actions]
order      = { photo = "yes", reserve = "yes" }
photograph = { photo = "yes", reserve = "no-photo" }
issue      = { photo = "yes", reserve = "yes" }
hand_out   = { photo = "sent-home", reserve = "sent-home" }
activate   = { photo = "yes", reserve = "yes" }

[[period]]
name = "freeze"
first_day = 2024-01-01
last_day = 2024-01-07
summary_sv = "Stopp."
summary_en = "Stop."
generation = "legacy"
delivery_path = "code_envelope"
sis_marked_photo_cards = false
pickup_deadline = 2024-02-15

[period.actions]
order      = { photo = "stop", reserve = "stop" }
photograph = { photo = "stop", reserve = "no-photo" }
issue      = { photo = "stop", reserve = "stop" }
hand_out   = { photo = "yes", reserve = "yes" }
activate   = { photo = "stop", reserve = "stop" }

[[period]]
name = "after"
first_day = 2024-01-08
last_day = "open"
summary_sv = "Nytt."
summary_en = "New."
generation = "portrait-2024"
delivery_path = "home"
sis_marked_photo_cards = false
activation_window_months = 2

[period.actions]
order      = { photo = "yes", reserve = "yes" }
photograph = { photo = "yes", reserve = "no-photo" }
issue      = { photo = "yes", reserve = "yes" }
hand_out   = { photo = "sent-home", reserve = "sent-home" }
activate   = { photo = "yes", reserve = "yes" }

[decisions.yes]
allowed = true
rule = "R7"
sv = "Tillåtet."
en = "Allowed."

[decisions.stop]
allowed = false
rule = "R4"
sv = "Stopp för beställning och utfärdande."
en = "Ordering and issuing stop."

[decisions.no-photo]
allowed = false
rule = "E7"
sv = "Reservkort har inget foto."
en = "Reserve cards carry no photo."

[decisions.sent-home]
allowed = false
rule = "R6"
sv = "Kortet skickas hem."
en = "The card is sent home."
"""


def test_another_regions_calendar_behaves_per_its_data(tmp_path: Path) -> None:
    path = tmp_path / "exempel.toml"
    path.write_text(OTHER_REGION, encoding="utf-8")
    other = PolicyCalendar.load(path)

    assert other.region == "Region Exempel"
    assert [p.name for p in other.periods] == ["before", "freeze", "after"]
    assert other.boundaries() == (date(2024, 1, 1), date(2024, 1, 8))
    # Sent home before the freeze, with its own three-month window (2023-11-30 + 3 = leap day).
    assert other.delivery_path(at("2023-11-30T12:00:00+01:00")) is HOME
    assert other.activation_deadline(at("2023-11-30T12:00:00+01:00")) == date(2024, 2, 29)
    assert other.sis_marked(P, at("2023-12-31T23:59:59+01:00")) is True
    # The freeze: code envelopes, its own pick-up day, everything else stopped.
    freeze = at("2024-01-07T23:59:59+01:00")
    assert other.pickup_deadline(freeze) == date(2024, 2, 15)
    assert other.decide(PolicyAction.ISSUE, R, freeze).rule == "R4"
    assert other.decide(PolicyAction.HAND_OUT, P, freeze).allowed is True
    assert other.sis_marked(P, freeze) is False
    # After: a two-month window, new generation, its own validity.
    after = at("2024-12-31T09:00:00+01:00")
    assert other.activation_deadline(after) == date(2025, 2, 28)
    assert other.generation_at(after) is PT
    assert other.valid_until(P, after) == date(2028, 12, 31)
    assert other.valid_until(R, after) == date(2026, 12, 31)
    assert other.pickup_deadline(after) is None


def test_a_calendar_with_explicit_first_and_last_days_covers_only_those_days() -> None:
    text = edit(OTHER_REGION, 'first_day = "open"', "first_day = 2023-01-01")
    text = edit(text, 'last_day = "open"', "last_day = 2024-12-31")
    bounded = PolicyCalendar.from_toml(text)
    assert bounded.period_on(date(2023, 1, 1)).name == "before"
    assert bounded.period_on(date(2024, 12, 31)).name == "after"
    with pytest.raises(InvalidInput, match="no rules for 2022-12-31") as error:
        bounded.period_on(date(2022, 12, 31))
    assert "covers the days 2023-01-01 – 2024-12-31;" in str(error.value)
    with pytest.raises(InvalidInput, match="no rules for 2025-01-01"):
        bounded.period_at(at("2025-01-01T00:00:00+01:00"))


def edit(text: str, old: str, new: str, *, count: int = 1) -> str:
    """`text` with the first `count` of `old` replaced; fails if `old` is not there."""
    assert old in text, old
    return text.replace(old, new, count)


def load_broken(old: str, new: str, *, count: int = 1) -> CalendarError:
    with pytest.raises(CalendarError) as error:
        PolicyCalendar.from_toml(edit(OTHER_REGION, old, new, count=count), source="exempel.toml")
    return error.value


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "first_day = 2024-01-08",
            "first_day = 2024-01-10",
            "exempel.toml: period 3 ('after'), key first_day: starts 2024-01-10, but the previous "
            "period 'freeze' ends 2024-01-07: the days 2024-01-08 – 2024-01-09 belong to no "
            "period (a gap).",
            id="gap",
        ),
        pytest.param(
            "first_day = 2024-01-08",
            "first_day = 2024-01-05",
            "exempel.toml: period 3 ('after'), key first_day: starts 2024-01-05, on or before "
            "2024-01-07, the last day of the previous period 'freeze': the periods overlap.",
            id="overlap",
        ),
        pytest.param(
            'activate   = { photo = "stop", reserve = "stop" }',
            'activate   = { photo = "stop" }',
            "exempel.toml: period 2 ('freeze'), key actions.activate: missing key 'reserve'.",
            id="missing-pair",
        ),
        pytest.param(
            'hand_out   = { photo = "yes", reserve = "yes" }\n',
            "",
            "exempel.toml: period 2 ('freeze'), [period.actions]: missing key 'hand_out'.",
            id="missing-action",
        ),
        pytest.param(
            'allowed = false\nrule = "R4"\n',
            "allowed = false\n",
            "exempel.toml: [decisions.stop]: missing key 'rule'.",
            id="refusal-without-rule",
        ),
        pytest.param(
            'sv = "Stopp för beställning och utfärdande."',
            'sv = ""',
            "exempel.toml: [decisions.stop], key sv: expected text, found ''.",
            id="refusal-without-swedish",
        ),
        pytest.param(
            'sv = "Stopp för beställning och utfärdande."\n',
            "",
            "exempel.toml: [decisions.stop]: missing key 'sv'.",
            id="refusal-without-swedish-key",
        ),
        pytest.param(
            'rule = "R4"',
            'rule = "R44"',
            "exempel.toml: [decisions.stop], key rule: 'R44' is not a rule ekort knows",
            id="unknown-rule",
        ),
        pytest.param(
            "sis_marked_photo_cards = false\npickup_deadline",
            'sis_marked_photo_cards = false\ncolour = "red"\npickup_deadline',
            "exempel.toml: period 2 ('freeze'): unknown key 'colour'; the keys here are",
            id="unknown-period-key",
        ),
        pytest.param(
            'region = "Region Exempel"',
            'region = "Region Exempel"\ntimezone = "UTC"',
            "exempel.toml: top level: unknown key 'timezone'",
            id="unknown-top-level-key",
        ),
        pytest.param(
            'rule = "R4"',
            'rule = "R4"\nnote = "x"',
            "exempel.toml: [decisions.stop]: unknown key 'note'",
            id="unknown-decision-key",
        ),
        pytest.param(
            'order      = { photo = "stop", reserve = "stop" }',
            'order      = { photo = "stop", reserve = "stop", company = "stop" }',
            "exempel.toml: period 2 ('freeze'), key actions.order: unknown key 'company'",
            id="unknown-card-type",
        ),
        pytest.param(
            'order      = { photo = "stop", reserve = "stop" }',
            'order      = { photo = "stop", reserve = "stop" }\nblock = { photo = "stop" }',
            "exempel.toml: period 2 ('freeze'), [period.actions]: unknown key 'block'",
            id="unknown-action",
        ),
        pytest.param(
            'issue      = { photo = "stop", reserve = "stop" }',
            'issue      = { photo = "stop", reserve = "stopp" }',
            "exempel.toml: period 2 ('freeze'), key actions.issue.reserve: no decision named "
            "'stopp'; add [decisions.stopp] or use one of",
            id="unknown-decision-name",
        ),
        pytest.param(
            'generation = "portrait-2024"',
            'generation = "landscape"',
            "exempel.toml: period 3 ('after'), key generation: unknown value 'landscape'; use one "
            "of 'legacy', 'portrait-2024'.",
            id="unknown-generation",
        ),
        pytest.param(
            'delivery_path = "code_envelope"',
            'delivery_path = "post"',
            "exempel.toml: period 2 ('freeze'), key delivery_path: unknown value 'post'; use one "
            "of 'code_envelope', 'home'.",
            id="unknown-delivery-path",
        ),
        pytest.param(
            "last_day = 2024-01-07",
            'last_day = "2024-02-30"',
            "exempel.toml: period 2 ('freeze'), key last_day: expected a date such as 2024-01-22 "
            "or \"open\", found '2024-02-30'.",
            id="bad-date-text",
        ),
        pytest.param(
            "last_day = 2024-01-07",
            "last_day = 2024-02-30",
            "exempel.toml: not valid TOML: Invalid date or datetime",
            id="bad-date-toml",
        ),
        pytest.param(
            "pickup_deadline = 2024-02-15",
            "pickup_deadline = 2024-02-15T12:00:00",
            "exempel.toml: period 2 ('freeze'), key pickup_deadline: expected a date such as "
            "2024-01-22, found the date and time 2024-02-15T12:00:00 (give the date only).",
            id="date-with-time",
        ),
        pytest.param(
            "last_day = 2024-01-07",
            "last_day = 2023-12-25",
            "exempel.toml: period 2 ('freeze'): first_day 2024-01-01 is after last_day 2023-12-25.",
            id="period-ends-before-it-starts",
        ),
        pytest.param(
            "first_day = 2024-01-01",
            'first_day = "open"',
            "exempel.toml: period 2 ('freeze'), key first_day: only the first period may start "
            '"open"',
            id="two-open-starts",
        ),
        pytest.param(
            "last_day = 2023-12-31",
            'last_day = "open"',
            "exempel.toml: period 1 ('before'), key last_day: only the last period may end "
            '"open"',
            id="two-open-ends",
        ),
        pytest.param(
            'name = "after"',
            'name = "freeze"',
            "exempel.toml: period 3, key name: the name 'freeze' is used twice.",
            id="duplicate-name",
        ),
        pytest.param(
            "pickup_deadline = 2024-02-15\n",
            "",
            "exempel.toml: period 2 ('freeze'): delivery_path \"code_envelope\" needs the key "
            "pickup_deadline.",
            id="envelope-without-pickup-deadline",
        ),
        pytest.param(
            "activation_window_months = 2",
            "activation_window_months = 2\npickup_deadline = 2024-03-01",
            "exempel.toml: period 3 ('after'), key pickup_deadline: does not apply to "
            'delivery_path "home"; remove it.',
            id="home-with-pickup-deadline",
        ),
        pytest.param(
            "activation_window_months = 2",
            "activation_window_months = 0",
            "exempel.toml: period 3 ('after'), key activation_window_months: expected a whole "
            "number above 0, found 0.",
            id="zero-window",
        ),
        pytest.param(
            "reserve = 2\n",
            "",
            "exempel.toml: [validity_years]: missing key 'reserve'.",
            id="validity-missing-card-type",
        ),
        pytest.param(
            "photo = 4",
            'photo = "4"',
            "exempel.toml: [validity_years], key photo: expected a whole number above 0, "
            "found '4'.",
            id="validity-not-a-number",
        ),
        pytest.param(
            "allowed = true",
            'allowed = "yes"',
            "exempel.toml: [decisions.yes], key allowed: expected true or false, found 'yes'.",
            id="allowed-not-boolean",
        ),
        pytest.param(
            'region = "Region Exempel"',
            "",
            "exempel.toml: top level: missing key 'region'.",
            id="missing-region",
        ),
    ],
)
def test_a_broken_calendar_is_refused_with_a_clear_message(
    old: str, new: str, message: str
) -> None:
    error = load_broken(old, new)
    assert str(error).startswith(message), str(error)
    assert isinstance(error, InvalidInput)


def test_a_calendar_without_periods_is_refused() -> None:
    head = OTHER_REGION[: OTHER_REGION.index("[[period]]")]
    decisions = OTHER_REGION[OTHER_REGION.index("[decisions.yes]") :]
    with pytest.raises(CalendarError, match="top level: missing key 'period'"):
        PolicyCalendar.from_toml(head + decisions, source="exempel.toml")
    empty = edit(head, 'region = "Region Exempel"', 'region = "Region Exempel"\nperiod = []')
    with pytest.raises(CalendarError, match="the calendar has no periods"):
        PolicyCalendar.from_toml(empty + decisions, source="exempel.toml")


def test_the_error_names_the_source_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "trasig.toml"
    path.write_text(edit(OTHER_REGION, "first_day = 2024-01-08", "first_day = 2024-01-09"))
    with pytest.raises(CalendarError) as error:
        PolicyCalendar.load(path)
    assert error.value.source == str(path)
    assert error.value.where == "period 3 ('after'), key first_day"
    assert "a gap" in error.value.problem


def test_a_missing_file_is_a_calendar_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(CalendarError, match=r"missing\.toml: cannot read the calendar file"):
        PolicyCalendar.load(missing)


def test_the_shipped_calendar_names_every_period_in_words():
    """The portal calls a period by its title, never by its key in the file (issue 15)."""
    for period in default_calendar().periods:
        assert period.title_sv and period.title_en, period.name
        assert period.name not in (period.title_sv, period.title_en)
