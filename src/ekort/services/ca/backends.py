"""The key backend and card reader configured in settings, one per process."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ekort.pki.keys import (
    EncryptedFileKeyBackend,
    KeyBackend,
    KeyError_,
    KeyRef,
    make_key_backend,
)


@cache
def key_backend() -> KeyBackend:
    return make_key_backend(
        settings.EKORT_KEY_BACKEND,
        directory=settings.EKORT_KEY_DIR,
        passphrase=settings.EKORT_KEY_PASSPHRASE,
        kdf_rounds=settings.EKORT_KEY_KDF_ROUNDS,
        module_path=settings.EKORT_PKCS11_MODULE,
        token_label=settings.EKORT_PKCS11_TOKEN,
        user_pin=settings.EKORT_PKCS11_PIN,
    )


def backend_for(ref: str) -> KeyBackend:
    parsed = KeyRef.parse(ref)
    backend = key_backend()
    if parsed.backend != backend.name:
        raise KeyError_(
            f"Key {ref} lives in the {parsed.backend} backend, but this process is configured "
            f"for {backend.name} (EKORT_KEY_BACKEND)."
        )
    return backend


def reencrypt_key_files(old_passphrase: bytes | None = None) -> dict[str, int | None]:
    """Every key file below EKORT_KEY_KDF_ROUNDS rewritten at that cost; with `old_passphrase`,
    every file, from that passphrase to EKORT_KEY_PASSPHRASE. The labels rewritten, each with
    its former PBKDF2 cost (None: encrypted otherwise)."""
    backend = key_backend()
    if not isinstance(backend, EncryptedFileKeyBackend):
        raise KeyError_(
            "Only key files are re-encrypted (EKORT_KEY_BACKEND=encrypted); keys on a token "
            "stay on it."
        )
    return backend.reencrypt(old_passphrase=old_passphrase)


def reset() -> None:
    """Forget the cached backend (tests change settings)."""
    key_backend.cache_clear()
    card_reader.cache_clear()


@cache
def card_reader() -> Any:
    """The card reader: virtual cards in a directory (demo, tests), or PKCS#11 tokens."""
    if settings.EKORT_CARD_READER == "pkcs11":
        from ekort.pki.pkcs11_card import Pkcs11CardReader

        return Pkcs11CardReader(settings.EKORT_PKCS11_MODULE, admin_key=card_admin_key())
    if settings.PRODUCTION and not settings.EKORT_TEST_SYSTEM:
        # Settings refuse this at start already (docs/operations.md).
        raise ImproperlyConfigured(
            "The virtual card reader keeps the cards' private keys in clear: production uses "
            "it only on a test system (EKORT_TEST_SYSTEM=1); set EKORT_CARD_READER=pkcs11."
        )
    from ekort.pki.virtual_card import VirtualCardReader

    return VirtualCardReader(settings.EKORT_VIRTUAL_CARD_DIR)


def card_admin_key() -> bytes:
    """The card management system's administrative key for PKCS#11 cards (32 bytes), derived
    from EKORT_SECRETS_KEY so that there is one secret fewer to keep."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ekort card admin key v1")
    return kdf.derive(settings.EKORT_SECRETS_KEY.encode("utf-8"))
