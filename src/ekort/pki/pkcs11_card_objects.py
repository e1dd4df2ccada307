"""The objects a PKCS#11 card token holds, and the few calls python-pkcs11 does not offer.

Per key slot: a key pair made on the token (private half: CKA_TOKEN, CKA_PRIVATE,
CKA_SENSITIVE, not extractable) and an X.509 certificate object, all three with the slot's
name as CKA_LABEL and the slot's CKA_ID, so that standard tools pair them (the signature slot's
on the signature token, the others on the card's). One public CKO_DATA object on the card's
token, labelled "ekort-card-state", carries what a physical card's chip would keep itself: the
try counters, whether the card is activated, and the PUK sealed with the card management
system's administrative key.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pkcs11
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass

from .card_codes import CardCodes, from_base64, to_base64
from .card_token import KeySlot, PinNotVerified, TokenError
from .keys import KeyAlgorithm

STATE_LABEL = "ekort-card-state"
APPLICATION = "ekort"
SLOT_IDS = {KeySlot.AUTH: b"\x01", KeySlot.SIGNATURE: b"\x02", KeySlot.ADDITIONAL: b"\x03"}

# DER-encoded named-curve OIDs (CKA_EC_PARAMS) and the curves they name.
_EC_PARAMS = {
    bytes.fromhex("06082a8648ce3d030107"): ec.SECP256R1(),
    bytes.fromhex("06052b81040022"): ec.SECP384R1(),
}

CKU_SO = 0
CKU_USER = 1
CKR_OK = 0x0
CKR_PIN_INCORRECT = 0xA0
CKR_USER_NOT_LOGGED_IN = 0x101


class RawModule:
    """C_InitToken, C_Login and C_Logout called directly: python-pkcs11 has no C_InitToken, and
    its login in `Token.open` leaks the session when the PIN is wrong. The module is the one
    python-pkcs11 loaded (the same shared object), so both see one library state."""

    def __init__(self, module_path: str) -> None:
        library = ctypes.CDLL(module_path)
        ulong, text = ctypes.c_ulong, ctypes.c_char_p
        self._init_token = library.C_InitToken
        self._init_token.argtypes = [ulong, text, ulong, text]
        self._init_token.restype = ulong
        self._login = library.C_Login
        self._login.argtypes = [ulong, ulong, text, ulong]
        self._login.restype = ulong
        self._logout = library.C_Logout
        self._logout.argtypes = [ulong]
        self._logout.restype = ulong

    def init_token(self, slot_id: int, so_pin: str, label: str) -> None:
        pin = so_pin.encode()
        rv = self._init_token(slot_id, pin, len(pin), label.encode().ljust(32))
        if rv != CKR_OK:
            raise TokenError(f"The module could not initialise a token (PKCS#11 error {rv:#x}).")

    def login(self, session_handle: int, user_type: int, pin: str) -> bool:
        """True when the code is right, False when it is wrong."""
        code = pin.encode()
        rv = self._login(session_handle, user_type, code, len(code))
        if rv in (CKR_OK, CKR_PIN_INCORRECT):
            return rv == CKR_OK
        raise TokenError(f"The token refused the login (PKCS#11 error {rv:#x}).")

    def logout(self, session_handle: int) -> None:
        rv = self._logout(session_handle)
        if rv not in (CKR_OK, CKR_USER_NOT_LOGGED_IN):
            raise TokenError(f"The token refused to log out (PKCS#11 error {rv:#x}).")


@contextmanager
def token_errors() -> Iterator[None]:
    """PKCS#11 errors as the card's refusals."""
    try:
        yield
    except pkcs11.exceptions.UserNotLoggedIn:
        raise PinNotVerified("The holder's PIN must be verified on the card first.") from None
    except pkcs11.PKCS11Error as error:
        raise TokenError(f"The token refused the operation ({type(error).__name__}).") from None


# Keys and certificates ------------------------------------------------------------------------


def find(session: pkcs11.Session, object_class: ObjectClass, slot: KeySlot) -> list[Any]:
    return list(session.get_objects({Attribute.CLASS: object_class, Attribute.ID: SLOT_IDS[slot]}))


