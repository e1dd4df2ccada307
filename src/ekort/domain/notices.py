"""Which e-mail notices are due, and to whom: a card sent (activate it by a date, R8), a pick-up
(R3) or activation (R8) deadline near, a card or certificate about to expire, a card blocked.

The thresholds are data (`NOTICES`): each kind names the card states it is for, the date it
tells of (its event), how many days before that date it is sent, and whether the holder's
manager is told as well. A kind with thresholds (14 and 3 days before a deadline) has one
window per threshold, each reaching from its own threshold down to the next one's, and the
last down to the event day itself:

    activation deadline 14 days ahead ... 4 days ahead    the 14-day notice
    activation deadline  3 days ahead ... the last day     the 3-day notice

so that a job that did not run on the threshold's day sends that notice on its next run, and
a notice is never sent twice: the job records each (card or certificate, recipient, kind,
threshold) once. A kind without thresholds tells of something that happened (the card was
sent, it was blocked) and is due from that day for `news_days` days.

Nothing here reads the clock or a database: `notices_due` decides for one card at `today`
(Swedish local date), `windows` gives the same decision as date ranges, for the job's query
over every card at once, and `still_current` says whether a notice recorded earlier is still
worth sending (a retry after a failed delivery).

No notice ever carries an identity number, a code, or a postal address (a holder with
protected personal data, "skyddade personuppgifter", has it known only to the population
register): the mails name the card by its number and the person by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .lifecycle import CardState


class NoticeKind(StrEnum):
    CARD_SENT = "card_sent"  # activate it at a card office by the deadline (R8)
    PICKUP_DEADLINE = "pickup_deadline"  # collect it at the hand-out point by the deadline (R3)
    ACTIVATION_DEADLINE = "activation_deadline"  # activate it by the deadline (R8)
    CARD_EXPIRING = "card_expiring"  # the card's last valid day is near
    CERTIFICATE_EXPIRING = "certificate_expiring"  # a certificate on the card ends before it
    CARD_BLOCKED = "card_blocked"  # when, why, and whom to call


class Recipient(StrEnum):
    HOLDER = "holder"
    MANAGER = "manager"


class NoticeStatus(StrEnum):
    PENDING = "pending"  # recorded, not yet delivered (or its delivery failed: tried again)
    SENT = "sent"  # handed to the mail server
    LAPSED = "lapsed"  # no longer worth sending when its turn came (the deadline passed)


class Event(StrEnum):
    """The date a notice tells of: a column of the card (or its certificate)."""

    SENT = "sent_at"  # an instant: its Stockholm date
    PICKUP_DEADLINE = "pickup_deadline"
    ACTIVATION_DEADLINE = "activation_deadline"
    VALID_UNTIL = "valid_until"
    CERTIFICATE_NOT_AFTER = "not_after"  # the certificate's, an instant
    CLOSED = "closed_at"  # an instant: when the card was blocked


@dataclass(frozen=True)
class NoticeRule:
    kind: NoticeKind
    rule: str  # the rule it reminds of ("R8"), or ""
    states: frozenset[CardState]  # the card's states in which it is due
    event: Event
    days_before: tuple[int, ...]  # thresholds, largest first; () for news
    news_days: int = 0  # for news: due from the event's day for this many days more
    to_manager: bool = False  # the holder's manager is told too

    @property
    def is_news(self) -> bool:
        return not self.days_before


# How long after the event a notice of news is still sent (a job that did not run for a few
# days catches up; a card blocked years before notices existed is not announced now).
NEWS_DAYS = 7

NOTICES: tuple[NoticeRule, ...] = (
    NoticeRule(
        NoticeKind.CARD_SENT,
        "R8",
        frozenset({CardState.SENT_INACTIVE}),
        Event.SENT,
        (),
        news_days=NEWS_DAYS,
    ),
    NoticeRule(
        NoticeKind.PICKUP_DEADLINE,
        "R3",
        frozenset({CardState.AWAITING_PICKUP}),
        Event.PICKUP_DEADLINE,
        (14, 3),
        to_manager=True,
    ),
    NoticeRule(
        NoticeKind.ACTIVATION_DEADLINE,
        "R8",
        frozenset({CardState.SENT_INACTIVE}),
        Event.ACTIVATION_DEADLINE,
        (14, 3),
        to_manager=True,
    ),
    NoticeRule(
        NoticeKind.CARD_EXPIRING,
        "",
        frozenset({CardState.ACTIVE}),
        Event.VALID_UNTIL,
        (90, 30),
        to_manager=True,  # the manager orders its successor
    ),
    NoticeRule(
        # A certificate that ends with the card is told of by the card's notice.
        NoticeKind.CERTIFICATE_EXPIRING,
        "",
        frozenset({CardState.ACTIVE}),
        Event.CERTIFICATE_NOT_AFTER,
        (90, 30),
    ),
    NoticeRule(
        NoticeKind.CARD_BLOCKED,
        "",
        frozenset({CardState.BLOCKED}),
        Event.CLOSED,
        (),
        news_days=NEWS_DAYS,
    ),
)

RULES: dict[NoticeKind, NoticeRule] = {rule.kind: rule for rule in NOTICES}
# The block reasons that are a missed deadline (R3, R8): the manager is told of those blocks.
DEADLINE_BLOCKS = frozenset({"not_collected", "not_activated"})


def _check_table() -> None:
    """Fail at import if the table contradicts itself."""
    assert len(RULES) == len(NOTICES) == len(NoticeKind), "one rule per notice kind"
    for rule in NOTICES:
        thresholds = rule.days_before
        assert list(thresholds) == sorted(set(thresholds), reverse=True), rule.kind
        assert all(t >= 0 for t in thresholds), rule.kind
        assert rule.is_news == (rule.news_days > 0), rule.kind


_check_table()


@dataclass(frozen=True)
class Window:
    """A notice (`kind`, `days_before`) is due at `today` for an event dated `first`..`last`
    (inclusive). `days_before` is 0 for news."""

    kind: NoticeKind
    days_before: int
    first: date
    last: date

    def holds(self, day: date | None) -> bool:
        return day is not None and self.first <= day <= self.last


def windows(today: date) -> list[Window]:
    """Every notice's window at `today`: the dates its event may have for it to be due."""
    found = []
    for rule in NOTICES:
        if rule.is_news:
            found.append(Window(rule.kind, 0, today - timedelta(days=rule.news_days), today))
            continue
        lower = (*(t + 1 for t in rule.days_before[1:]), 0)
        for threshold, nearest in zip(rule.days_before, lower, strict=True):
            found.append(
                Window(
                    rule.kind,
                    threshold,
                    today + timedelta(days=nearest),
                    today + timedelta(days=threshold),
                )
            )
    return found


