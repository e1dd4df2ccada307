"""The cards' steps: the plan of the history, card by card. Each step (order, photograph,
produce, send, hand out, activate, unlock, PIN letter, block, replace, cancel) is recorded as an
event at its instant and, when the timeline plays it, calls the card service as the member of
staff who would take it: the holder's manager orders (E2), an ID administrator at the holder's
card office hands out and activates, never the one who ordered (E3), a second one approves a
reserve card at assurance level 3 (E11), and the issuer's administrator produces and sends.
The paths string the steps together: the legacy one with a code envelope and collection at a
card office (R3), the new one sent home inactive and activated at a card office (R6, R7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User

from ekort.domain.errors import DomainError
from ekort.domain.four_eyes import needs_second_approval
from ekort.domain.id_documents import DocumentKind
from ekort.domain.lifecycle import CardState
from ekort.domain.pins import validate_pin
from ekort.domain.timekeeping import local_date
from ekort.domain.vocabulary import AssuranceLevel, BlockReason, CardType, ReplacementReason
from ekort.services import cards
from ekort.services.cards import bureau
from ekort.services.policy import current_calendar
from ekort.store.models import Card, Person

from .logins import ALL_LOGINS
from .people import SPECS
from .timeline import BACK_OFFICE_TIMES, Timeline

DOCUMENT_KINDS = (
    DocumentKind.PASSPORT,
    DocumentKind.NATIONAL_ID_CARD,
    DocumentKind.DRIVING_LICENCE,
)


@dataclass
class CardRef:
    """A card in the plan; its id is known once its order has run."""

    holder: str
    card_type: CardType
    id: int | None = None
    pin: str = ""  # the PIN the holder chose last (the demo plays the holder at the PIN pad)

    @property
    def pk(self) -> int:
        assert self.id is not None, "a card step ran before the card was ordered"
        return self.id


class Plan(Timeline):
    """The history's card steps, by the region's persons and staff."""

    def __init__(
        self,
        build_at: datetime,
        persons: dict[str, Person],
        users: dict[str, User],
        user_of_person: dict[str, User],
    ) -> None:
        super().__init__(build_at)
        self.calendar = current_calendar()
        self.persons = persons
        self.specs = SPECS
        self.users = users
        self.user_of_person = user_of_person
        self.office_admin: dict[str, str] = {
            login.office: login.username for login in ALL_LOGINS if login.office
        }
        self.office_admin["Gävle"] = "idadmin"

    # --- who does what ---

    def manager_of(self, key: str) -> User:
        manager = self.specs[key].manager
        assert manager is not None, f"{key} has no manager to order cards"
        return self.user_of_person[manager]

    def admin_for(self, key: str) -> User:
        """The ID administrator at the holder's card office; never the holder."""
        username = self.office_admin[self.specs[key].town]
        if self.users[username] is self.user_of_person.get(key):
            username = "idadmin2" if username != "idadmin2" else "idadmin"
        return self.users[username]

    def second_admin_for(self, key: str, first: User) -> User:
        """The second ID administrator of a four-eyes hand-out or activation (E11): one of
        Gävle's two, never the first administrator, nor the holder."""
        for username in ("idadmin2", "idadmin", "idadmin.sandviken"):
            user = self.users[username]
            if user is not first and user is not self.user_of_person.get(key):
                return user
        raise AssertionError("the demo has too few ID administrators")

    def document(self, at: datetime, holder: str) -> cards.DocumentShown:
        kind = (
            DocumentKind.DRIVING_LICENCE
            if self.specs[holder].samordning
            else self.rng.choice(DOCUMENT_KINDS)
        )
        number = "".join(self.rng.choice("0123456789") for _ in range(8))
        expires = local_date(at) + timedelta(days=self.rng.randint(200, 3000))
        return cards.DocumentShown(kind=kind.value, number=number, expires_on=expires)

    def pin(self) -> str:
        while True:
            candidate = f"{self.rng.randint(0, 999999):06d}"
            try:
                return validate_pin(candidate)
            except DomainError:
                continue

    # --- card steps, each an event at its instant ---

    def order(
        self, holder: str, at: datetime, card_type: CardType = CardType.PHOTO, note: str = ""
    ) -> CardRef:
        ref = CardRef(holder, card_type)
        actor, person = self.manager_of(holder), self.persons[holder]

        def run() -> None:
            ref.id = (
                cards.order_cards(
                    actor=actor, now=at, orders=[cards.NewOrder(person.pk, card_type, note)]
                )
                .one()
                .pk
            )

        self.event(at, f"order a {card_type} card for {holder}", run)
        return ref

    def replace(
        self, old: CardRef, at: datetime, reason: ReplacementReason, note: str = ""
    ) -> CardRef:
        ref = CardRef(old.holder, old.card_type)
        actor = self.manager_of(old.holder)

        def run() -> None:
            ref.id = (
                cards.replace_card(actor=actor, reason=reason, now=at, note=note, card_ids=[old.pk])
                .one()
                .pk
            )

        self.event(at, f"replace {old.holder}'s {old.card_type} card", run)
        return ref

    def photograph(self, card: CardRef, at: datetime) -> None:
        actor = self.admin_for(card.holder)
        photo = b"\xff\xd8\xff\xe0" + f"demo photo of {card.holder} {at.isoformat()}".encode()
        self.event(
            at,
            f"photograph {card.holder}",
            lambda: cards.photograph(actor=actor, now=at, photos={card.pk: photo}).one(),
        )

    def produce(self, card: CardRef, at: datetime) -> None:
        actor = self.users["utgivare"]
        self.event(
            at,
            f"produce {card.holder}'s card",
            lambda: cards.produce(actor=actor, now=at, card_ids=[card.pk]).one(),
        )

    def send(self, card: CardRef, at: datetime) -> None:
        """The card bureau has delivered the card (its photo is deleted), and it is sent."""
        actor = self.users["utgivare"]

        def run() -> None:
            batch = Card.objects.only("bureau_batch_id").get(pk=card.pk).bureau_batch_id
            if batch is not None:
                bureau.confirm_delivery(actor=actor, batch_ids=[batch], now=at)
            cards.send(actor=actor, now=at, card_ids=[card.pk]).one()

        self.event(at, f"send {card.holder}'s card", run)

    def hand_out(self, card: CardRef, at: datetime) -> None:
        actor, document = self.admin_for(card.holder), self.document(at, card.holder)
        second = self.second_admin_for(card.holder, actor)

        def run() -> None:
            handed = cards.hand_out(actor=actor, now=at, documents={card.pk: document}).one()
            if handed.state == CardState.AWAITING_PICKUP:
                # A reserve card at assurance level 3: a second administrator approves (E11).
                cards.approve_hand_out(actor=second, now=at, card_ids=[card.pk]).one()

        self.event(at, f"hand out {card.holder}'s card", run)

    def activate(self, card: CardRef, at: datetime) -> None:
        actor, document, pin = (
            self.admin_for(card.holder),
            self.document(at, card.holder),
            self.pin(),
        )
        second = self.second_admin_for(card.holder, actor)
        card.pin = pin

        def run() -> None:
            row = Card.objects.only("card_type", "assurance_level").get(pk=card.pk)
            if needs_second_approval(CardType(row.card_type), AssuranceLevel(row.assurance_level)):
                # A reserve card at assurance level 3: the first administrator registers the
                # document, the second approves while the holder types the PIN (E11).
                cards.activate(
                    actor=actor, now=at, activations={card.pk: cards.Activation(document)}
                ).one()
                cards.approve_activation(actor=second, now=at, pins={card.pk: pin}).one()
            else:
                cards.activate(
                    actor=actor, now=at, activations={card.pk: cards.Activation(document, pin)}
                ).one()

        self.event(at, f"activate {card.holder}'s card", run)

    def unlock(self, card: CardRef, at: datetime) -> None:
        actor, pin = self.admin_for(card.holder), self.pin()
        card.pin = pin
        self.event(
            at,
            f"unlock {card.holder}'s PIN",
            lambda: cards.unlock_pin(actor=actor, now=at, new_pins={card.pk: pin}).one(),
        )

    def pin_letter(self, card: CardRef, at: datetime) -> None:
        # The holder orders it in Mina sidor if they have an account; else support does.
        actor = self.user_of_person.get(card.holder, self.users["support"])
        self.event(
            at,
            f"order a PIN/PUK letter for {card.holder}",
            lambda: cards.order_pin_letter(actor=actor, now=at, card_ids=[card.pk]).one(),
        )

    def block(
        self, card: CardRef, at: datetime, reason: BlockReason, note: str, by: str = "support"
    ) -> None:
        holder = self.persons[card.holder]
        if by == "holder" and card.holder in self.user_of_person:
            actor, requested_by = self.user_of_person[card.holder], f"{holder.full_name} (själv)"
        elif by == "manager":
            actor = self.manager_of(card.holder)
            requested_by = self.persons[self.specs[card.holder].manager or ""].full_name
        elif by == "id_admin":
            actor, requested_by = self.admin_for(card.holder), holder.full_name
        else:
            actor, requested_by = self.users["support"], f"{holder.full_name} (telefon)"
        self.event(
            at,
            f"block {card.holder}'s card ({reason})",
            lambda: cards.block(
                actor=actor,
                reason=reason,
                requested_by=requested_by,
                now=at,
                note=note,
                card_ids=[card.pk],
            ).one(),
        )

    def cancel(self, card: CardRef, at: datetime, reason: str) -> None:
        actor = self.manager_of(card.holder)
        self.event(
            at,
            f"cancel {card.holder}'s order",
            lambda: cards.cancel_order(
                actor=actor, now=at, reason=reason, card_ids=[card.pk]
            ).one(),
        )

    # --- paths: the steps after an order ---

    def legacy_path(
        self,
        card: CardRef,
        ordered_at: datetime,
        *,
        produce_on: datetime | None = None,
        collect: bool = True,
    ) -> datetime:
        """Photographed, produced, code envelope sent, collected at a hand-out point (R3).
        Returns the instant of the last step."""
        at = ordered_at
        if card.card_type is CardType.PHOTO:
            at = self.after(at, 2, 6)
            self.photograph(card, at)
        at = produce_on or self.after(at, 1, 4, BACK_OFFICE_TIMES)
        self.produce(card, at)
        at += timedelta(minutes=40)
        self.send(card, at)
        if collect:
            at = self.after(at, 3, 9)
            self.hand_out(card, at)
        return at

    def new_path(
        self,
        card: CardRef,
        ordered_at: datetime,
        *,
        activate: bool = True,
        photographed_at: datetime | None = None,
    ) -> datetime:
        """Photographed, produced, sent home inactive (R6), activated at a card office (R7)."""
        at = ordered_at
        if card.card_type is CardType.PHOTO:
            at = photographed_at or self.after(at, 2, 8)
            self.photograph(card, at)
        at = self.after(at, 1, 3, BACK_OFFICE_TIMES)
        self.produce(card, at)
        at += timedelta(minutes=40)
        self.send(card, at)
        if activate:
            at = self.after(at, 4, 18)
            self.activate(card, at)
        return at

    def valid_until(self, card: CardRef, produced_at: datetime) -> date:
        return self.calendar.valid_until(card.card_type, produced_at)

    def legacy_card(
        self, holder: str, first: date, last: date, note: str = ""
    ) -> tuple[CardRef, datetime, datetime]:
        """A legacy photo card ordered between `first` and `last` and handed out; returns the
        card, its production instant and the hand-out instant."""
        ordered_at = self.between(first, last)
        card = self.order(holder, ordered_at, note=note)
        photographed = self.after(ordered_at, 2, 6)
        self.photograph(card, photographed)
        produced = self.after(photographed, 1, 4, BACK_OFFICE_TIMES)
        handed_out = self.legacy_path_from_production(card, produced)
        return card, produced, handed_out

    def legacy_path_from_production(self, card: CardRef, produced: datetime) -> datetime:
        self.produce(card, produced)
        self.send(card, produced + timedelta(minutes=40))
        at = self.after(produced, 3, 9)
        self.hand_out(card, at)
        return at
