"""The cards' administrative secrets (the PUK) and the holders' photos kept for the card
bureau, encrypted at rest with AES-256-GCM.

The keys come from EKORT_SECRETS_KEY through HKDF, one for the PUKs and one for the photos; the
card's id is bound in as associated data, so a ciphertext copied to another card's row does not
decrypt there.
"""

from __future__ import annotations

import os
import secrets as random
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@cache
def _aead(info: bytes = b"ekort card secrets v1") -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
    return AESGCM(key.derive(settings.EKORT_SECRETS_KEY.encode("utf-8")))


_PHOTOS = b"ekort card photos v1"


def new_puk() -> str:
    """Eight random digits (E6), from the operating system's CSPRNG."""
    return f"{random.randbelow(10**8):08d}"


def seal(plaintext: str, card_id: int) -> bytes:
    nonce = os.urandom(12)
    return nonce + _aead().encrypt(nonce, plaintext.encode("ascii"), f"card:{card_id}".encode())


def unseal(sealed: bytes, card_id: int) -> str:
    nonce, body = sealed[:12], sealed[12:]
    return _aead().decrypt(nonce, body, f"card:{card_id}".encode()).decode("ascii")


def seal_photo(photo: bytes, card_id: int) -> bytes:
    nonce = os.urandom(12)
    return nonce + _aead(_PHOTOS).encrypt(nonce, photo, f"photo:{card_id}".encode())


def unseal_photo(sealed: bytes, card_id: int) -> bytes:
    nonce, body = bytes(sealed[:12]), bytes(sealed[12:])
    return _aead(_PHOTOS).decrypt(nonce, body, f"photo:{card_id}".encode())


def reset() -> None:
    _aead.cache_clear()