@dataclass(frozen=True)
class CardFacts:
    """What `notices_due` needs of a card: its state and its dates (Stockholm dates; the
    instants already turned into the day they fell on)."""

    state: CardState
    sent_on: date | None = None
    pickup_deadline: date | None = None
    activation_deadline: date | None = None
    valid_until: date | None = None
    closed_on: date | None = None
    block_reason: str = ""  # when blocked
    has_manager: bool = False

    def event(self, event: Event) -> date | None:
        return {
            Event.SENT: self.sent_on,
            Event.PICKUP_DEADLINE: self.pickup_deadline,
            Event.ACTIVATION_DEADLINE: self.activation_deadline,
            Event.VALID_UNTIL: self.valid_until,
            Event.CLOSED: self.closed_on,
        }.get(event)


@dataclass(frozen=True)
class Due:
    kind: NoticeKind
    days_before: int  # the threshold; 0 for news
    event_on: date  # the day it tells of
    recipients: tuple[Recipient, ...]


def recipients(
    kind: NoticeKind, *, has_manager: bool, block_reason: str = ""
) -> tuple[Recipient, ...]:
    """Who is told: the holder always; the manager of a deadline (and of a block for a missed
    deadline), when the holder has one."""
    rule = RULES[kind]
    to_manager = rule.to_manager or (
        kind is NoticeKind.CARD_BLOCKED and block_reason in DEADLINE_BLOCKS
    )
    if to_manager and has_manager:
        return (Recipient.HOLDER, Recipient.MANAGER)
    return (Recipient.HOLDER,)


def notices_due(card: CardFacts, today: date, found: Iterable[Window] | None = None) -> list[Due]:
    """The card's notices due at `today` (its certificates' are `certificate_notices_due`)."""
    due = []
    for window in windows(today) if found is None else found:
        rule = RULES[window.kind]
        if rule.event is Event.CERTIFICATE_NOT_AFTER or card.state not in rule.states:
            continue
        day = card.event(rule.event)
        if day is not None and window.holds(day):
            told = recipients(
                rule.kind, has_manager=card.has_manager, block_reason=card.block_reason
            )
            due.append(Due(rule.kind, window.days_before, day, told))
    return due


def certificate_notices_due(
    card_state: CardState,
    card_valid_until: date | None,
    not_after_on: date,
    today: date,
    found: Iterable[Window] | None = None,
) -> list[Due]:
    """A live certificate's notice due at `today`: it ends on `not_after_on`, before its card
    (one that ends with the card is the card's notice)."""
    rule = RULES[NoticeKind.CERTIFICATE_EXPIRING]
    if card_state not in rule.states:
        return []
    if card_valid_until is not None and not_after_on >= card_valid_until:
        return []
    return [
        Due(rule.kind, window.days_before, not_after_on, recipients(rule.kind, has_manager=False))
        for window in (windows(today) if found is None else found)
        if window.kind is rule.kind and window.holds(not_after_on)
    ]


def still_current(kind: NoticeKind, event_on: date, state: CardState, today: date) -> bool:
    """Whether a notice recorded earlier is still worth sending at `today` (a delivery that
    failed is tried again): its card is still in a state the notice is for, and its event has
    not passed (a deadline), or is at most `news_days` old (news)."""
    rule = RULES[kind]
    if state not in rule.states:
        return False
    if rule.is_news:
        return today - timedelta(days=rule.news_days) <= event_on <= today
    return today <= event_on
