"""Which cards run out soon (E12): the worklists of managers, card offices and support, the
holder's own on Mina sidor, and the overview's counts.

A card is due when it is live (produced, sent, or in use), its last day (its own, or an
earlier one of the certificates ekort issued to it) falls within the worklist's days from today
(a day already passed included: the nightly job has not expired it yet), and no renewal is under
way (no card ordered or live that replaces it). Counting is done in the database; no card is
loaded into Python for the overview.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from ekort.domain.access import SEE_EXPIRING, Relation, decide_access, needs
from ekort.domain.errors import Decision, InvalidInput
from ekort.domain.lifecycle import LIVE_STATES, OCCUPYING_STATES
from ekort.domain.renewal import WORKLIST_DAYS, decide_replacement, horizon, last_day
from ekort.domain.timekeeping import local_date, require_aware, start_of_local_day
from ekort.domain.vocabulary import ReplacementReason
from ekort.store.models import Card, CardOrder, Certificate
from ekort.store.rosters import name_condition

from .policy import current_calendar
from .roles import person_id_of, roles_of

# The certificates ekort issued to a card; another region's additional certificate (R13) is
# that region's to renew.
_OWN_PROFILES = (Certificate.Profile.AUTHENTICATION, Certificate.Profile.SIGNATURE)


def _usable_certificates() -> QuerySet[Certificate]:
    return Certificate.objects.filter(on_card=True, profile__in=_OWN_PROFILES).exclude(
        status=Certificate.Status.REVOKED
    )


def certificate_last_days(card_ids: Collection[int]) -> dict[int, date]:
    """The last day of each card's earliest-ending certificate that ekort issued and that is
    still usable, by card id (cards without one are left out)."""
    ends: dict[int, date] = {}
    rows = (
        _usable_certificates()
        .filter(card_id__in=list(card_ids))
        .values_list("card_id", "not_after")
    )
    for card_id, not_after in rows:
        day = local_date(not_after)
        ends[card_id] = min(day, ends.get(card_id, day))
    return ends


def last_days(cards: Collection[Card]) -> dict[int, date | None]:
    """Each card's last usable day (`domain.renewal.last_day`), by card id."""
    certificates = certificate_last_days([card.pk for card in cards])
    return {
        card.pk: last_day(card.valid_until, [d] if (d := certificates.get(card.pk)) else [])
        for card in cards
    }


def _renewal_under_way() -> Exists:
    return Exists(
        CardOrder.objects.filter(replaces=OuterRef("pk"), card__state__in=OCCUPYING_STATES)
    )


def _ending_by(day: date) -> Q:
    """The card's own last day, or a certificate's, is `day` or earlier."""
    next_day = start_of_local_day(day + timedelta(days=1))
    certificates = _usable_certificates().filter(not_after__lt=next_day).values("card_id")
    return Q(valid_until__lte=day) | Q(pk__in=certificates)


def _due(today: date, days: int, *, under_way_too: bool = False) -> QuerySet[Card]:
    cards = Card.objects.order_by().filter(_ending_by(horizon(today, days)), state__in=LIVE_STATES)
    return cards if under_way_too else cards.exclude(_renewal_under_way())


@dataclass(frozen=True)
class DueCard:
    """A card on a worklist, in the words a list or a CSV file needs (no identity number)."""

    card_id: int
    number: str
    card_type: str
    state: str
    holder: str
    hsa_id: str
    unit: str
    manager: str
    manager_id: int | None
    valid_until: date | None
    certificate_ends: date | None
    ends_on: date
    days_left: int
    renewal_under_way: bool


