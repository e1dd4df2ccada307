"""Key objects that can sign but not be read.

`cryptography`'s builders call `sign()` on whatever key they are given, so a backend can hand
out one of these: the private numbers and bytes stay where they are (in memory of the backend,
or on a token), and asking for them is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
from cryptography.hazmat.primitives.asymmetric.utils import NoDigestInfo, Prehashed

RsaDigest = hashes.HashAlgorithm | Prehashed | NoDigestInfo


def _refuse(*_: object) -> NoReturn:
    raise PermissionError("Private key material never leaves its key backend.")


class SigningOnlyEcKey(ec.EllipticCurvePrivateKey):
    def __init__(
        self,
        public: ec.EllipticCurvePublicKey,
        sign: Callable[[bytes, ec.EllipticCurveSignatureAlgorithm], bytes],
    ) -> None:
        self._public = public
        self._sign = sign

    def sign(self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        return self._sign(data, signature_algorithm)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        _refuse()

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        _refuse()

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        _refuse()

    def __copy__(self) -> SigningOnlyEcKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SigningOnlyEcKey:
        return self


class SigningOnlyRsaKey(rsa.RSAPrivateKey):
    def __init__(
        self,
        public: rsa.RSAPublicKey,
        sign: Callable[[bytes, AsymmetricPadding, RsaDigest], bytes],
    ) -> None:
        self._public = public
        self._sign = sign

    def sign(
        self,
        data: bytes,
        padding: AsymmetricPadding,
        algorithm: RsaDigest,
    ) -> bytes:
        return self._sign(data, padding, algorithm)

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def decrypt(self, ciphertext: bytes, padding: AsymmetricPadding) -> bytes:
        _refuse()

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        _refuse()

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        _refuse()

    def __copy__(self) -> SigningOnlyRsaKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SigningOnlyRsaKey:
        return self


def signing_only(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
) -> SigningOnlyEcKey | SigningOnlyRsaKey:
    """Wrap an in-memory key so that callers can sign with it and do nothing else."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return SigningOnlyEcKey(key.public_key(), key.sign)
    return SigningOnlyRsaKey(key.public_key(), key.sign)
