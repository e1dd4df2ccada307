"""Virtual cards for the demo and tests: one JSON file per card stands in for the chip.

The file IS the simulated chip, so it holds the card's private keys (PKCS#8 DER): the only
place outside a key backend that holds private key bytes, and only for virtual cards. The PIN,
the PUK and the signature code are kept as salted scrypt hashes only (the PUK's
cheaper: see `card_codes.PUK_COST`). Each update runs under
an exclusive `flock` on the card's lock file and is written atomically (temporary file, then
`os.replace`, mode 0600), so two processes updating one card lose nothing: a wrong PIN in one
process counts in the next. Production writes a new card's file once, whole, and waits for the
disk once per batch (`personalise_new`, `make_durable`).
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from ekort.domain.pins import validate_pin, validate_puk

from .card_codes import PUK_COST, CardCodes, CodeHash, entered_pin, from_base64, to_base64
from .card_token import (
    CardChipReader,
    KeySlot,
    TokenError,
    check_card_number,
    check_certificate,
)
from .keys import KeyAlgorithm, generate_private_key


@dataclass
class _Chip:
    """Everything on one virtual card."""

    codes: CardCodes
    puk: CodeHash
    pin: CodeHash | None = None
    keys: dict[KeySlot, bytes] = field(default_factory=dict)  # PKCS#8 DER
    certificates: dict[KeySlot, bytes] = field(default_factory=dict)  # X.509 DER

    def private_key(self, slot: KeySlot) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
        der = self.keys.get(slot)
        if der is None:
            raise TokenError(f"The card has no key in the {slot} slot.")
        key = serialization.load_der_private_key(der, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        return key

    def public_key(self, slot: KeySlot) -> PublicKeyTypes | None:
        return self.private_key(slot).public_key() if slot in self.keys else None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "codes": self.codes.to_json(),
            "puk": self.puk.to_json(),
            "pin": self.pin and self.pin.to_json(),
            "keys": {slot.value: to_base64(der) for slot, der in self.keys.items()},
            "certificates": {slot.value: to_base64(der) for slot, der in self.certificates.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Chip:
        return cls(
            codes=CardCodes.from_json(data["codes"]),
            puk=CodeHash.from_json(data["puk"]),
            pin=CodeHash.from_json(data["pin"]) if data["pin"] else None,
            keys={KeySlot(slot): from_base64(der) for slot, der in data["keys"].items()},
            certificates={
                KeySlot(slot): from_base64(der) for slot, der in data["certificates"].items()
            },
        )


_SYNCFS_FROM = 16  # chips; fewer are synced one by one, which touches nothing else on the disk


def _syncfs(directory: Path) -> bool:
    """Flush the file system that holds `directory`; False where there is no syncfs (not Linux
    or not glibc). Raises OSError if the flush failed."""
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):
        return False
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        if syncfs(descriptor) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno), str(directory))
    finally:
        os.close(descriptor)
    return True


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class VirtualCardReader(CardChipReader):
    """Virtual cards under `directory`, one `<card number>.card.json` each."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def open(self, card_number: str) -> VirtualCardToken:
        return VirtualCardToken(self, check_card_number(card_number))

    def exists(self, card_number: str) -> bool:
        return self._path(check_card_number(card_number)).exists()

    def _path(self, card_number: str) -> Path:
        return self.directory / f"{card_number}.card.json"

    def personalise_new(
        self,
        card_number: str,
        *,
        puk: str,
        slot: KeySlot,
        algorithm: KeyAlgorithm,
        certify: Callable[[PublicKeyTypes], bytes],
    ) -> None:
        """The PUK, the key and its certificate put together in memory and written once, as a
        new file (refused if there is one: the card is personalised already), without waiting
        for the disk: `make_durable` does, once for a whole batch. A crash before that leaves
        at worst a chip file whose card was never committed: its number is skipped as spoiled
        (`production.next_card_numbers`) and no certificate in the database names its key."""
        card_number = check_card_number(card_number)
        chip = _Chip(codes=CardCodes(), puk=CodeHash.of(validate_puk(puk), PUK_COST))
        key = generate_private_key(algorithm)
        chip.keys[slot] = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        der = certify(key.public_key())
        check_certificate(der, key.public_key())
        chip.certificates[slot] = bytes(der)
        text = json.dumps(chip.to_json(), indent=1, sort_keys=True).encode("utf-8")
        # No lock file (one file fewer to create, the costliest step here): O_EXCL makes the
        # creation the check that the card is new, and nobody opens the card before its
        # production commits, which comes after `make_durable`.
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(
                self._path(card_number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
            )
        except FileExistsError:
            raise TokenError(f"Card {card_number} is personalised already.") from None
        with os.fdopen(descriptor, "wb") as file:
            file.write(text)

    def make_durable(self, card_numbers: Sequence[str]) -> None:
        """The chips' files and their names in the directory on disk. For a batch one
        `syncfs` of the file system (Linux) costs less than a fsync per file."""
        if not card_numbers:
            return
        if len(card_numbers) < _SYNCFS_FROM or not _syncfs(self.directory):
            for number in card_numbers:
                descriptor = os.open(self._path(check_card_number(number)), os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
        _fsync_directory(self.directory)

    @contextmanager
    def _locked(self, card_number: str) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.directory / f"{card_number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def _load(self, card_number: str) -> _Chip:
        try:
            text = self._path(card_number).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TokenError(f"Card {card_number} has not been personalised.") from None
        return _Chip.from_json(json.loads(text))

    def _save(self, card_number: str, chip: _Chip, *, durable: bool = True) -> None:
        """Replace the card's file atomically; `durable` waits until it is on disk (fsync)."""
        text = json.dumps(chip.to_json(), indent=1, sort_keys=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".card-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:  # mkstemp: mode 0600
                file.write(text)
                file.flush()
                if durable:
                    os.fsync(file.fileno())
            os.replace(temporary, self._path(card_number))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @contextmanager
    def _updating(self, card_number: str, *, durable: bool = True) -> Iterator[_Chip]:
        """The card's state, saved afterwards if it changed, also when the card refused
        something (a wrong try must count, so it is always saved durably)."""
        with self._locked(card_number):
            chip = self._load(card_number)
            before = chip.to_json()
            try:
                yield chip
            except TokenError:
                if chip.to_json() != before:
                    self._save(card_number, chip)
                raise
            if chip.to_json() != before:
                self._save(card_number, chip, durable=durable)


class VirtualCardToken:
    def __init__(self, reader: VirtualCardReader, card_number: str) -> None:
        self._reader = reader
        self.card_number = card_number
        self._pin_verified = False

    def _updating(self, *, durable: bool = True) -> AbstractContextManager[_Chip]:
        return self._reader._updating(self.card_number, durable=durable)

    def _read(self) -> _Chip:
        with self._reader._locked(self.card_number):
            return self._reader._load(self.card_number)

    def close(self) -> None:
        self._pin_verified = False

    # Production -------------------------------------------------------------------------------

    # A new chip and a new key are written without waiting for the disk (fsync): neither is any
    # use before a certificate for the key is put on the card, and `put_certificate` writes the
    # whole file durably before the caller commits. A crash in between leaves at worst a chip
    # file that is incomplete: its number is skipped as spoiled, and no certificate names it.

    def personalise(self, *, puk: str) -> None:
        chip = _Chip(codes=CardCodes(), puk=CodeHash.of(validate_puk(puk), PUK_COST))
        with self._reader._locked(self.card_number):
            if self._reader._path(self.card_number).exists():
                raise TokenError(f"Card {self.card_number} is personalised already.")
            self._reader._save(self.card_number, chip, durable=False)

    # Keys and certificates --------------------------------------------------------------------

    def generate_key(self, slot: KeySlot, algorithm: KeyAlgorithm) -> PublicKeyTypes:
        with self._updating(durable=False) as chip:
            chip.codes.require_holder(self._pin_verified)
            if slot in chip.keys:
                raise TokenError(f"The {slot} slot holds a key already; clear it first.")
            key = generate_private_key(algorithm)
            chip.keys[slot] = key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return key.public_key()

    def public_key(self, slot: KeySlot) -> PublicKeyTypes | None:
        return self._read().public_key(slot)

    def put_certificate(self, slot: KeySlot, der: bytes) -> None:
        with self._updating() as chip:
            chip.codes.require_usable()
            check_certificate(der, chip.public_key(slot))
            chip.certificates[slot] = bytes(der)

    def certificate(self, slot: KeySlot) -> bytes | None:
        return self._read().certificates.get(slot)

    def clear_slot(self, slot: KeySlot) -> None:
        with self._updating() as chip:
            chip.codes.require_holder(self._pin_verified)
            chip.keys.pop(slot, None)
            chip.certificates.pop(slot, None)

    def slots_in_use(self) -> list[KeySlot]:
        keys = self._read().keys
        return [slot for slot in KeySlot if slot in keys]

    # Codes ------------------------------------------------------------------------------------

    def set_pin(self, pin: str) -> None:
        new_pin = CodeHash.of(validate_pin(pin))
        with self._updating() as chip:
            chip.codes.activate()
            chip.pin = new_pin

    def _verify_pin(self, chip: _Chip, pin: str) -> None:
        self._pin_verified = False
        chip.codes.before_pin()
        assert chip.pin is not None
        chip.codes.record_pin(chip.pin.matches(pin))
        self._pin_verified = True

    def verify_pin(self, pin: str) -> None:
        pin = entered_pin(pin)
        with self._updating() as chip:
            self._verify_pin(chip, pin)

    def unlock_with_puk(self, puk: str, new_pin: str) -> None:
        validate_puk(puk)
        new_hash = CodeHash.of(validate_pin(new_pin))
        with self._updating() as chip:
            self._pin_verified = False
            chip.codes.before_puk()
            chip.codes.record_puk(chip.puk.matches(puk))
            chip.pin = new_hash

    def reset_pin(self, new_pin: str) -> None:
        new_hash = CodeHash.of(validate_pin(new_pin))
        with self._updating() as chip:
            self._pin_verified = False
            chip.codes.pin_reset()
            chip.pin = new_hash

    def set_signature_code(self, code: str) -> None:
        validate_pin(code)
        with self._updating() as chip:
            chip.codes.choose_signature_code(code)

    def sign(self, slot: KeySlot, data: bytes, code: str) -> bytes:
        code = entered_pin(code)
        with self._updating() as chip:
            chip.codes.require_activated()
            key = chip.private_key(slot)
            if slot is KeySlot.SIGNATURE:
                chip.codes.require_holder(self._pin_verified)
                chip.codes.check_signature_code(code)
            else:
                self._verify_pin(chip, code)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
