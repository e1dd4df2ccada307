"""A virtual card chip for the demo and tests: it keeps a salted scrypt hash of the PIN in this
process's memory only, as a physical chip keeps the PIN to itself. A real reader implements the
same `CardChip` protocol."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass


@dataclass
class _ChipState:
    salt: bytes
    pin_hash: bytes
    failed_tries: int = 0


class VirtualChips:
    MAX_TRIES = 3

    def __init__(self) -> None:
        self._chips: dict[str, _ChipState] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _hash(pin: str, salt: bytes) -> bytes:
        return hashlib.scrypt(pin.encode(), salt=salt, n=2**12, r=8, p=1)

    def set_pin(self, card_number: str, pin: str) -> None:
        salt = os.urandom(16)
        with self._lock:
            self._chips[card_number] = _ChipState(salt, self._hash(pin, salt))

    def unlock_pin(self, card_number: str, new_pin: str) -> None:
        self.set_pin(card_number, new_pin)

    def verify_pin(self, card_number: str, pin: str) -> bool:
        with self._lock:
            state = self._chips.get(card_number)
            if state is None or state.failed_tries >= self.MAX_TRIES:
                return False
            if hmac.compare_digest(state.pin_hash, self._hash(pin, state.salt)):
                state.failed_tries = 0
                return True
            state.failed_tries += 1
            return False

    def is_locked(self, card_number: str) -> bool:
        state = self._chips.get(card_number)
        return state is not None and state.failed_tries >= self.MAX_TRIES


default_chips = VirtualChips()
