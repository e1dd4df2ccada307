"""Which e-mail notices are due (ekort.domain.notices): every threshold's window at the days
around it, news for a week, the manager for deadlines, and retries that lapse."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ekort.domain.lifecycle import CardState
from ekort.domain.notices import (
    NOTICES,
    CardFacts,
    NoticeKind,
    Recipient,
    certificate_notices_due,
    notices_due,
    still_current,
    windows,
)
from ekort.domain.timekeeping import local_date
from tests import instants as t

S = CardState
LAST_ACTIVATION_DAY = date(2024, 4, 30)  # a card sent 2024-01-31 (R8)


def due(card: CardFacts, today: date) -> set[tuple[str, int]]:
    return {(d.kind.value, d.days_before) for d in notices_due(card, today)}


def days(n: int) -> timedelta:
    return timedelta(days=n)


def sent_card(**kw) -> CardFacts:
    return CardFacts(S.SENT_INACTIVE, activation_deadline=LAST_ACTIVATION_DAY, **kw)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (15, set()),
        (14, {("activation_deadline", 14)}),  # 2024-04-16: the 14-day notice
        (4, {("activation_deadline", 14)}),  # a run that missed the 14th still sends it
        (3, {("activation_deadline", 3)}),  # 2024-04-27
        (0, {("activation_deadline", 3)}),  # the last day itself
        (-1, set()),  # 2024-05-01: the deadline passed; the sweep blocks the card
    ],
)
def test_activation_deadline_windows_at_14_and_3_days(days_left, expected):
    assert due(sent_card(), LAST_ACTIVATION_DAY - days(days_left)) == expected


def test_activation_deadline_day_is_the_stockholm_date_of_the_instant():
    """The 14-day notice is due from local midnight 2024-04-16, 22:00 UTC the day before."""
    before = t.sthlm(2024, 4, 15, 23, 59, 59)
    at = t.sthlm(2024, 4, 16)
    assert due(sent_card(), local_date(before)) == set()
    assert due(sent_card(), local_date(at)) == {("activation_deadline", 14)}
    assert due(sent_card(), local_date(t.LAST_ACTIVATION_DAY_END)) == {("activation_deadline", 3)}
    assert due(sent_card(), local_date(t.AFTER_ACTIVATION_WINDOW)) == set()


def test_pickup_deadline_windows_r3():
    card = CardFacts(S.AWAITING_PICKUP, pickup_deadline=date(2024, 1, 22))
    assert due(card, date(2024, 1, 7)) == set()
    assert due(card, date(2024, 1, 8)) == {("pickup_deadline", 14)}
    assert due(card, date(2024, 1, 18)) == {("pickup_deadline", 14)}
    assert due(card, date(2024, 1, 19)) == {("pickup_deadline", 3)}
    assert due(card, local_date(t.LAST_PICKUP_DAY_END)) == {("pickup_deadline", 3)}
    assert due(card, local_date(t.STOP_START)) == set()


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (91, set()),
        (90, {("card_expiring", 90)}),
        (31, {("card_expiring", 90)}),
        (30, {("card_expiring", 30)}),
        (0, {("card_expiring", 30)}),  # its last valid day
        (-1, set()),
    ],
)
def test_card_expiry_windows_at_90_and_30_days(days_left, expected):
    last_day = date(2029, 1, 31)
    card = CardFacts(S.ACTIVE, valid_until=last_day)
    assert due(card, last_day - days(days_left)) == expected


@pytest.mark.parametrize("state", [S.SENT_INACTIVE, S.BLOCKED, S.EXPIRED, S.PRODUCED])
def test_expiry_is_told_only_of_an_active_card(state):
    card = CardFacts(state, valid_until=date(2029, 1, 31))
    assert ("card_expiring", 30) not in due(card, date(2029, 1, 20))


def test_card_sent_is_news_for_a_week():
    card = sent_card(sent_on=date(2024, 1, 31))
    assert due(card, date(2024, 1, 30)) == set()
    assert due(card, date(2024, 1, 31)) == {("card_sent", 0)}
    assert due(card, date(2024, 2, 7)) == {("card_sent", 0)}
    assert due(card, date(2024, 2, 8)) == set()


def test_card_blocked_is_news_for_a_week_and_the_manager_hears_of_a_missed_deadline():
    lost = CardFacts(S.BLOCKED, closed_on=date(2024, 3, 1), block_reason="lost", has_manager=True)
    missed = CardFacts(
        S.BLOCKED, closed_on=date(2024, 5, 1), block_reason="not_activated", has_manager=True
    )
    [notice] = notices_due(lost, date(2024, 3, 1))
    assert (notice.kind, notice.event_on, notice.recipients) == (
        NoticeKind.CARD_BLOCKED,
        date(2024, 3, 1),
        (Recipient.HOLDER,),
    )
    assert notices_due(lost, date(2024, 3, 9)) == []
    [notice] = notices_due(missed, date(2024, 5, 1))
    assert notice.recipients == (Recipient.HOLDER, Recipient.MANAGER)


def test_deadlines_go_to_the_manager_too_when_there_is_one():
    [with_manager] = notices_due(sent_card(has_manager=True), date(2024, 4, 20))
    [without] = notices_due(sent_card(), date(2024, 4, 20))
    assert with_manager.recipients == (Recipient.HOLDER, Recipient.MANAGER)
    assert without.recipients == (Recipient.HOLDER,)
    [sent] = notices_due(sent_card(sent_on=date(2024, 1, 31), has_manager=True), date(2024, 2, 1))
    assert sent.recipients == (Recipient.HOLDER,)


def test_certificate_expiry_is_told_when_it_ends_before_its_card():
    card_last_day = date(2029, 1, 31)
    ends = date(2026, 6, 30)
    found = certificate_notices_due(S.ACTIVE, card_last_day, ends, ends - days(90))
    assert [(d.kind, d.days_before, d.recipients) for d in found] == [
        (NoticeKind.CERTIFICATE_EXPIRING, 90, (Recipient.HOLDER,))
    ]
    assert certificate_notices_due(S.ACTIVE, card_last_day, ends, ends - days(91)) == []
    assert [d.days_before for d in certificate_notices_due(S.ACTIVE, None, ends, ends)] == [30]
    # Ending with the card: the card's own notice tells of it.
    assert certificate_notices_due(S.ACTIVE, ends, ends, ends - days(10)) == []
    assert certificate_notices_due(S.BLOCKED, card_last_day, ends, ends - days(10)) == []
    # The card's notices never include a certificate's.
    assert notices_due(CardFacts(S.ACTIVE, valid_until=card_last_day), ends - days(10)) == []


def test_every_day_of_a_window_has_exactly_one_threshold():
    """Windows of one kind do not overlap and leave no gap between the largest threshold and
    the event: a notice is due once per threshold, whichever days the job runs."""
    today = date(2024, 3, 1)
    for rule in NOTICES:
        mine = [w for w in windows(today) if w.kind is rule.kind]
        covered = sorted(
            (w.first - today).days + i for w in mine for i in range((w.last - w.first).days + 1)
        )
        if rule.days_before:
            assert covered == list(range(0, rule.days_before[0] + 1)), rule.kind
        else:
            assert covered == list(range(-rule.news_days, 1)), rule.kind


def test_a_notice_recorded_earlier_lapses_when_its_deadline_passed_or_the_card_moved_on():
    kind = NoticeKind.ACTIVATION_DEADLINE
    assert still_current(kind, LAST_ACTIVATION_DAY, S.SENT_INACTIVE, LAST_ACTIVATION_DAY)
    assert not still_current(kind, LAST_ACTIVATION_DAY, S.SENT_INACTIVE, date(2024, 5, 1))
    assert not still_current(kind, LAST_ACTIVATION_DAY, S.ACTIVE, date(2024, 4, 20))
    blocked = NoticeKind.CARD_BLOCKED
    assert still_current(blocked, date(2024, 3, 1), S.BLOCKED, date(2024, 3, 8))
    assert not still_current(blocked, date(2024, 3, 1), S.BLOCKED, date(2024, 3, 9))
