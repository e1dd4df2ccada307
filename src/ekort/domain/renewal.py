"""Replacing a card by the reason for it, and which cards are due for renewal (E12).

A lost, stolen or misused card may be in someone else's hands: it is blocked as soon as its
replacement is ordered. A card that runs out, is damaged but works, or shows an old name or
photo stays usable until its successor is activated; the activation blocks it then, in the same
transaction, as replaced (RFC 5280 reason superseded). A renewal (reason "expiring") can be
ordered from some days before the card's last day (the calendar's `renewal_days_before_expiry`,
90 by default), and the worklists show the cards that end within 90 and within 30 days.

A card's last day is the earlier of its own last valid day and its certificates' last day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from .errors import Decision, InvalidInput, decides
from .rulebook import rule
from .vocabulary import BlockReason, ReplacementReason

DEFAULT_RENEWAL_DAYS = 90
# The worklists' two horizons, in days from today: the longer one first.
WORKLIST_DAYS = (90, 30)

R = ReplacementReason
# Replacing for these reasons blocks the old card at once, with this block reason.
BLOCKS_AT_ONCE: dict[ReplacementReason, BlockReason] = {
    R.LOST: BlockReason.LOST,
    R.STOLEN: BlockReason.STOLEN,
    R.KEY_COMPROMISE: BlockReason.KEY_COMPROMISE,
}
# The block of an old card whose successor was activated (revocation reason superseded).
SUPERSEDED = BlockReason.REPLACED


def replacement_reason(value: object) -> ReplacementReason:
    """The reason as given by a person; anything else is refused with the reasons to use."""
    try:
        return ReplacementReason(str(value))
    except ValueError:
        reasons = ", ".join(ReplacementReason)
        raise InvalidInput(f"Unknown replacement reason; use one of {reasons}.") from None


def blocks_at_once(reason: ReplacementReason) -> bool:
    return reason in BLOCKS_AT_ONCE


def last_day(valid_until: date | None, certificate_last_days: Iterable[date]) -> date | None:
    """The card's last usable day: its own, or its certificates' if one ends earlier."""
    days = [day for day in (valid_until, *certificate_last_days) if day is not None]
    return min(days) if days else None


def horizon(today: date, days: int) -> date:
    """The last day a card may end on to be on a worklist `days` long: today plus `days`."""
    return today + timedelta(days=days)


def renewal_opens(ends_on: date, days_before: int) -> date:
    """The first day a renewal of a card ending on `ends_on` can be ordered."""
    return ends_on - timedelta(days=days_before)


@decides("E12")
def decide_replacement(
    reason: ReplacementReason,
    ends_on: date | None,
    today: date,
    *,
    renewal_days: int = DEFAULT_RENEWAL_DAYS,
) -> Decision:
    """May a replacement for `reason` be ordered `today` for a card whose last day is
    `ends_on`, and what becomes of the old card? Allowed, the sentence says which of the two
    happens (blocked now, or when the new card is activated); a renewal ordered earlier than
    `renewal_days` before the last day is refused."""
    e12 = rule("E12")
    if reason is R.EXPIRING and ends_on is not None:
        opens = renewal_opens(ends_on, renewal_days)
        if today < opens:
            return Decision.refuse(
                "E12",
                f"{e12.sv} Kortet gäller till {ends_on.isoformat()}; ett nytt kort kan beställas "
                f"från {opens.isoformat()} ({renewal_days} dagar före).",
                f"{e12.en} The card is valid until {ends_on.isoformat()}; a renewal can be "
                f"ordered from {opens.isoformat()} ({renewal_days} days before).",
            )
    if blocks_at_once(reason):
        return Decision.allow(
            "E12",
            "Det gamla kortet spärras direkt när ersättningskortet beställs. Spärren kan inte "
            "hävas.",
            "The old card is blocked as soon as the replacement is ordered. A block is final.",
        )
    return Decision.allow(
        "E12",
        "Det gamla kortet fungerar tills det nya kortet har aktiverats; då spärras det (ersatt).",
        "The old card works until the new card is activated; it is blocked (replaced) then.",
    )
