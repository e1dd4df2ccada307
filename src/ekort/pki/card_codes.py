"""What the card keeps about its codes: whether it is activated, the try counters, the hash of
the signature code. Both card implementations store a `CardCodes` with the card and call its
checks in the same order, so both count and refuse alike.

The `before_*` methods raise before a code is looked at; the `record_*` methods take whether
the code was right, update the counters and raise if it was not. The caller saves the state
whatever happens, so that a wrong try counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

from ekort.domain.errors import Refused
from ekort.domain.pins import validate_pin

from .card_token import CardLocked, NotActivated, PinBlocked, PinNotVerified, TokenError, WrongCode

PIN_TRIES = 3
PUK_TRIES = 11  # "more than 10 wrong PUK entries lock the card": the eleventh wrong one does
SIGNATURE_CODE_TRIES = 3


def to_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def from_base64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# scrypt's cost (N, with r=8, p=1) for the codes a holder chooses, PIN and signature code: a
# person may reuse one elsewhere, so a stolen chip file must not give it away cheaply.
CHOSEN_CODE_COST = 2**14
# The PUK is eight random digits that ekort draws and keeps sealed itself (services.pki.secrets):
# nobody reuses it, and the virtual chip that holds its hash also holds the card's private keys
# in clear, so a costly hash would guard nothing the chip does not already give away. It gets a
# salted SHA-256 with no work factor (`NO_WORK`): 2 us, where even the cheapest scrypt costs
# 50 us, a tenth of a card's production in bulk. The code itself is still never stored.
NO_WORK = 0
PUK_COST = NO_WORK


@dataclass(frozen=True)
class CodeHash:
    """A salted hash of a code, with its cost; the code itself is never stored. scrypt with
    cost `n`, or a plain salted SHA-256 when `n` is `NO_WORK`."""

    salt: bytes
    digest: bytes
    n: int = CHOSEN_CODE_COST

    @staticmethod
    def _hash(code: str, salt: bytes, n: int) -> bytes:
        if n == NO_WORK:
            return hashlib.sha256(salt + code.encode()).digest()
        return hashlib.scrypt(code.encode(), salt=salt, n=n, r=8, p=1, dklen=32)

    @classmethod
    def of(cls, code: str, n: int = CHOSEN_CODE_COST) -> CodeHash:
        salt = os.urandom(16)
        return cls(salt, cls._hash(code, salt, n), n)

    def matches(self, code: str) -> bool:
        return hmac.compare_digest(self.digest, self._hash(code, self.salt, self.n))

    def to_json(self) -> dict[str, str | int]:
        if self.n == NO_WORK:
            return {"salt": to_base64(self.salt), "sha256": to_base64(self.digest)}
        return {"salt": to_base64(self.salt), "scrypt": to_base64(self.digest), "n": self.n}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CodeHash:
        if "sha256" in data:
            return cls(from_base64(data["salt"]), from_base64(data["sha256"]), NO_WORK)
        # Hashes written before the cost was recorded used CHOSEN_CODE_COST.
        n = int(data.get("n", CHOSEN_CODE_COST))
        return cls(from_base64(data["salt"]), from_base64(data["scrypt"]), n)


def entered_pin(code: object) -> str:
    """A PIN or signature code typed to be checked: it must be 6-8 digits. One that is too
    simple to be chosen (E6) is not refused here: it is simply wrong, and counts as a try."""
    try:
        return validate_pin(code)
    except Refused:
        assert isinstance(code, str)
        return code


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


@dataclass
class CardCodes:
    activated: bool = False
    locked: bool = False
    pin_tries_left: int = PIN_TRIES
    puk_tries_left: int = PUK_TRIES
    signature_code: CodeHash | None = None
    signature_code_tries_left: int = SIGNATURE_CODE_TRIES
    # The token checks the signature code itself (a PKCS#11 card: it is the user PIN of the
    # signature key's own slot), so no hash of it is kept here; only its try counter.
    signature_code_on_token: bool = False

    # Guards -----------------------------------------------------------------------------------

    def require_usable(self) -> None:
        if self.locked:
            raise CardLocked(
                "The card is locked for good after too many wrong PUKs; it must be replaced."
            )

    def require_activated(self) -> None:
        self.require_usable()
        if not self.activated:
            raise NotActivated(
                "The card is not activated: the holder chooses a PIN at a card office first."
            )

    def require_holder(self, pin_verified: bool) -> None:
        """Before activation the issuer may change keys; after it, only the holder with the
        PIN verified."""
        self.require_usable()
        if self.activated and not pin_verified:
            raise PinNotVerified("The holder's PIN must be verified on the card first.")

    # PIN --------------------------------------------------------------------------------------

    def before_pin(self) -> None:
        self.require_activated()
        if self.pin_tries_left <= 0:
            raise PinBlocked(
                "The PIN is blocked after three wrong tries. Unlock it with the PUK, or ask an "
                "ID administrator at a card office."
            )

    def record_pin(self, correct: bool) -> None:
        if correct:
            self.pin_tries_left = PIN_TRIES
            return
        self.pin_tries_left = max(self.pin_tries_left - 1, 0)
        self.before_pin()  # raises PinBlocked on the last try
        raise WrongCode(
            f"Wrong PIN: {_tries(self.pin_tries_left)} left before it is blocked.",
            self.pin_tries_left,
        )

    def before_activation(self) -> None:
        self.require_usable()
        if self.activated:
            raise TokenError(
                "The card already has a PIN; change it with the PUK or at a card office."
            )

    def activate(self) -> None:
        self.before_activation()
        self.activated = True
        self.pin_tries_left = PIN_TRIES

    def before_pin_reset(self) -> None:
        self.require_activated()

    def pin_reset(self) -> None:
        """A new PIN set by an ID administrator (R14)."""
        self.before_pin_reset()
        self.pin_tries_left = PIN_TRIES

    # PUK --------------------------------------------------------------------------------------

    def before_puk(self) -> None:
        self.require_activated()

    def record_puk(self, correct: bool) -> None:
        if correct:
            self.puk_tries_left = PUK_TRIES
            self.pin_tries_left = PIN_TRIES
            return
        self.puk_tries_left = max(self.puk_tries_left - 1, 0)
        if self.puk_tries_left == 0:
            self.locked = True
            self.require_usable()
        raise WrongCode(
            f"Wrong PUK: {_tries(self.puk_tries_left)} left before the card is locked for good.",
            self.puk_tries_left,
        )

    # Signature code ---------------------------------------------------------------------------

    def choose_signature_code(self, code: str | None) -> None:
        """A new signature code, and its tries back. `code` None: the token keeps the code
        itself (`signature_code_on_token`) and checks it; nothing of it is kept here."""
        self.require_usable()
        self.signature_code = None if code is None else CodeHash.of(code)
        self.signature_code_on_token = code is None
        self.signature_code_tries_left = SIGNATURE_CODE_TRIES

    def before_signature_code(self) -> None:
        self.require_activated()
        if self.signature_code is None and not self.signature_code_on_token:
            raise TokenError("No signature code has been chosen for this card.")
        if self.signature_code_tries_left <= 0:
            raise PinBlocked(
                "The signature code is blocked after three wrong tries. The holder chooses a "
                "new one at the self-service pages."
            )

    def record_signature_code(self, correct: bool) -> None:
        if correct:
            self.signature_code_tries_left = SIGNATURE_CODE_TRIES
            return
        self.signature_code_tries_left = max(self.signature_code_tries_left - 1, 0)
        self.before_signature_code()  # raises PinBlocked on the last try
        raise WrongCode(
            f"Wrong signature code: {_tries(self.signature_code_tries_left)} left before it is "
            "blocked.",
            self.signature_code_tries_left,
        )

    def check_signature_code(self, code: str) -> None:
        """Against the hash kept here (a card whose token does not check the code itself)."""
        self.before_signature_code()
        if self.signature_code is None:
            raise TokenError("This card's token checks the signature code itself.")
        self.record_signature_code(self.signature_code.matches(code))

    # Storage ----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "activated": self.activated,
            "locked": self.locked,
            "pin_tries_left": self.pin_tries_left,
            "puk_tries_left": self.puk_tries_left,
            "signature_code": self.signature_code and self.signature_code.to_json(),
            "signature_code_tries_left": self.signature_code_tries_left,
            "signature_code_on_token": self.signature_code_on_token,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CardCodes:
        signature_code = data.get("signature_code")
        return cls(
            activated=bool(data["activated"]),
            locked=bool(data["locked"]),
            pin_tries_left=int(data["pin_tries_left"]),
            puk_tries_left=int(data["puk_tries_left"]),
            signature_code=CodeHash.from_json(signature_code) if signature_code else None,
            signature_code_tries_left=int(data["signature_code_tries_left"]),
            signature_code_on_token=bool(data.get("signature_code_on_token", False)),
        )
