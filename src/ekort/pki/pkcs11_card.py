"""SoftHSM2 tokens personalised as cards: two tokens per card, one per code, as OpenSC
presents a card with two PINs (one slot, with a token of its own, per PIN).

How the card maps onto PKCS#11:

- The card's token, labelled with the card number: its user PIN is the card's PIN, its
  security officer (SO) PIN the PUK. It holds the authentication key and the additional key
  (R11, R13), and the card's state. Unlocking with the PUK is an SO login followed by
  C_InitPIN.
- The signature token, labelled "PIN2 <card number>" (older SITHS cards called the signature
  code PIN2; OpenSC would write "<label> (PIN2)", but `pkcs11-tool --token-label` takes the
  first token whose label starts with the one given, so no label starts with a card number
  but the card's own): its user PIN is the signature code, its SO PIN the PUK too. It holds the
  signature key (R12). So a program that has the card PIN alone cannot sign with the signature
  key: the key is not on that token, and the other one opens only to the signature code. The
  holder chooses the code at download (R12): the card management system sets it as the SO
  (C_InitPIN), which is also how a blocked code is replaced. The try counter of the signature
  code lives in the card's state with the PIN's; its hash does not (the token checks it).
- Personalisation initialises a free slot in this process with C_InitToken (SO PIN = PUK,
  label = card number), rather than running `softhsm2-util`, whose command line would show the
  PUK to every local user. It then sets the user PIN to a random value that is dropped at
  once: until activation nobody knows the PIN, so the card's keys cannot be used.
- The card management system holds an administrative key (32 bytes, `admin_key`). The PUK is
  stored on the token sealed with it (AES-GCM, bound to the card number), so that the system,
  and only it, can act as the SO: to set the holder's first PIN (activation, R9), to reset the
  PIN at an office (R14), to make keys before activation (production) and to set the
  signature code (R12).
- SoftHSM counts no PIN tries itself, so the counters (the PIN's, the PUK's and the signature
  code's) and the activation flag live in a public data object on the card's token
  ("ekort-card-state"): the card carries
  its own state, and a wrong PIN in one process counts in the next. The emulation has limits a
  chip has not: anyone with the SoftHSM files could rewrite that object, or try PINs through
  another PKCS#11 program, and nothing serialises two processes using one card at once (a
  physical card sits in one reader). Within a process, calls into the module are serialised
  by one lock per module, shared with `Pkcs11KeyBackend`.
- Tokens initialised by another process after this one loaded the module are not seen until
  the module is re-initialised (a SoftHSM limitation).
- The PIN verified through an open token is the token's user login, and the signature code
  entered through it the signature token's; PKCS#11 shares a login among all sessions of a
  process, so keep one open token per card at a time.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import pkcs11
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from pkcs11 import ObjectClass, TokenFlag

from ekort.domain.pins import validate_pin, validate_puk

from . import pkcs11_card_objects as objects
from .card_codes import CardCodes, entered_pin
from .card_token import (
    CardChipReader,
    KeySlot,
    PinNotVerified,
    TokenError,
    check_card_number,
    check_certificate,
)
from .keys import KeyAlgorithm
from .pkcs11_keys import _module_locks, _registry


class Pkcs11CardReader(CardChipReader):
    """Cards on the PKCS#11 module at `module_path`. Without `admin_key` the reader can read
    cards and let their holders use them, but not personalise, activate or reset a PIN."""

    def __init__(self, module_path: str, *, admin_key: bytes | None = None) -> None:
        if admin_key is not None and len(admin_key) != 32:
            raise TokenError("The administrative key must be 32 bytes (AES-256).")
        # As Pkcs11KeyBackend does: one spelling of the path (python-pkcs11 loads a module per
        # path string) and one lock per module (it is initialised without thread support).
        module_path = os.path.realpath(module_path)
        with _registry:
            self.lock = _module_locks.setdefault(module_path, threading.RLock())
        with self.lock, objects.token_errors():
            self._lib = pkcs11.lib(module_path)
        self.raw = objects.RawModule(module_path)
        self._admin_key = admin_key

    @property
    def admin_key(self) -> bytes:
        if self._admin_key is None:
            raise TokenError(
                "This card reader has no administrative key, so it cannot personalise a card, "
                "set its first PIN or reset it."
            )
        return self._admin_key

    def open(self, card_number: str) -> Pkcs11CardToken:
        return Pkcs11CardToken(self, check_card_number(card_number))

    def exists(self, card_number: str) -> bool:
        with self.lock, objects.token_errors():
            return self.find(check_card_number(card_number)) is not None

    def find(self, label: str) -> pkcs11.Token | None:
        """The token labelled `label`: a card number, or a signature token's label."""
        for slot in self._lib.get_slots(token_present=True):
            token = slot.get_token()
            if token.flags & TokenFlag.TOKEN_INITIALIZED and token.label == label:
                return token
        return None

    def init_token(self, label: str, puk: str) -> None:
        for slot in self._lib.get_slots(token_present=True):
            if not slot.get_token().flags & TokenFlag.TOKEN_INITIALIZED:
                self.raw.init_token(slot.slot_id, puk, label)
                return
        raise TokenError("The PKCS#11 module has no free slot for a new card.")


