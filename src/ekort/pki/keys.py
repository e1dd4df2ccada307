"""Private keys behind one interface.

A `KeyBackend` creates a key under a label and hands out a *signing key*: an object that
`cryptography`'s builders accept and that signs on request, but whose private bytes cannot be
read through it. Two backends implement it: `EncryptedFileKeyBackend` (PKCS#8 files encrypted
with a passphrase, at the cost `key_files` sets) and `Pkcs11KeyBackend` (a hardware token or
SoftHSM2, in `pkcs11_keys`). Nothing else in ekort touches private key bytes.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)

from . import key_files
from .key_files import PBKDF2_ROUNDS
from .signing_only import signing_only

_log = logging.getLogger(__name__)


class KeyAlgorithm(StrEnum):
    EC_P256 = "ec-p256"
    EC_P384 = "ec-p384"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"
    RSA_4096 = "rsa-4096"

    @property
    def is_rsa(self) -> bool:
        return self.value.startswith("rsa")

    @property
    def rsa_bits(self) -> int:
        return int(self.value.split("-")[1])

    @property
    def curve(self) -> ec.EllipticCurve:
        return ec.SECP384R1() if self is KeyAlgorithm.EC_P384 else ec.SECP256R1()


class KeyError_(Exception):
    """A key that cannot be created, found or opened; the message says which and why."""


@dataclass(frozen=True)
class KeyRef:
    """Where a key lives: the backend's name and the key's label in it. Safe to store."""

    backend: str
    label: str

    def __str__(self) -> str:
        return f"{self.backend}:{self.label}"

    @classmethod
    def parse(cls, text: str) -> KeyRef:
        backend, _, label = text.partition(":")
        if not backend or not label:
            raise KeyError_(f"A key reference looks like backend:label, not {text[:60]!r}.")
        return cls(backend, label)


class KeyBackend(Protocol):
    name: str

    def create_key(self, label: str, algorithm: KeyAlgorithm) -> KeyRef:
        """Generate a key pair inside the backend; the private half never leaves it."""

    def public_key(self, ref: KeyRef) -> CertificateIssuerPublicKeyTypes: ...

    def signing_key(self, ref: KeyRef) -> CertificateIssuerPrivateKeyTypes:
        """A key object for `cryptography`'s builders (certificates, CRLs, OCSP responses)."""

    def exists(self, ref: KeyRef) -> bool: ...


_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_label(label: str) -> str:
    if not _LABEL.fullmatch(label):
        raise KeyError_(f"A key label is 1-100 of A-Z a-z 0-9 . _ -, not {label[:40]!r}.")
    return label


def generate_private_key(algorithm: KeyAlgorithm) -> CertificateIssuerPrivateKeyTypes:
    if algorithm.is_rsa:
        return rsa.generate_private_key(public_exponent=65537, key_size=algorithm.rsa_bits)
    return ec.generate_private_key(algorithm.curve)


