"""Orders and cards: one POST per lifecycle action, each one service call at `clock.now()`."""

from __future__ import annotations

import base64
import binascii
from enum import IntEnum
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ekort.domain.errors import InvalidInput
from ekort.domain.renewal import WORKLIST_DAYS, blocks_at_once, replacement_reason
from ekort.services import cards, clock, renewals, visibility

from . import shapes
from .schemas import (
    ERRORS,
    ActivateIn,
    ApproveActivationIn,
    BlockIn,
    CancelIn,
    CardOut,
    DocumentIn,
    HandOutIn,
    LetterRefOut,
    OrderIn,
    PathId,
    PhotoIn,
    RenewalOut,
    ReplaceIn,
    UnlockPinIn,
    WithdrawHandOutIn,
)

router = Router()


class WorklistDays(IntEnum):
    """The renewal worklists' horizons (E12, `renewal.WORKLIST_DAYS`): the enum that the
    document shows for `?days=`."""

    D90 = 90
    D30 = 30


assert tuple(WorklistDays) == WORKLIST_DAYS, "WorklistDays must follow renewal.WORKLIST_DAYS"
CARD = {200: CardOut, **ERRORS}


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _document(document: DocumentIn) -> cards.DocumentShown:
    return cards.DocumentShown(
        kind=document.kind,
        number=document.number,
        expires_on=document.expires_on,
        digital=document.digital,
    )


@router.post("/orders", response={201: CardOut, **ERRORS})
def order_card(request: HttpRequest, body: OrderIn) -> Any:
    """A manager orders a photo or reserve card for a person they manage (E2, E8, R1-R4)."""
    card = cards.order_cards(
        actor=_actor(request),
        now=clock.now(),
        orders=[cards.NewOrder(body.person_id, body.card_type, body.note)],
    ).one()
    return Status(201, shapes.card_out(card))


@router.get("/cards/{card_id}", response=CARD)
def get_card(request: HttpRequest, card_id: PathId) -> Any:
    """A card the caller may see, with its block if it is blocked."""
    return shapes.card_out(visibility.card_for(_actor(request), card_id))


@router.post("/cards/{card_id}/cancel", response=CARD)
def cancel_order(request: HttpRequest, card_id: PathId, body: CancelIn) -> Any:
    card = cards.cancel_order(
        actor=_actor(request), reason=body.reason, now=clock.now(), card_ids=[card_id]
    ).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/replace", response={201: CardOut, **ERRORS})
def replace_card(request: HttpRequest, card_id: PathId, body: ReplaceIn) -> Any:
    """Order a new card in place of this one (E12). Lost, stolen or key_compromise block a live
    old card at once and need `confirm_block: true`; any other reason leaves it usable until
    the new card is activated, and that activation blocks it (revocation reason superseded)."""
    reason = replacement_reason(body.reason)
    if blocks_at_once(reason) and not body.confirm_block:
        raise InvalidInput(
            f"Replacing a card for the reason {reason.value!r} blocks it at once, and a block is "
            "final (E9, E12). Send confirm_block: true to go ahead; nothing was changed."
        )
    card = cards.replace_card(
        actor=_actor(request),
        reason=reason,
        note=body.note,
        now=clock.now(),
        card_ids=[card_id],
    ).one()
    return Status(201, shapes.card_out(card))


@router.get("/renewals", response={200: list[RenewalOut], **ERRORS})
def renewals_due(request: HttpRequest, days: WorklistDays = WorklistDays.D90) -> Any:
    """The cards whose validity or certificate ends within `days` (90 or 30) and that have no
    renewal under way (E12): a manager's staff's, those activated at an ID administrator's
    card office, everyone's for support."""
    rows = renewals.worklist(_actor(request), clock.now(), int(days))
    return [
        RenewalOut(
            card_id=row.card_id,
            card_number=row.number,
            card_type=row.card_type,
            state=row.state,
            holder=row.holder,
            hsa_id=row.hsa_id,
            unit=row.unit,
            manager=row.manager,
            valid_until=row.valid_until,
            certificate_ends=row.certificate_ends,
            ends_on=row.ends_on,
            days_left=row.days_left,
        )
        for row in rows
    ]


