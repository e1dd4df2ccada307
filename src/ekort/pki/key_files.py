"""Encrypted PKCS#8 key files at a chosen cost.

The file is what `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter N` writes:
an EncryptedPrivateKeyInfo (RFC 5958) under PBES2 (RFC 8018), the key derived from the
passphrase with PBKDF2-HMAC-SHA256 at N iterations and the PKCS#8 encrypted with AES-256-CBC.
`cryptography` reads such a file at any cost, but writes one only at OpenSSL's fixed 2,048
iterations (`BestAvailableEncryption`; its encryption builder serves OpenSSH and PKCS#12, not
PKCS#8), so the structure is put together here with asn1crypto, and the key derivation and
encryption are cryptography's.
"""

from __future__ import annotations

import base64
import os
import textwrap

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

# OWASP Password Storage Cheat Sheet: 600,000 iterations of PBKDF2-HMAC-SHA256.
PBKDF2_ROUNDS = 600_000
_PEM_LABEL = "ENCRYPTED PRIVATE KEY"


def encrypt(key: PrivateKeyTypes, passphrase: bytes, rounds: int = PBKDF2_ROUNDS) -> bytes:
    """The key as a PEM EncryptedPrivateKeyInfo, PBKDF2 at `rounds` iterations."""
    if rounds < 1:
        raise ValueError("PBKDF2 takes at least one iteration.")
    plain = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    salt, iv = os.urandom(16), os.urandom(16)
    secret = PBKDF2HMAC(hashes.SHA256(), 32, salt, rounds).derive(passphrase)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    scheme = {
        "algorithm": "pbes2",
        "parameters": {
            "key_derivation_func": {
                "algorithm": "pbkdf2",
                "parameters": {
                    "salt": algos.Pbkdf2Salt(name="specified", value=salt),
                    "iteration_count": rounds,
                    "prf": {"algorithm": "sha256", "parameters": None},
                },
            },
            "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
        },
    }
    info = asn1_keys.EncryptedPrivateKeyInfo(
        {"encryption_algorithm": scheme, "encrypted_data": encrypted}
    )
    body = "\n".join(textwrap.wrap(base64.b64encode(info.dump()).decode("ascii"), 64))
    return f"-----BEGIN {_PEM_LABEL}-----\n{body}\n-----END {_PEM_LABEL}-----\n".encode("ascii")


def kdf_rounds(pem: bytes) -> int | None:
    """The PBKDF2 iterations of an encrypted PKCS#8 file; None when it is encrypted otherwise
    (scrypt, PBES1) or cannot be read as one."""
    text = pem.decode("ascii", errors="replace")
    begin, end = f"-----BEGIN {_PEM_LABEL}-----", f"-----END {_PEM_LABEL}-----"
    if begin not in text or end not in text:
        return None
    try:
        der = base64.b64decode(text.split(begin, 1)[1].split(end, 1)[0])
        algorithm = asn1_keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]
        if algorithm["algorithm"].native != "pbes2":
            return None
        derivation = algorithm["parameters"]["key_derivation_func"]
        if derivation["algorithm"].native != "pbkdf2":
            return None
        rounds: int = derivation["parameters"]["iteration_count"].native
    except (ValueError, TypeError, KeyError):
        return None
    return rounds
