"""Keys on a PKCS#11 token (a hardware security module, a smart card or SoftHSM2).

Key pairs are generated on the token with the private half marked sensitive and never
extractable; ekort only ever holds object handles. `signing_key()` returns a `SigningOnly*Key`
whose `sign()` hashes in Python and lets the token do the private-key operation:

* ECDSA: mechanism `ECDSA` over the digest; the token's raw r||s becomes DER (`Ecdsa-Sig-Value`).
* RSA PKCS#1 v1.5: mechanism `RSA_PKCS` over a DigestInfo built here (SHA-224/256/384/512).
* RSA PSS: mechanism `RSA_PKCS_PSS` over the digest, with hash, MGF1 hash and salt length as
  parameters.

One session per backend, opened on first use. Calls into a module are serialised by one lock per
module (a python-pkcs11 session must not be used from two threads at once, and python-pkcs11
initialises modules without telling them to expect threads). PKCS#11 logs in per application and
token, not per session, so backends for the same token in one process share one login (see
`_Login`): a second backend with a different PIN is refused, and closing one backend does not log
the others out. A session lost to the device is reopened, and logged in again, once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar

import pkcs11
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)
from cryptography.hazmat.primitives.asymmetric.utils import (
    NoDigestInfo,
    Prehashed,
    encode_dss_signature,
)
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as p11

from .keys import KeyAlgorithm, KeyError_, KeyRef, check_label, required_setting
from .signing_only import RsaDigest, SigningOnlyEcKey, SigningOnlyRsaKey

_T = TypeVar("_T")

# ECParameters ::= namedCurve OBJECT IDENTIFIER (RFC 5480), DER.
_EC_PARAMS: dict[str, bytes] = {
    "secp256r1": bytes.fromhex("06082a8648ce3d030107"),  # 1.2.840.10045.3.1.7
    "secp384r1": bytes.fromhex("06052b81040022"),  # 1.3.132.0.34
}
_CURVES: dict[bytes, ec.EllipticCurve] = {
    _EC_PARAMS["secp256r1"]: ec.SECP256R1(),
    _EC_PARAMS["secp384r1"]: ec.SECP384R1(),
}

# DigestInfo ::= SEQUENCE { AlgorithmIdentifier (OID, NULL), OCTET STRING digest } (RFC 8017
# section 9.2, note 1): the DER that precedes the digest.
_DIGEST_INFO_PREFIX: dict[str, bytes] = {
    "sha224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
_HASH_MECHANISM: dict[str, Mechanism] = {
    "sha224": Mechanism.SHA224,
    "sha256": Mechanism.SHA256,
    "sha384": Mechanism.SHA384,
    "sha512": Mechanism.SHA512,
}
_MGF: dict[str, pkcs11.MGF] = {
    "sha224": pkcs11.MGF.SHA224,
    "sha256": pkcs11.MGF.SHA256,
    "sha384": pkcs11.MGF.SHA384,
    "sha512": pkcs11.MGF.SHA512,
}

# Errors after which a new session (and login) may succeed where the old one failed.
_LOST_SESSION = (
    p11.SessionClosed,
    p11.SessionHandleInvalid,
    p11.UserNotLoggedIn,
    p11.DeviceRemoved,
    p11.TokenNotPresent,
)


def key_id(label: str) -> bytes:
    """The CKA_ID given to both halves of the key pair labelled `label`."""
    return hashlib.sha256(label.encode("utf-8")).digest()[:20]


def _digest(data: bytes, algorithm: hashes.HashAlgorithm | Prehashed) -> bytes:
    if isinstance(algorithm, Prehashed):
        return data  # already the digest
    hasher = hashes.Hash(algorithm)
    hasher.update(data)
    return hasher.finalize()


def _plain(algorithm: hashes.HashAlgorithm | Prehashed) -> hashes.HashAlgorithm:
    return algorithm._algorithm if isinstance(algorithm, Prehashed) else algorithm


def _hash_name(algorithm: hashes.HashAlgorithm | Prehashed) -> str:
    return _plain(algorithm).name


def _ec_point(encoded: bytes, curve: ec.EllipticCurve) -> bytes:
    """CKA_EC_POINT is a DER OCTET STRING around the point (some tokens give the bare point)."""
    bare_length = 1 + 2 * ((curve.key_size + 7) // 8)
    if len(encoded) == bare_length:
        return encoded
    if len(encoded) < 2 or encoded[0] != 0x04:
        raise KeyError_("The token returned an EC public point that is not an OCTET STRING.")
    length, offset = encoded[1], 2
    if length & 0x80:
        size = length & 0x7F
        length, offset = int.from_bytes(encoded[2 : 2 + size], "big"), 2 + size
    point = encoded[offset : offset + length]
    if len(point) != length or offset + length != len(encoded):
        raise KeyError_("The token returned a malformed EC public point.")
    return point


class _Login:
    """This process's login to one token: a session opened with the user PIN.

    PKCS#11 logs in per application and token, not per session, and closing a logged-in session
    logs all of the application's sessions out. So the backends for one token share this login,
    each with its own (PIN-less, already authenticated) session, and the last one to close logs out.
    """

    def __init__(self, session: pkcs11.Session, pin_digest: bytes) -> None:
        self.session = session
        self.pin_digest = pin_digest
        self.users = 0

    def close(self) -> None:
        with contextlib.suppress(p11.PKCS11Error):  # gone with the device already
            self.session.close()


_registry = threading.Lock()
_module_locks: dict[str, threading.RLock] = {}  # one per module: calls into it are serialised
_logins: dict[tuple[str, str], _Login] = {}  # (module, token label) -> the login


def _pin_digest(pin: str) -> bytes:
    return hashlib.sha256(pin.encode("utf-8")).digest()


class Pkcs11KeyBackend:
    """Key pairs generated and used on a PKCS#11 token; private keys never leave it."""

    name = "pkcs11"

    def __init__(self, module_path: str, token_label: str, user_pin: str) -> None:
        # One spelling per library: python-pkcs11 loads (and initialises) a module per path string.
        self._module_path = os.path.realpath(module_path)
        self._token_label = token_label
        self._pin = user_pin
        with _registry:
            self._lock = _module_locks.setdefault(self._module_path, threading.RLock())
        self._token: pkcs11.Token | None = None
        self._login: _Login | None = None
        self._session: pkcs11.Session | None = None
        self._private: dict[str, Any] = {}  # object handles; valid for this session only
        self._public: dict[str, CertificateIssuerPublicKeyTypes] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> Self:
        """module_path, token_label, user_pin."""
        module_path, token_label, user_pin = (
            str(required_setting(settings, cls.name, name))
            for name in ("module_path", "token_label", "user_pin")
        )
        return cls(module_path, token_label, user_pin)

    def __repr__(self) -> str:  # never the PIN
        return f"Pkcs11KeyBackend({self._module_path!r}, {self._token_label!r})"

    # --- session (all under self._lock) ---

    def _find_token(self) -> pkcs11.Token:
        if not os.path.exists(self._module_path):
            raise KeyError_(f"The PKCS#11 module {self._module_path} does not exist.")
        try:
            library = pkcs11.lib(self._module_path)
        except p11.PKCS11Error:
            raise KeyError_(f"The PKCS#11 module {self._module_path} cannot be loaded.") from None
        try:
            return library.get_token(token_label=self._token_label)
        except p11.NoSuchToken:
            raise KeyError_(
                f"No token labelled {self._token_label!r} in {self._module_path}."
            ) from None
        except p11.MultipleTokensReturned:
            raise KeyError_(
                f"More than one token is labelled {self._token_label!r}; labels must be unique."
            ) from None
        except p11.PKCS11Error as error:
            raise KeyError_(f"The token list cannot be read: {type(error).__name__}.") from None

    def _log_in(self, token: pkcs11.Token) -> _Login:
        key = (self._module_path, self._token_label)
        login = _logins.get(key)
        if login is not None:
            # The token is logged in already; its PIN is the one it was logged in with.
            if not hmac.compare_digest(login.pin_digest, _pin_digest(self._pin)):
                raise KeyError_(f"Wrong PIN for token {self._token_label!r}.")
            return login
        try:
            session = token.open(rw=True, user_pin=self._pin)
        except p11.UserAlreadyLoggedIn:
            # Logged in by other code in this process, outside ekort: use that login.
            session = token.open(rw=True)
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
            raise KeyError_(f"Wrong PIN for token {self._token_label!r}.") from None
        except p11.PinLocked:
            raise KeyError_(f"The PIN of token {self._token_label!r} is locked.") from None
        except p11.PinExpired:
            raise KeyError_(f"The PIN of token {self._token_label!r} has expired.") from None
        except p11.UserPinNotInitialized:
            raise KeyError_(f"Token {self._token_label!r} has no user PIN set.") from None
        except p11.PKCS11Error as error:
            raise KeyError_(
                f"Cannot log in to token {self._token_label!r}: {type(error).__name__}."
            ) from None
        login = _logins[key] = _Login(session, _pin_digest(self._pin))
        return login

    def _open_session(self) -> pkcs11.Session:
        if self._token is None:
            self._token = self._find_token()
        login = self._log_in(self._token)
        try:
            session = self._token.open(rw=True)  # authenticated by the shared login
        except p11.PKCS11Error as error:
            raise KeyError_(
                f"Cannot open a session on token {self._token_label!r}: {type(error).__name__}."
            ) from None
        login.users += 1
        self._login = login
        return session

    def _drop_session(self, *, forget_login: bool = False) -> None:
        session, self._session = self._session, None
        login, self._login = self._login, None
        self._private.clear()
        if session is not None:
            with contextlib.suppress(p11.PKCS11Error):  # gone with the device or the login
                session.close()
        if login is None:
            return
        login.users -= 1
        key = (self._module_path, self._token_label)
        current = _logins.get(key) is login
        if current and (forget_login or login.users <= 0):
            del _logins[key]
            login.close()  # logs this process out of the token
        if forget_login:
            self._token = None  # the token may have been removed and inserted again

    def close(self) -> None:
        """Close this backend's session; the last backend for a token logs out of it."""
        with self._lock:
            self._drop_session()

    def _run(self, what: str, operation: Callable[[pkcs11.Session], _T]) -> _T:
        """Run `operation` on the session under the lock; errors become `KeyError_`."""
        with self._lock:
            if (
                self._login is not None
                and _logins.get((self._module_path, self._token_label)) is not self._login
            ):
                self._drop_session()  # another backend found the login gone; so is ours
            for attempt in (1, 2):
                if self._session is None:
                    self._session = self._open_session()
                try:
                    return operation(self._session)
                except KeyError_:
                    raise
                except _LOST_SESSION as error:
                    self._drop_session(forget_login=True)
                    if attempt == 2:
                        raise KeyError_(
                            f"Cannot {what}: the token session was lost ({type(error).__name__})."
                        ) from None
                except p11.PKCS11Error as error:
                    raise KeyError_(
                        f"Cannot {what}: the token said {type(error).__name__}."
                    ) from None
            raise AssertionError("unreachable")

    # --- the KeyBackend protocol ---

    def _check_ref(self, ref: KeyRef) -> str:
        if ref.backend != self.name:
            raise KeyError_(f"Key {ref} does not belong to the {self.name} backend.")
        return check_label(ref.label)

    def create_key(self, label: str, algorithm: KeyAlgorithm) -> KeyRef:
        check_label(label)
        algorithm = KeyAlgorithm(algorithm)

        def generate(session: pkcs11.Session) -> None:
            if list(session.get_objects({Attribute.LABEL: label})):
                raise KeyError_(
                    f"A key labelled {label!r} exists already on token {self._token_label!r}; "
                    "keys are never replaced."
                )
            private_template = {
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
                Attribute.DECRYPT: False,
                Attribute.UNWRAP: False,
                Attribute.DERIVE: False,
            }
            public_template: dict[Attribute, Any] = {
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.VERIFY: True,
                Attribute.ENCRYPT: False,
                Attribute.WRAP: False,
            }
            if algorithm.is_rsa:
                key_type, key_length = KeyType.RSA, algorithm.rsa_bits
                mechanism = Mechanism.RSA_PKCS_KEY_PAIR_GEN
                public_template[Attribute.PUBLIC_EXPONENT] = (65537).to_bytes(3, "big")
            else:
                key_type, key_length = KeyType.EC, None
                mechanism = Mechanism.EC_KEY_PAIR_GEN
                public_template[Attribute.EC_PARAMS] = _EC_PARAMS[algorithm.curve.name]
            session.generate_keypair(
                key_type,
                key_length,
                id=key_id(label),
                label=label,
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                mechanism=mechanism,
                public_template=public_template,
                private_template=private_template,
            )

        self._run(f"create key {label!r}", generate)
        return KeyRef(self.name, label)

    def _find(self, session: pkcs11.Session, label: str, kind: ObjectClass) -> Any:
        try:
            return session.get_key(object_class=kind, label=label)
        except p11.NoSuchKey:
            half = "private" if kind is ObjectClass.PRIVATE_KEY else "public"
            raise KeyError_(f"No {half} key {label!r} on token {self._token_label!r}.") from None
        except p11.MultipleObjectsReturned:
            raise KeyError_(
                f"More than one key is labelled {label!r} on token {self._token_label!r}."
            ) from None

    def public_key(self, ref: KeyRef) -> CertificateIssuerPublicKeyTypes:
        label = self._check_ref(ref)
        with self._lock:
            cached = self._public.get(label)
            if cached is None:
                cached = self._public[label] = self._run(
                    f"read public key {label!r}", lambda session: self._read_public(session, label)
                )
            return cached

    def _read_public(self, session: pkcs11.Session, label: str) -> CertificateIssuerPublicKeyTypes:
        key = self._find(session, label, ObjectClass.PUBLIC_KEY)
        if key.key_type == KeyType.RSA:
            modulus, exponent = key[Attribute.MODULUS], key[Attribute.PUBLIC_EXPONENT]
            return rsa.RSAPublicNumbers(
                int.from_bytes(exponent, "big"), int.from_bytes(modulus, "big")
            ).public_key()
        if key.key_type == KeyType.EC:
            curve = _CURVES.get(bytes(key[Attribute.EC_PARAMS]))
            if curve is None:
                raise KeyError_(f"Key {label!r} is on a curve other than P-256 and P-384.")
            point = _ec_point(bytes(key[Attribute.EC_POINT]), curve)
            return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
        raise KeyError_(f"Key {label!r} is neither RSA nor EC.")

    def _private_key(self, session: pkcs11.Session, label: str) -> Any:
        key = self._private.get(label)
        if key is None:
            key = self._private[label] = self._find(session, label, ObjectClass.PRIVATE_KEY)
        return key

    def _sign_on_token(self, label: str, data: bytes, **mechanism: Any) -> bytes:
        def sign(session: pkcs11.Session) -> bytes:
            return bytes(self._private_key(session, label).sign(data, **mechanism))

        return self._run(f"sign with key {label!r}", sign)

    def signing_key(self, ref: KeyRef) -> CertificateIssuerPrivateKeyTypes:
        label = self._check_ref(ref)
        public = self.public_key(ref)
        # Look the private half up now, so that a missing key fails here and not mid-signature.
        self._run(f"find key {label!r}", lambda session: self._private_key(session, label))
        if isinstance(public, ec.EllipticCurvePublicKey):
            return SigningOnlyEcKey(public, self._ec_signer(label, public))
        if isinstance(public, rsa.RSAPublicKey):
            return SigningOnlyRsaKey(public, self._rsa_signer(label, public))
        raise KeyError_(f"Key {label!r} is neither RSA nor EC.")  # pragma: no cover

    def exists(self, ref: KeyRef) -> bool:
        if ref.backend != self.name:
            return False
        label = check_label(ref.label)

        def find(session: pkcs11.Session) -> bool:
            query = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label}
            return bool(list(session.get_objects(query)))

        return self._run(f"look for key {label!r}", find)

    # --- signing ---

    def _ec_signer(
        self, label: str, public: ec.EllipticCurvePublicKey
    ) -> Callable[[bytes, ec.EllipticCurveSignatureAlgorithm], bytes]:
        size = (public.curve.key_size + 7) // 8

        def sign(data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
            if not isinstance(signature_algorithm, ec.ECDSA):
                raise KeyError_(f"Key {label!r} signs with ECDSA only.")
            if signature_algorithm.deterministic_signing:
                raise KeyError_("Deterministic ECDSA (RFC 6979) is not available on a token.")
            digest = _digest(data, signature_algorithm.algorithm)
            raw = self._sign_on_token(label, digest, mechanism=Mechanism.ECDSA)
            if len(raw) != 2 * size:
                raise KeyError_(f"The token returned a {len(raw)}-byte ECDSA signature.")
            r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
            return encode_dss_signature(r, s)

        return sign

    def _rsa_signer(
        self, label: str, public: rsa.RSAPublicKey
    ) -> Callable[[bytes, AsymmetricPadding, RsaDigest], bytes]:
        def sign(data: bytes, pad: AsymmetricPadding, algorithm: RsaDigest) -> bytes:
            if isinstance(pad, padding.PKCS1v15):
                if isinstance(algorithm, NoDigestInfo):
                    block = data  # the caller wants the bare value signed
                else:
                    name = _hash_name(algorithm)
                    if name not in _DIGEST_INFO_PREFIX:
                        raise KeyError_(f"Key {label!r} does not sign with {name} (PKCS#1 v1.5).")
                    block = _DIGEST_INFO_PREFIX[name] + _digest(data, algorithm)
                return self._sign_on_token(label, block, mechanism=Mechanism.RSA_PKCS)
            if isinstance(pad, padding.PSS):
                if isinstance(algorithm, NoDigestInfo):
                    raise KeyError_("PSS needs a hash algorithm.")
                name, mgf_name = _hash_name(algorithm), pad.mgf._algorithm.name
                if name not in _HASH_MECHANISM or mgf_name not in _MGF:
                    raise KeyError_(f"Key {label!r} does not sign with {name} (PSS).")
                salt = pad._salt_length
                if isinstance(salt, padding._MaxLength):
                    salt = padding.calculate_max_pss_salt_length(public, _plain(algorithm))
                elif isinstance(salt, padding._DigestLength):
                    salt = _plain(algorithm).digest_size
                elif not isinstance(salt, int):
                    raise KeyError_(
                        "PSS signing needs a fixed salt length (AUTO is for verifying)."
                    )
                return self._sign_on_token(
                    label,
                    _digest(data, algorithm),
                    mechanism=Mechanism.RSA_PKCS_PSS,
                    mechanism_param=(_HASH_MECHANISM[name], _MGF[mgf_name], salt),
                )
            raise KeyError_(f"Key {label!r} signs with PKCS#1 v1.5 or PSS, not {pad.name}.")

        return sign