@router.post("/cards/{card_id}/photograph", response=CARD)
def photograph(request: HttpRequest, card_id: PathId, body: PhotoIn) -> Any:
    try:
        photo = base64.b64decode(body.photo_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("photo_base64 is not valid base64.") from None
    card = cards.photograph(actor=_actor(request), now=clock.now(), photos={card_id: photo}).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/produce", response=CARD)
def produce(request: HttpRequest, card_id: PathId) -> Any:
    card = cards.produce(actor=_actor(request), now=clock.now(), card_ids=[card_id]).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/send", response=CARD)
def send(request: HttpRequest, card_id: PathId) -> Any:
    card = cards.send(actor=_actor(request), now=clock.now(), card_ids=[card_id]).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/hand-out", response=CARD)
def hand_out(request: HttpRequest, card_id: PathId, body: HandOutIn) -> Any:
    """Hand out a card awaiting pick-up (R3). A reserve card at assurance level 3 is only
    registered: it stays awaiting pick-up, with `pending_approval` set, until another ID
    administrator approves it (E11)."""
    card = cards.hand_out(
        actor=_actor(request), now=clock.now(), documents={card_id: _document(body.document)}
    ).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/approve-hand-out", response=CARD)
def approve_hand_out(request: HttpRequest, card_id: PathId) -> Any:
    """A second ID administrator approves a registered hand-out of a reserve card at assurance
    level 3 (E11); not the one who registered it (E11), nor whoever ordered or holds it (E3)."""
    card = cards.approve_hand_out(actor=_actor(request), now=clock.now(), card_ids=[card_id]).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/withdraw-hand-out", response=CARD)
def withdraw_hand_out(request: HttpRequest, card_id: PathId, body: WithdrawHandOutIn) -> Any:
    """Withdraw a wrong registration of a hand-out or an activation; the card stays as it was
    (awaiting pick-up, or sent and inactive) and can be registered again (E11)."""
    card = cards.withdraw_hand_out(
        actor=_actor(request), reason=body.reason, now=clock.now(), card_ids=[card_id]
    ).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/activate", response=CARD)
def activate(request: HttpRequest, card_id: PathId, body: ActivateIn) -> Any:
    """The holder's chosen PIN goes to the chip and nowhere else (R9). A reserve card at
    assurance level 3 is only registered, without a PIN (one given is refused, E11): it stays
    sent and inactive, with `pending_approval` set, until another ID administrator approves it
    at `approve-activation` while the holder types the PIN."""
    card = cards.activate(
        actor=_actor(request),
        now=clock.now(),
        activations={
            card_id: cards.Activation(
                _document(body.document), None if body.pin is None else body.pin.get_secret_value()
            )
        },
    ).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/approve-activation", response=CARD)
def approve_activation(request: HttpRequest, card_id: PathId, body: ApproveActivationIn) -> Any:
    """A second ID administrator approves a registered activation of a reserve card at
    assurance level 3 (E11) while the holder types the PIN twice; not the one who registered it
    (E11), nor whoever ordered or holds it (E3). The PIN goes to the chip and nowhere else."""
    pin = body.pin.get_secret_value()
    if pin != body.pin_repeat.get_secret_value():
        raise InvalidInput("The two PIN entries differ; type the same PIN twice.")
    card = cards.approve_activation(
        actor=_actor(request), now=clock.now(), pins={card_id: pin}
    ).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/block", response=CARD)
def block(request: HttpRequest, card_id: PathId, body: BlockIn) -> Any:
    card = cards.block(
        actor=_actor(request),
        reason=body.reason,
        requested_by=body.requested_by,
        note=body.note,
        now=clock.now(),
        card_ids=[card_id],
    ).one()
    return shapes.card_out(card)


@router.post("/cards/{card_id}/pin-letter", response={201: LetterRefOut, **ERRORS})
def pin_letter(request: HttpRequest, card_id: PathId) -> Any:
    """A PIN/PUK letter to the registered address (R14-R16)."""
    letter = cards.order_pin_letter(
        actor=_actor(request), now=clock.now(), card_ids=[card_id]
    ).one_made()
    return Status(201, shapes.letter_ref_out(letter))


@router.post("/cards/{card_id}/unlock-pin", response=CARD)
def unlock_pin(request: HttpRequest, card_id: PathId, body: UnlockPinIn) -> Any:
    card = cards.unlock_pin(
        actor=_actor(request), now=clock.now(), new_pins={card_id: body.new_pin.get_secret_value()}
    ).one()
    return shapes.card_out(card)