def _rows(cards: QuerySet[Card], today: date) -> list[DueCard]:
    first_certificate = (
        _usable_certificates().filter(card=OuterRef("pk")).order_by("not_after").values("not_after")
    )
    rows = (
        cards.annotate(
            certificate_end=Subquery(first_certificate[:1]), under_way=_renewal_under_way()
        )
        .values(
            "pk",
            "number",
            "card_type",
            "state",
            "valid_until",
            "certificate_end",
            "under_way",
            "person__given_name",
            "person__family_name",
            "person__hsa_id",
            "person__unit__name",
            "person__manager__given_name",
            "person__manager__family_name",
            "person__manager_id",
        )
        .order_by("valid_until", "pk")
    )
    out = []
    for row in rows:
        certificate_ends = local_date(row["certificate_end"]) if row["certificate_end"] else None
        ends_on = last_day(row["valid_until"], [certificate_ends] if certificate_ends else [])
        assert ends_on is not None  # selected by a last day
        manager = " ".join(
            filter(None, (row["person__manager__given_name"], row["person__manager__family_name"]))
        )
        out.append(
            DueCard(
                card_id=row["pk"],
                number=row["number"] or "",
                card_type=row["card_type"],
                state=row["state"],
                holder=f"{row['person__given_name']} {row['person__family_name']}",
                hsa_id=row["person__hsa_id"] or "",
                unit=row["person__unit__name"] or "",
                manager=manager,
                manager_id=row["person__manager_id"],
                valid_until=row["valid_until"],
                certificate_ends=certificate_ends,
                ends_on=ends_on,
                days_left=(ends_on - today).days,
                renewal_under_way=bool(row["under_way"]),
            )
        )
    out.sort(key=lambda due: (due.ends_on, due.card_id))
    return out


def _scope(actor: Any) -> Q | None:
    """The cards of the worklist the account may see (SEE_EXPIRING): None for everyone's; E10
    for an account without one of its roles."""
    held = roles_of(actor)
    decide_access(needs(*SEE_EXPIRING.roles), held).require()
    relations: set[Relation] = set()
    for role in held:
        relations |= SEE_EXPIRING.roles.get(role, frozenset())
    if Relation.OTHER in relations:
        return None
    scope = Q(pk__in=[])
    me = person_id_of(actor)
    if Relation.MANAGER in relations and me is not None:
        scope |= Q(person__manager_id=me)
    account = getattr(actor, "account", None)
    office = account.office_id if account is not None else None
    if Relation.OFFICE in relations and office is not None:
        scope |= Q(activated_by__account__office_id=office)
    return scope


def worklist(
    actor: Any,
    now: datetime,
    days: int = WORKLIST_DAYS[0],
    *,
    name: str = "",
    card_type: str = "",
    state: str = "",
) -> list[DueCard]:
    """The cards due for renewal within `days` that the account may see, soonest first: a
    manager's staff's, those handed out or activated at an ID administrator's card office,
    everyone's for support; narrowed to holders by name, a card type and a state when asked."""
    require_aware(now)
    if days not in WORKLIST_DAYS:
        allowed = " or ".join(str(d) for d in WORKLIST_DAYS)
        raise InvalidInput(f"A worklist covers {allowed} days, not {days}.")
    today = local_date(now)
    cards = _due(today, days)
    scope = _scope(actor)
    if scope is not None:
        cards = cards.filter(scope)
    if name.strip():
        cards = cards.filter(name_condition(name, prefix="person__"))
    if card_type:
        cards = cards.filter(card_type=card_type)
    if state:
        cards = cards.filter(state=state)
    return _rows(cards, today)


def holders_own(person_id: int, now: datetime) -> list[DueCard]:
    """Mina sidor: the holder's own cards ending within the longest worklist's days, with or
    without a renewal under way."""
    today = local_date(require_aware(now))
    return _rows(
        _due(today, WORKLIST_DAYS[0], under_way_too=True).filter(person_id=person_id), today
    )


def replacement_decision(card: Card, reason: ReplacementReason, now: datetime) -> Decision:
    """What the rules say of replacing `card` for `reason` at `now` (E12): refused (a renewal
    before its days), or allowed with the sentence that says what becomes of the old card. The
    question a page asks before it asks for confirmation; `replace_card` asks it again."""
    calendar = current_calendar()
    return decide_replacement(
        reason,
        last_days([card])[card.pk],
        local_date(require_aware(now)),
        renewal_days=calendar.renewal_days,
    )


@dataclass(frozen=True)
class DueCounts:
    """Cards due for renewal with none under way, by how soon they end (for the overview)."""

    within: dict[int, int]  # days -> cards ending within them (90 includes 30)


def due_counts(now: datetime) -> DueCounts:
    """One aggregate query over the cards due within the longest list's days."""
    today = local_date(require_aware(now))
    longest, *shorter = WORKLIST_DAYS
    counts = _due(today, longest).aggregate(
        **{str(longest): Count("pk")},
        **{str(days): Count("pk", filter=_ending_by(horizon(today, days))) for days in shorter},
    )
    return DueCounts({days: int(counts[str(days)]) for days in WORKLIST_DAYS})
