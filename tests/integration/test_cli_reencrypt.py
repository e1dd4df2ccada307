"""`ekort ca reencrypt`: old key files (PBKDF2 at 2,048 iterations) rewritten at the configured
cost, under the same or a new passphrase, keys unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command

from ekort.pki import key_files
from ekort.services.ca import backends

OLD_PASSPHRASE = "the passphrase the files were written with"


def old_file(directory: Path, label: str, passphrase: str) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{label}.p8.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    return key


def rounds(directory: Path, label: str) -> int | None:
    return key_files.kdf_rounds((directory / f"{label}.p8.pem").read_bytes())


def reencrypt(*args: str) -> str:
    out = io.StringIO()
    call_command("ca", "reencrypt", *args, stdout=out)
    return out.getvalue()


def test_old_files_are_brought_to_the_cost(settings):
    settings.EKORT_KEY_KDF_ROUNDS = 4_096  # above the old files' cost, cheap for a test
    backends.reset()
    directory = Path(settings.EKORT_KEY_DIR)
    keys = {label: old_file(directory, label, settings.EKORT_KEY_PASSPHRASE) for label in "ab"}
    said = reencrypt()
    cost = settings.EKORT_KEY_KDF_ROUNDS
    assert f"a: 2,048 -> {cost:,} PBKDF2 iterations" in said
    assert "Re-encrypted 2 key files" in said
    for label, key in keys.items():
        assert rounds(directory, label) == cost
        opened = serialization.load_pem_private_key(
            (directory / f"{label}.p8.pem").read_bytes(), settings.EKORT_KEY_PASSPHRASE.encode()
        )
        assert opened.public_key() == key.public_key()
    assert "Re-encrypted 0 key files" in reencrypt()  # nothing left to do


def test_a_new_passphrase(settings, tmp_path):
    directory = Path(settings.EKORT_KEY_DIR)
    key = old_file(directory, "root", OLD_PASSPHRASE)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the old passphrase at all\n", encoding="utf-8")
    with pytest.raises(CommandError, match="wrong passphrase") as raised:
        reencrypt("--old-passphrase-file", str(wrong))
    assert "at all" not in str(raised.value)
    assert rounds(directory, "root") == 2048
    right = tmp_path / "old"
    right.write_text(OLD_PASSPHRASE + "\n", encoding="utf-8")
    assert "Re-encrypted 1 key file" in reencrypt("--old-passphrase-file", str(right))
    backends.reset()
    opened = backends.key_backend().public_key(backends.KeyRef("encrypted", "root"))
    assert opened == key.public_key()


def test_keys_on_a_token_are_no_files(settings):
    settings.EKORT_KEY_BACKEND = "pkcs11"
    backends.reset()
    with pytest.raises(CommandError, match="EKORT_KEY_BACKEND=encrypted"):
        reencrypt()
