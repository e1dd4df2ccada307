"""One service function per card action; each guards its rule, locks the card, commits
atomically and writes its audit entry."""

from .approval import approve_activation, approve_hand_out, withdraw_hand_out
from .blocking import block
from .handover import DocumentShown, activate, hand_out
from .locked_pin import order_pin_letter, unlock_pin
from .ordering import cancel_order, order_card, replace_card
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