# The signature key's token: "PIN2 <card number>". A token label holds 32 characters.
SIGNATURE_TOKEN_PREFIX = "PIN2 "  # noqa: S105 (a label, not a code)


def signature_token_label(card_number: str) -> str:
    label = SIGNATURE_TOKEN_PREFIX + card_number
    if len(label) > 32:
        raise TokenError("A PKCS#11 card's number has at most 27 characters.")
    return label


class Pkcs11CardToken:
    def __init__(self, reader: Pkcs11CardReader, card_number: str) -> None:
        self._reader = reader
        self.card_number = card_number
        self._session: pkcs11.Session | None = None
        self._logged_in = False
        self._pin_verified = False
        # The signature token's session, and whether this token logged in to it with the
        # signature code (the chip's security status for that code).
        self._signature_session: pkcs11.Session | None = None
        self._signature_code_verified = False

    # Sessions and logins ----------------------------------------------------------------------

    def _open(self) -> pkcs11.Session:
        if self._session is None:
            token = self._reader.find(self.card_number)
            if token is None:
                raise TokenError(f"Card {self.card_number} has not been personalised.")
            self._session = token.open(rw=True)  # R/W: a read-only session blocks SO logins
        return self._session

    def _open_signature(self) -> pkcs11.Session:
        if self._signature_session is None:
            token = self._reader.find(signature_token_label(self.card_number))
            if token is None:
                raise TokenError(f"Card {self.card_number} has no signature key's token.")
            self._signature_session = token.open(rw=True)
        return self._signature_session

    def _session_of(self, slot: KeySlot) -> pkcs11.Session:
        return self._open_signature() if slot is KeySlot.SIGNATURE else self._open()

    def close(self) -> None:
        with self._reader.lock, objects.token_errors():
            if self._session is not None:
                self._logout()
                self._session.close()
                self._session = None
            if self._signature_session is not None:
                self._signature_logout()
                self._signature_session.close()
                self._signature_session = None

    def _handle(self) -> int:
        return int(self._open().handle)  # type: ignore[attr-defined]  # not in the stubs

    def _login(self, user_type: int, code: str) -> bool:
        """Log in afresh, so that the code is really checked (a login already there, even
        another open token's, would make C_Login answer "already logged in")."""
        self._pin_verified = False
        self._reader.raw.logout(self._handle())
        self._logged_in = self._reader.raw.login(self._handle(), user_type, code)
        return self._logged_in

    def _logout(self) -> None:
        """Log out, if this token logged in: another open token's login is left alone."""
        self._pin_verified = False
        if self._logged_in:
            self._reader.raw.logout(self._handle())
            self._logged_in = False

    def _signature_handle(self) -> int:
        return int(self._open_signature().handle)  # type: ignore[attr-defined]

    def _signature_login(self, user_type: int, code: str) -> bool:
        """Log in to the signature token afresh, so that the code is really checked."""
        self._signature_code_verified = False
        self._reader.raw.logout(self._signature_handle())
        right = self._reader.raw.login(self._signature_handle(), user_type, code)
        self._signature_code_verified = right and user_type == objects.CKU_USER
        return right

    def _signature_logout(self) -> None:
        if self._signature_session is not None:
            self._reader.raw.logout(self._signature_handle())
        self._signature_code_verified = False

    @contextmanager
    def _as_security_officer(self, puk: str) -> Iterator[pkcs11.Session]:
        if not self._login(objects.CKU_SO, puk):
            raise TokenError("The card's PUK does not match the one sealed on it.")
        try:
            yield self._open()
        finally:
            self._logout()

    @contextmanager
    def _signature_token_as_security_officer(self, puk: str) -> Iterator[pkcs11.Session]:
        if not self._signature_login(objects.CKU_SO, puk):
            raise TokenError("The card's PUK does not match the one sealed on it.")
        try:
            yield self._open_signature()
        finally:
            self._signature_logout()

    def _unsealed_puk(self, state: objects.CardState) -> str:
        return objects.unseal_puk(self._reader.admin_key, self.card_number, state.sealed_puk)

    @contextmanager
    def _as_issuer(self, state: objects.CardState) -> Iterator[None]:
        """Before activation: a fresh random user PIN, used once and dropped."""
        temporary = secrets.token_urlsafe(24)
        with self._as_security_officer(self._unsealed_puk(state)) as session:
            session.init_pin(temporary)
        self._login(objects.CKU_USER, temporary)
        try:
            yield
        finally:
            self._logout()

    def _private_keys(
        self, state: objects.CardState, slot: KeySlot
    ) -> AbstractContextManager[None]:
        """Access to the private keys for changing them: the issuer's before activation, the
        holder's (PIN verified) after. The signature key's token opens to the signature code
        only: the holder, PIN verified, has entered it through this token (chosen it, or
        signed with it)."""
        state.codes.require_holder(self._pin_verified)
        if slot is KeySlot.SIGNATURE:
            state.codes.require_activated()
            if not self._signature_code_verified:
                raise PinNotVerified("The signature code must be entered on the card first.")
            return nullcontext()
        return nullcontext() if state.codes.activated else self._as_issuer(state)

    @contextmanager
    def _updating(self) -> Iterator[objects.CardState]:
        """The card's state, written back if it changed, also when the card refused something
        (a wrong try must count)."""
        with self._reader.lock, objects.token_errors():
            session = self._open()
            state = objects.read_state(session)
            before = state.to_json()
            try:
                yield state
            except TokenError:
                if state.to_json() != before:
                    objects.write_state(session, state)
                raise
            if state.to_json() != before:
                objects.write_state(session, state)

    def _verify(self, state: objects.CardState, pin: str) -> None:
        state.codes.before_pin()
        state.codes.record_pin(self._login(objects.CKU_USER, pin))
        self._pin_verified = True

    def _has_key(self, slot: KeySlot) -> bool:
        return bool(objects.find(self._session_of(slot), ObjectClass.PUBLIC_KEY, slot))

    # Production -------------------------------------------------------------------------------

    def personalise(self, *, puk: str) -> None:
        validate_puk(puk)
        with self._reader.lock, objects.token_errors():
            if self._reader.find(self.card_number) is not None:
                raise TokenError(f"Card {self.card_number} is personalised already.")
            signature_label = signature_token_label(self.card_number)
            sealed = objects.seal_puk(self._reader.admin_key, self.card_number, puk)
            self._reader.init_token(self.card_number, puk)
            with self._as_security_officer(puk) as session:
                session.init_pin(secrets.token_urlsafe(24))  # nobody knows it: inactive
            # The signature token, with a code nobody knows until the holder chooses one (R12).
            if self._reader.find(signature_label) is None:
                self._reader.init_token(signature_label, puk)
            with self._signature_token_as_security_officer(puk) as session:
                session.init_pin(secrets.token_urlsafe(24))
            objects.write_state(self._open(), objects.CardState(CardCodes(), sealed))

    # Keys and certificates --------------------------------------------------------------------

    def generate_key(self, slot: KeySlot, algorithm: KeyAlgorithm) -> PublicKeyTypes:
        with self._updating() as state, self._private_keys(state, slot):
            if self._has_key(slot):
                raise TokenError(f"The {slot} slot holds a key already; clear it first.")
            return objects.generate(self._session_of(slot), slot, algorithm)

    def public_key(self, slot: KeySlot) -> PublicKeyTypes | None:
        with self._reader.lock, objects.token_errors():
            keys = objects.find(self._session_of(slot), ObjectClass.PUBLIC_KEY, slot)
            return objects.public_key_of(keys[0]) if keys else None

    def put_certificate(self, slot: KeySlot, der: bytes) -> None:
        with self._updating() as state:
            state.codes.require_usable()
            check_certificate(der, self.public_key(slot))
            session = self._session_of(slot)
            for old in objects.find(session, ObjectClass.CERTIFICATE, slot):
                old.destroy()
            objects.store_certificate(session, slot, der)

    def certificate(self, slot: KeySlot) -> bytes | None:
        with self._reader.lock, objects.token_errors():
            found = objects.find(self._session_of(slot), ObjectClass.CERTIFICATE, slot)
            return bytes(found[0][pkcs11.Attribute.VALUE]) if found else None

    def clear_slot(self, slot: KeySlot) -> None:
        with self._updating() as state, self._private_keys(state, slot):
            session = self._session_of(slot)
            for object_class in (
                ObjectClass.CERTIFICATE,
                ObjectClass.PUBLIC_KEY,
                ObjectClass.PRIVATE_KEY,
            ):
                for item in objects.find(session, object_class, slot):
                    item.destroy()

    def slots_in_use(self) -> list[KeySlot]:
        with self._reader.lock, objects.token_errors():
            return [slot for slot in KeySlot if self._has_key(slot)]

    # Codes ------------------------------------------------------------------------------------

    def set_pin(self, pin: str) -> None:
        validate_pin(pin)
        with self._updating() as state:
            state.codes.before_activation()
            with self._as_security_officer(self._unsealed_puk(state)) as session:
                session.init_pin(pin)
            state.codes.activate()

    def verify_pin(self, pin: str) -> None:
        pin = entered_pin(pin)
        with self._updating() as state:
            self._verify(state, pin)

    def unlock_with_puk(self, puk: str, new_pin: str) -> None:
        validate_puk(puk)
        validate_pin(new_pin)
        with self._updating() as state:
            state.codes.before_puk()
            right = self._login(objects.CKU_SO, puk)
            try:
                if right:
                    self._open().init_pin(new_pin)
            finally:
                self._logout()
            state.codes.record_puk(right)

    def reset_pin(self, new_pin: str) -> None:
        validate_pin(new_pin)
        with self._updating() as state:
            state.codes.before_pin_reset()
            with self._as_security_officer(self._unsealed_puk(state)) as session:
                session.init_pin(new_pin)
            state.codes.pin_reset()

    def set_signature_code(self, code: str) -> None:
        """The holder's new signature code becomes the signature token's user PIN (set by the
        card management system as its SO), and counts as entered through this token."""
        validate_pin(code)
        with self._updating() as state:
            state.codes.require_usable()
            puk = self._unsealed_puk(state)
            with self._signature_token_as_security_officer(puk) as session:
                session.init_pin(code)
            state.codes.choose_signature_code(None)
            self._signature_login(objects.CKU_USER, code)

    def sign(self, slot: KeySlot, data: bytes, code: str) -> bytes:
        code = entered_pin(code)
        with self._reader.lock:
            with self._updating() as state:
                state.codes.require_activated()
                if not self._has_key(slot):
                    raise TokenError(f"The card has no key in the {slot} slot.")
                if slot is KeySlot.SIGNATURE:
                    state.codes.require_holder(self._pin_verified)
                    state.codes.before_signature_code()
                    right = self._signature_login(objects.CKU_USER, code)
                    state.codes.record_signature_code(right)
                else:
                    self._verify(state, code)
            with objects.token_errors():
                return objects.sign(self._session_of(slot), slot, data)
