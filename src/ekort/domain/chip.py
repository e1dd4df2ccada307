"""What a card reader does to the card's chip, as ekort needs it.

The PIN goes from the PIN pad to the chip and nowhere else: ekort neither logs nor stores it.
"""

from __future__ import annotations

from typing import Protocol


class CardChip(Protocol):
    def set_pin(self, card_number: str, pin: str) -> None:
        """Set the holder's chosen PIN at activation (R9)."""

    def unlock_pin(self, card_number: str, new_pin: str) -> None:
        """Reset the try counter and set a new PIN (an ID administrator's unlock, R14)."""
