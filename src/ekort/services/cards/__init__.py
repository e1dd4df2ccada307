"""One service function per card action, each over a set of cards (a single card is a set of
one): the portal, the API, `ekort bulk` and the jobs all call the same function. The shape they
share is in `card_sets`."""

from .approval import approve_activation, approve_hand_out, withdraw_hand_out
from .blocking import block
from .card_sets import MAX_SET, Outcome
from .handover import Activation, DocumentShown, activate, hand_out
from .locked_pin import order_pin_letter, unlock_pin
from .ordering import NewOrder, cancel_order, order_cards, replace_card
from .production import photograph, produce, send

__all__ = [
    "MAX_SET",
    "Activation",
    "DocumentShown",
    "NewOrder",
    "Outcome",
    "activate",
    "approve_activation",
    "approve_hand_out",
    "block",
    "cancel_order",
    "hand_out",
    "order_cards",
    "order_pin_letter",
    "photograph",
    "produce",
    "replace_card",
    "send",
    "unlock_pin",
    "withdraw_hand_out",
]