class EncryptedFileKeyBackend:
    """PKCS#8 files encrypted with a passphrase (never on disk or in the database in clear),
    PBKDF2 at `kdf_rounds` iterations for new files. A file written at a lower cost (ekort's
    files before 2025 took 2,048) still opens, with a warning; `reencrypt` rewrites it.

    Opened keys are cached in memory for the life of the process, so that signing thousands of
    OCSP responses does not decrypt the file thousands of times.
    """

    name = "encrypted"

    def __init__(
        self,
        directory: str | os.PathLike[str],
        passphrase: bytes,
        kdf_rounds: int = PBKDF2_ROUNDS,
    ) -> None:
        if len(passphrase) < 16:
            raise KeyError_("The key passphrase must be at least 16 bytes long.")
        if kdf_rounds < 1:
            raise KeyError_("The key files' PBKDF2 cost is at least one iteration.")
        self._directory = Path(directory)
        self._passphrase = passphrase
        self._kdf_rounds = kdf_rounds
        self._opened: dict[str, CertificateIssuerPrivateKeyTypes] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> Self:
        """directory, passphrase (bytes, or text taken as UTF-8); kdf_rounds if not the
        production cost."""
        directory = required_setting(settings, cls.name, "directory")
        passphrase = required_setting(settings, cls.name, "passphrase")
        rounds = settings.get("kdf_rounds") or PBKDF2_ROUNDS
        if isinstance(passphrase, str):
            passphrase = passphrase.encode("utf-8")
        if not isinstance(passphrase, bytes) or not isinstance(directory, str | os.PathLike):
            raise KeyError_("The encrypted key backend needs a directory and a passphrase.")
        if not isinstance(rounds, int):
            raise KeyError_("The encrypted key backend's kdf_rounds is a whole number.")
        return cls(directory, passphrase, rounds)

    def _path(self, label: str) -> Path:
        return self._directory / f"{check_label(label)}.p8.pem"

    def _write(self, path: Path, pem: bytes, *, replace: bool) -> None:
        """Mode 0600 from the start. A new file with O_EXCL, so that two processes creating the
        same label cannot overwrite each other; a rewritten one through a file beside it,
        moved over the old in one step, so that a crash leaves the old file or the new."""
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = path.with_name(f".{path.name}.new") if replace else path
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(target, path)

    def create_key(self, label: str, algorithm: KeyAlgorithm) -> KeyRef:
        path = self._path(label)
        if path.exists():
            raise KeyError_(f"A key labelled {label!r} exists already; keys are never replaced.")
        key = generate_private_key(algorithm)
        self._write(path, key_files.encrypt(key, self._passphrase, self._kdf_rounds), replace=False)
        self._opened[label] = key
        return KeyRef(self.name, label)

    def _load(
        self, label: str, passphrase: bytes
    ) -> tuple[CertificateIssuerPrivateKeyTypes, int | None]:
        """The key in file `label`, and the file's PBKDF2 cost (None: not PBKDF2)."""
        path = self._path(label)
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyError_(f"No key {label!r} in {self._directory}.") from None
        try:
            loaded = serialization.load_pem_private_key(pem, passphrase)
        except ValueError:
            raise KeyError_(
                f"Key {label!r} cannot be opened: wrong passphrase or damaged file."
            ) from None
        if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyError_(f"Key {label!r} is neither RSA nor ECDSA.")
        return loaded, key_files.kdf_rounds(pem)

    def _open(self, ref: KeyRef) -> CertificateIssuerPrivateKeyTypes:
        if ref.backend != self.name:
            raise KeyError_(f"Key {ref} does not belong to the {self.name} backend.")
        key = self._opened.get(ref.label)
        if key is None:
            key, rounds = self._load(ref.label, self._passphrase)
            if rounds is not None and rounds < self._kdf_rounds:
                _log.warning(
                    "Key file %r is encrypted at %s PBKDF2 iterations, below the %s new files "
                    "get: run `ekort ca reencrypt` (docs/operations.md).",
                    ref.label,
                    f"{rounds:,}",
                    f"{self._kdf_rounds:,}",
                )
            self._opened[ref.label] = key
        return key

    def labels(self) -> list[str]:
        """Every key in the directory, by label."""
        suffix = ".p8.pem"
        return sorted(
            path.name.removesuffix(suffix)
            for path in self._directory.glob(f"*{suffix}")
            if not path.name.startswith(".")
        )

    def reencrypt(self, old_passphrase: bytes | None = None) -> dict[str, int | None]:
        """Rewrite each key file below this backend's cost at that cost, under this backend's
        passphrase; with `old_passphrase`, every file, opened with it (a new passphrase).
        Returns the labels rewritten, each with its former cost (None: not PBKDF2). Every file
        is opened before any is written, so a wrong passphrase changes nothing."""
        opening = self._passphrase if old_passphrase is None else old_passphrase
        due: dict[str, tuple[CertificateIssuerPrivateKeyTypes, int | None]] = {}
        for label in self.labels():
            key, rounds = self._load(label, opening)
            if old_passphrase is not None or rounds is None or rounds < self._kdf_rounds:
                due[label] = (key, rounds)
        for label, (key, _) in due.items():
            pem = key_files.encrypt(key, self._passphrase, self._kdf_rounds)
            self._write(self._path(label), pem, replace=True)
        return {label: rounds for label, (_, rounds) in due.items()}

    def public_key(self, ref: KeyRef) -> CertificateIssuerPublicKeyTypes:
        return self._open(ref).public_key()

    def signing_key(self, ref: KeyRef) -> CertificateIssuerPrivateKeyTypes:
        key = self._open(ref)
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return signing_only(key)

    def exists(self, ref: KeyRef) -> bool:
        return ref.backend == self.name and self._path(ref.label).exists()


def required_setting(settings: Mapping[str, object], kind: str, name: str) -> object:
    """The setting `name` for the `kind` backend; missing or empty is refused."""
    value = settings.get(name)
    if value is None or value == "" or value == b"":
        raise KeyError_(f"The {kind} key backend needs the setting {name!r}.")
    return value


# The backends by the name EKORT_KEY_BACKEND gives: module and class, each with a
# `from_settings`. A backend's module is imported by name when it is first asked for, so
# python-pkcs11 loads only where PKCS#11 keys are used, and this module, which the PKCS#11
# backend builds on, does not import it back.
BACKENDS: dict[str, tuple[str, str]] = {
    "encrypted": (__name__, "EncryptedFileKeyBackend"),
    "pkcs11": ("ekort.pki.pkcs11_keys", "Pkcs11KeyBackend"),
}


def make_key_backend(kind: str, **settings: object) -> KeyBackend:
    """The backend named `kind` (a key of `BACKENDS`), configured from keyword settings.

    "encrypted": directory, passphrase (bytes, or text taken as UTF-8), kdf_rounds.
    "pkcs11": module_path, token_label, user_pin.
    """
    if kind not in BACKENDS:
        known = " or ".join(repr(name) for name in BACKENDS)
        raise KeyError_(f"Unknown key backend {kind[:40]!r}; use {known}.")
    module, class_name = BACKENDS[kind]
    backend: KeyBackend = getattr(importlib.import_module(module), class_name).from_settings(
        settings
    )
    return backend
