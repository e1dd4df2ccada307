"""What the portal's pages show, read from the store and put in the words of the page.

Rows carry the problems of their own forms, so that a refusal is shown next to the form that
caused it (rule ID and Swedish sentence) and not at the top of a long page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext, gettext_lazy

from ekort.domain.errors import Decision, Refused
from ekort.domain.identifiers import mask_identity_number
from ekort.domain.lifecycle import LIVE_STATES, OCCUPYING_STATES, CardAction, CardState, can
from ekort.domain.orders import SlotCard, decide_free_slot, slot_taken
from ekort.domain.people_register import card_face_outdated
from ekort.domain.pins import CodeRequest, decide_codes
from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.rulebook import Rule, rule
from ekort.domain.vocabulary import CardType, Generation
from ekort.services.cards.locked_pin import pin_letter_waiting
from ekort.services.offices import OfficeStatus, offices_by_town
from ekort.services.policy import current_calendar
from ekort.store.models import Card, Person

from .certificates import CertificateRow, certificate_rows
from .labels import BLOCK_REASONS, CARD_STATES, CARD_TYPES
from .page_access import may_see_address


@dataclass(frozen=True)
class Problem:
    """Why a form was not carried out: a rule that refused it, or input that was wrong."""

    form: str  # which form on the page: "pin", "order", "replace"
    target: int  # the card or person the form is about
    sv: str
    rule: str = ""
    en: str = ""  # empty: the Swedish sentence is shown in English pages too

    @classmethod
    def refused(cls, form: str, target: int, exc: Refused) -> Problem:
        return cls(form, target, exc.sv, exc.rule, exc.en)


@dataclass
class CardRow:
    card: Card
    problems: dict[str, Problem] = field(default_factory=dict)
    # Another card of the same type is ordered or live, so a replacement would be refused (E8).
    slot_taken: bool = False
    # A replacement of this card is ordered or on its way: the card works until it is
    # activated (E12).
    renewal_under_way: bool = False
    # The policy calendar refuses ordering a card of this type now (R1-R4): no replacement is
    # offered, the page says why. Set by `attach_ordering`; None: not refused, or not asked.
    ordering_refused: Decision | None = None

    @property
    def state(self) -> str:
        return str(CARD_STATES.get(self.card.state, self.card.state))

    @property
    def face_outdated(self) -> bool:
        """A live card printed before the register changed the holder's name: the holder and
        the manager are offered a replacement, name changed (the old card works meanwhile)."""
        return self.card.state in LIVE_STATES and card_face_outdated(
            self.card.produced_at, self.card.person.name_changed_at
        )

    @property
    def card_type(self) -> str:
        return str(CARD_TYPES.get(self.card.card_type, self.card.card_type))

    @property
    def block_reason(self) -> str:
        block = getattr(self.card, "block", None)
        return str(BLOCK_REASONS.get(block.reason, block.reason)) if block is not None else ""

    def codes(
        self, request: CodeRequest, *, has_address: bool = True, waiting: bool = False
    ) -> Decision | None:
        """The rules' answer about this card's codes (R14-R16); None for a card not produced
        yet, which has no PIN and no generation to route by."""
        if not self.card.generation:
            return None
        return decide_codes(
            request,
            CardType(self.card.card_type),
            Generation(self.card.generation),
            has_address=has_address,
            waiting=waiting,
        )

    @property
    def pin_letter_waiting(self) -> bool:
        """A PIN/PUK letter of the card waits in the print queue: no second one is ordered."""
        return self.card.number is not None and pin_letter_waiting(self.card.pk)

    @property
    def may_order_pin_letter(self) -> bool:
        if not can(CardState(self.card.state), CardAction.ORDER_PIN_LETTER):
            return False
        has_address = self.card.person.has_registered_address
        decision = self.codes(
            CodeRequest.SEND_LETTER, has_address=has_address, waiting=self.pin_letter_waiting
        )
        return decision is not None and decision.allowed

    @property
    def unlock_at_office(self) -> bool:
        """An ID administrator can unlock the card's PIN at a card office (R14)."""
        decision = self.codes(CodeRequest.UNLOCK_AT_OFFICE)
        return decision is not None and decision.allowed

    @property
    def may_manage_certificates(self) -> bool:
        """The holder adds and removes certificates of an active card only (R12, R13; E1)."""
        kind = CardType(self.card.card_type)
        return can(CardState(self.card.state), CardAction.MANAGE_CERTIFICATES, kind)

    @property
    def may_block(self) -> bool:
        return can(CardState(self.card.state), CardAction.BLOCK, CardType(self.card.card_type))

    @property
    def may_replace(self) -> bool:
        """A produced card can be replaced (E1) when no other card of its type is ordered or
        in use (E8); one never produced is cancelled instead."""
        if self.card.number is None:
            return False
        kind = CardType(self.card.card_type)
        return (
            can(CardState(self.card.state), CardAction.REPLACE, kind)
            and decide_free_slot(kind, self.slot_taken).allowed
        )

    @property
    def pin_route(self) -> Rule | None:
        """How this card's PIN is unlocked (R14-R16), in the words of the source text: the rule
        that allows or refuses an unlock at a card office (its sentence is shown)."""
        decision = self.codes(CodeRequest.UNLOCK_AT_OFFICE)
        return None if decision is None else rule(decision.rule)

    @property
    def certificates(self) -> list[CertificateRow]:
        """The certificates on the card (R11-R13), read when a page asks for them."""
        return certificate_rows(self.card)

    @property
    def identity_document(self) -> str:
        """R17: SIS-marked cards are identity documents, others a service ID only."""
        if self.card.number is None:
            return ""
        if self.card.sis_marked:
            return gettext("SIS-märkt: giltig legitimation")
        return gettext("Tjänstelegitimation (inte SIS-märkt)")


