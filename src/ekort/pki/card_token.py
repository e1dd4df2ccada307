"""The card's chip as a card reader sees it: three key slots, the codes and their try counters.

Two implementations: `VirtualCardToken` (`virtual_card`: one SQLite row per card, for the demo
and tests) and `Pkcs11CardToken` (`pkcs11_card`: a SoftHSM2 token personalised as a card). The
try counters and the rules for them live in `card_codes`, shared by both.

The codes (docs/domain-notes.md, "Codes"): the PIN is 6-8 digits chosen by the holder at
activation (R9); three wrong PINs block it. The PUK is 8 digits, set at production; it unblocks
the PIN, and more than ten wrong PUKs lock the card for good. The signature code guards the
signature key (R12).

Security status, as on a physical card: an open token remembers whether the holder's PIN has
been verified through it (`verify_pin`, or a signature with the AUTH or ADDITIONAL key). Once a
card is activated, changing its keys (`generate_key`, `clear_slot`) and signing with the
signature key need that status: the holder does these at the self-service pages with the card
in the reader and the PIN typed (R12, R13). A PKCS#11 token cannot do otherwise: its private
keys open only to a user login, and the user PIN is the holder's. Before activation the issuer
personalises the card without it. A new `open()` starts with the PIN not verified.

No message here or in the implementations contains a code: error text travels further (logs,
support tickets) than the person who typed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from ekort.domain.chip import CardChip

from .keys import KeyAlgorithm


class KeySlot(StrEnum):
    AUTH = "auth"  # the SITHS eID (R11)
    SIGNATURE = "signature"  # downloaded by the holder, guarded by the signature code (R12)
    ADDITIONAL = "additional"  # at most one, from another region (R13)


class TokenError(Exception):
    """Something the card refuses; the message is a plain sentence and never holds a code."""


class WrongCode(TokenError):
    def __init__(self, message: str, tries_left: int) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class PinBlocked(TokenError):
    """Three wrong PINs (or signature codes) in a row; unlock with the PUK or at an office."""


class CardLocked(TokenError):
    """More than ten wrong PUKs: the card is locked for good and must be replaced."""


class NotActivated(TokenError):
    """No PIN is set yet: the card stays inactive until the holder chooses one (R8, R9)."""


class PinNotVerified(TokenError):
    """The operation needs the holder's PIN verified through this open token first."""


class CardToken(Protocol):
    card_number: str

    def personalise(self, *, puk: str) -> None:
        """At production: the PUK is set, no PIN (the card is inactive). Refused if done."""

    def generate_key(self, slot: KeySlot, algorithm: KeyAlgorithm) -> PublicKeyTypes:
        """Make a key pair on the chip in an empty slot; return its public half."""

    def public_key(self, slot: KeySlot) -> PublicKeyTypes | None: ...

    def put_certificate(self, slot: KeySlot, der: bytes) -> None:
        """Store (or replace) the slot's certificate; it must certify the slot's key."""

    def certificate(self, slot: KeySlot) -> bytes | None: ...

    def clear_slot(self, slot: KeySlot) -> None:
        """Remove the slot's key and certificate (R13: remove or swap)."""

    def set_pin(self, pin: str) -> None:
        """Activation (R9): the holder chooses the PIN. Only while no PIN is set."""

    def verify_pin(self, pin: str) -> None:
        """Raise WrongCode, PinBlocked or NotActivated unless `pin` is the card's PIN."""

    def unlock_with_puk(self, puk: str, new_pin: str) -> None:
        """Set a new PIN and reset its try counter; a wrong PUK counts towards CardLocked."""

    def reset_pin(self, new_pin: str) -> None:
        """An ID administrator's unlock at a card office (R14): the card management system
        authenticates with the card's administrative key. The service decides who may."""

    def set_signature_code(self, code: str) -> None:
        """R12: the holder chooses the signature code when the signature key is downloaded."""

    def sign(self, slot: KeySlot, data: bytes, code: str) -> bytes:
        """ECDSA-SHA256 (DER signature) or RSA PKCS#1 v1.5 with SHA-256, by the key's type.
        AUTH and ADDITIONAL take the PIN; SIGNATURE takes the signature code."""

    def slots_in_use(self) -> list[KeySlot]: ...

    def close(self) -> None:
        """Take the card out of the reader: the PIN is no longer verified."""


class CardReader(CardChip, Protocol):
    def open(self, card_number: str) -> CardToken: ...

    def exists(self, card_number: str) -> bool: ...

    def existing(self, card_numbers: Sequence[str]) -> set[str]: ...

    def personalise_new(
        self,
        card_number: str,
        *,
        puk: str,
        slot: KeySlot,
        algorithm: KeyAlgorithm,
        certify: Callable[[PublicKeyTypes], bytes],
    ) -> None: ...

    def make_durable(self, card_numbers: Sequence[str]) -> None: ...


class CardChipReader:
    """The `CardChip` protocol the services call (ekort.domain.chip), on top of `open()`."""

    def open(self, card_number: str) -> CardToken:
        raise NotImplementedError

    def set_pin(self, card_number: str, pin: str) -> None:
        token = self.open(card_number)
        try:
            token.set_pin(pin)
        finally:
            token.close()

    def unlock_pin(self, card_number: str, new_pin: str) -> None:
        token = self.open(card_number)
        try:
            token.reset_pin(new_pin)
        finally:
            token.close()

    def personalise_new(
        self,
        card_number: str,
        *,
        puk: str,
        slot: KeySlot,
        algorithm: KeyAlgorithm,
        certify: Callable[[PublicKeyTypes], bytes],
    ) -> None:
        """At production, a new card in one go: the PUK, a key in `slot` and the certificate
        `certify` makes for its public half. Refused if the card is personalised already. The
        chip may not be on stable storage until `make_durable`, which the caller runs before it
        commits the card: a batch then waits for the disk once, not once per card."""
        token = self.open(card_number)
        try:
            token.personalise(puk=puk)
            public = token.generate_key(slot, algorithm)
            token.put_certificate(slot, certify(public))
        finally:
            token.close()

    def exists(self, card_number: str) -> bool:
        raise NotImplementedError

    def existing(self, card_numbers: Sequence[str]) -> set[str]:
        """Which of `card_numbers` have a chip. A reader that can ask once overrides this."""
        return {number for number in card_numbers if self.exists(number)}

    def make_durable(self, card_numbers: Sequence[str]) -> None:
        """Every chip `personalise_new` made for `card_numbers` is on stable storage. A token
        writes to its own storage at once; a reader that defers writes overrides this."""


# File-name safe and within a PKCS#11 token label (32 characters).
_CARD_NUMBER = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,31}")


def check_card_number(card_number: str) -> str:
    if not isinstance(card_number, str) or not _CARD_NUMBER.fullmatch(card_number):
        raise TokenError("A card number is 1-32 letters, digits or dashes.")
    return card_number


def check_certificate(der: bytes, public_key: PublicKeyTypes | None) -> None:
    """Refuse `der` unless it is an X.509 certificate for `public_key`."""
    if public_key is None:
        raise TokenError("The slot has no key, so it cannot take a certificate.")
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        raise TokenError("That is not a DER-encoded X.509 certificate.") from None
    if certificate.public_key() != public_key:
        raise TokenError("The certificate is for another key than the one in the slot.")