def generate(session: pkcs11.Session, slot: KeySlot, algorithm: KeyAlgorithm) -> PublicKeyTypes:
    """A key pair on the token; the session must be logged in as the user."""
    common: dict[str, Any] = {
        "store": True,
        "id": SLOT_IDS[slot],
        "label": slot.value,
        "capabilities": MechanismFlag.SIGN | MechanismFlag.VERIFY,
        "private_template": {
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
        },
    }
    public: dict[Attribute, Any] = {Attribute.PRIVATE: False}
    if algorithm.is_rsa:
        key, _ = session.generate_keypair(
            KeyType.RSA, algorithm.rsa_bits, public_template=public, **common
        )
    else:
        name = algorithm.curve.name
        params = next(der for der, curve in _EC_PARAMS.items() if curve.name == name)
        key, _ = session.generate_keypair(
            KeyType.EC,
            mechanism=Mechanism.EC_KEY_PAIR_GEN,
            public_template={**public, Attribute.EC_PARAMS: params},
            **common,
        )
    return public_key_of(key)


def public_key_of(key: Any) -> PublicKeyTypes:
    if key.key_type == KeyType.RSA:
        return rsa.RSAPublicNumbers(
            int.from_bytes(key[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(key[Attribute.MODULUS], "big"),
        ).public_key()
    curve = _EC_PARAMS.get(bytes(key[Attribute.EC_PARAMS]))
    if curve is None:
        raise TokenError("The key is on a curve this card does not use.")
    point = bytes(key[Attribute.EC_POINT])
    if point[:1] == b"\x04" and point[1] == len(point) - 2:  # DER OCTET STRING around it
        point = point[2:]
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)


def sign(session: pkcs11.Session, slot: KeySlot, data: bytes) -> bytes:
    """The session must be logged in as the user."""
    keys = find(session, ObjectClass.PRIVATE_KEY, slot)
    if not keys:
        raise TokenError("The card's PIN is not verified, so its private keys cannot be used.")
    key = keys[0]
    if key.key_type == KeyType.RSA:
        return bytes(key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
    # SoftHSM lacks CKM_ECDSA_SHA256: hash here, sign the digest on the token.
    raw = bytes(key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA))
    half = len(raw) // 2
    return encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return b"\x02" + bytes([len(body)]) + body


def store_certificate(session: pkcs11.Session, slot: KeySlot, der: bytes) -> None:
    certificate = x509.load_der_x509_certificate(der)
    session.create_object(
        {
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.LABEL: slot.value,
            Attribute.ID: SLOT_IDS[slot],
            Attribute.SUBJECT: certificate.subject.public_bytes(),
            Attribute.ISSUER: certificate.issuer.public_bytes(),
            Attribute.SERIAL_NUMBER: _der_integer(certificate.serial_number),
            Attribute.VALUE: der,
        }
    )


# The card's state -----------------------------------------------------------------------------


@dataclass
class CardState:
    codes: CardCodes
    sealed_puk: bytes  # AES-GCM nonce + ciphertext under the administrative key
    serial: int = 0  # a new object per update; the highest serial is the current one

    def to_json(self) -> dict[str, Any]:
        return {
            "codes": self.codes.to_json(),
            "sealed_puk": to_base64(self.sealed_puk),
            "serial": self.serial,
        }


def seal_puk(admin_key: bytes, card_number: str, puk: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(admin_key).encrypt(nonce, puk.encode(), _aad(card_number))


def unseal_puk(admin_key: bytes, card_number: str, sealed: bytes) -> str:
    try:
        return AESGCM(admin_key).decrypt(sealed[:12], sealed[12:], _aad(card_number)).decode()
    except (InvalidTag, ValueError):
        raise TokenError(
            "The card's PUK cannot be opened with this reader's administrative key."
        ) from None


def _aad(card_number: str) -> bytes:
    return f"ekort card PUK {card_number}".encode()


def _states(session: pkcs11.Session) -> list[tuple[CardState, Any]]:
    found = session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: STATE_LABEL})
    states = []
    for item in found:
        data = json.loads(bytes(item[Attribute.VALUE]))
        state = CardState(
            CardCodes.from_json(data["codes"]),
            from_base64(data["sealed_puk"]),
            int(data["serial"]),
        )
        states.append((state, item))
    return sorted(states, key=lambda pair: pair[0].serial)


def read_state(session: pkcs11.Session) -> CardState:
    states = _states(session)
    if not states:
        raise TokenError("The token carries no card state; it was not personalised by ekort.")
    return states[-1][0]


def write_state(session: pkcs11.Session, state: CardState) -> None:
    """SoftHSM does not let CKA_VALUE change, so each update is a new object: create the new
    one first, then remove the old, so that a crash in between loses nothing."""
    older = _states(session)
    state.serial = max((old.serial for old, _ in older), default=0) + 1
    session.create_object(
        {
            Attribute.CLASS: ObjectClass.DATA,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.LABEL: STATE_LABEL,
            Attribute.APPLICATION: APPLICATION,
            Attribute.VALUE: json.dumps(state.to_json(), sort_keys=True).encode(),
        }
    )
    for _, item in older:
        item.destroy()