@dataclass
class PersonRow:
    person: Person
    show_address: bool
    cards: list[CardRow]
    problems: dict[str, Problem] = field(default_factory=dict)

    @property
    def masked_identity(self) -> str:
        # Birth date only: a full identity number is never put on a page.
        return mask_identity_number(self.person.identity_number)

    @property
    def address(self) -> str:
        p = self.person
        if not p.has_registered_address:
            return ""
        return f"{p.street_address}, {p.postal_code[:3]} {p.postal_code[3:]} {p.postal_town}"


def _attach(rows: list[CardRow], problem: Problem | None) -> None:
    for row in rows:
        if problem is not None and problem.target == row.card.pk:
            row.problems[problem.form] = problem


def cards_of(person_id: int, problem: Problem | None = None) -> list[CardRow]:
    cards = (
        Card.objects.filter(person_id=person_id)
        .select_related("block", "order", "person")
        .order_by("-order__ordered_at", "-pk")
    )
    rows = [CardRow(card) for card in cards]
    slots = [
        (row.card.card_type, SlotCard(row.card.pk, row.card.state, row.card.order.replaces_id))
        for row in rows
    ]
    successors = {slot.replaces for _, slot in slots if slot.state in OCCUPYING_STATES}
    for row in rows:
        same_type = [slot for kind, slot in slots if kind == row.card.card_type]
        row.slot_taken = slot_taken(same_type, replacing=row.card.pk)
        row.renewal_under_way = row.card.state in LIVE_STATES and row.card.pk in successors
    _attach(rows, problem)
    return rows


@dataclass(frozen=True)
class OrderOffer:
    """A card type on a manager's order form: offered, or refused now by the rule that says
    why (the policy calendar, R1-R4; one of the type already ordered or in use, E8)."""

    card_type: CardType
    refusal: Decision | None

    @property
    def label(self) -> str:
        return str(CARD_TYPES[self.card_type.value])


def order_offers(rows: list[CardRow], now: datetime) -> list[OrderOffer]:
    """Each card type as the order service would answer for the person with these cards now,
    asked of the same decisions (`PolicyAction.ORDER`, `decide_free_slot`)."""
    calendar = current_calendar()
    offers = []
    for kind in CardType:
        decision = calendar.decide(PolicyAction.ORDER, kind, now)
        if decision.allowed:
            same_type = [
                SlotCard(row.card.pk, row.card.state, row.card.order.replaces_id)
                for row in rows
                if row.card.card_type == kind
            ]
            decision = decide_free_slot(kind, slot_taken(same_type))
        offers.append(OrderOffer(kind, None if decision.allowed else decision))
    return offers


def attach_ordering(rows: list[CardRow], now: datetime) -> None:
    """Mark the cards whose type the calendar does not let anyone order now: a replacement of
    them would be refused (`replace_card` asks the same decision)."""
    calendar = current_calendar()
    for row in rows:
        decision = calendar.decide(PolicyAction.ORDER, CardType(row.card.card_type), now)
        row.ordering_refused = None if decision.allowed else decision


def _standing(row: CardRow) -> int:
    """Where a card comes in a holder's list: the one in use, then those on their way to the
    holder, then those still being made, last the ones that no longer work."""
    state = row.card.state
    if state == CardState.ACTIVE:
        return 0
    if state in LIVE_STATES:
        return 1
    if state in OCCUPYING_STATES:
        return 2
    return _NO_LONGER_WORKS


_NO_LONGER_WORKS = 3


def live_first(rows: list[CardRow]) -> tuple[list[CardRow], list[CardRow]]:
    """A holder's cards: those that work or are on their way, the one in use first; then
    those that no longer work (blocked, expired, cancelled). Within each kind as they came,
    the newest order first."""
    ordered = sorted(rows, key=_standing)
    return (
        [row for row in ordered if _standing(row) < _NO_LONGER_WORKS],
        [row for row in ordered if _standing(row) == _NO_LONGER_WORKS],
    )


def person_row(viewer: Any, person: Person, problem: Problem | None = None) -> PersonRow:
    row = PersonRow(
        person=person,
        show_address=may_see_address(viewer, person.protected_identity),
        cards=cards_of(person.pk, problem),
    )
    if problem is not None and problem.form == "order" and problem.target == person.pk:
        row.problems["order"] = problem
    return row


def reports_of(viewer: Any, manager_id: int, problem: Problem | None = None) -> list[PersonRow]:
    people = Person.objects.filter(manager_id=manager_id).order_by("family_name", "given_name")
    return [person_row(viewer, person, problem) for person in people]


WEEKDAYS = (
    gettext_lazy("Måndag"),
    gettext_lazy("Tisdag"),
    gettext_lazy("Onsdag"),
    gettext_lazy("Torsdag"),
    gettext_lazy("Fredag"),
    gettext_lazy("Lördag"),
    gettext_lazy("Söndag"),
)


@dataclass(frozen=True)
class OfficeRow:
    status: OfficeStatus
    week: list[tuple[str, str]]  # (weekday, "08:00–11:30, 12:30–16:00"), open days only


def office_rows(now: datetime) -> list[OfficeRow]:
    rows = []
    for status in offices_by_town(now):
        by_day: dict[int, list[str]] = {}
        for interval in status.office.hours.all():
            text = f"{interval.opens:%H:%M}–{interval.closes:%H:%M}"
            by_day.setdefault(interval.weekday, []).append(text)
        week = [(str(WEEKDAYS[day]), ", ".join(by_day[day])) for day in sorted(by_day)]
        rows.append(OfficeRow(status, week))
    return rows
