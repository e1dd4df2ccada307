"""One service function per card action; each guards its rule, locks the card, commits
atomically and writes its audit entry."""

from .blocking import block
from .four_eyes import approve_activation, approve_hand_out, withdraw_hand_out
from .handover import DocumentShown, activate, hand_out
from .ordering import cancel_order, order_card, replace_card
from .pins import order_pin_letter, unlock_pin
from .production import photograph, produce, send

__all__ = [
    "DocumentShown",
    "activate",
    "approve_activation",
    "approve_hand_out",
    "block",
    "cancel_order",
    "hand_out",
    "order_card",
    "order_pin_letter",
    "photograph",
    "produce",
    "replace_card",
    "send",
    "unlock_pin",
    "withdraw_hand_out",
]
