"""Key backends for the PKI tests: a private SoftHSM2 token and an encrypted-file directory."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ekort.pki.keys import EncryptedFileKeyBackend
from ekort.pki.pkcs11_keys import Pkcs11KeyBackend
from tests import tools

SOFTHSM_MODULE = str(tools.SOFTHSM.files[0])
TOKEN_LABEL = "ekort-test"
SPARE_TOKEN_LABEL = "ekort-spare"  # never logged in to successfully: for the wrong-PIN test
USER_PIN = "123456"
SO_PIN = "12345678"
PASSPHRASE = b"correct horse battery staple"
# PBKDF2 iterations for the key files these tests write: the production cost (600,000) is
# tested once, in test_keys.py; at that cost each new file would take a fifth of a second.
CHEAP_ROUNDS = 1_000


@dataclass(frozen=True)
class SoftHsm:
    module_path: str
    conf: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf)}


@pytest.fixture(autouse=True)
def cheap_chosen_codes() -> None:
    """The chip's own tests hash the codes a holder chooses at the real cost (the suite's
    conftest makes them cheap everywhere else)."""


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """SoftHSM2 with its own token directory, for the whole test session.

    SoftHSM2 reads SOFTHSM2_CONF once, when the library is first initialised in the process, so
    the configuration and tokens stay the same for the session; tests use distinct key labels.
    """
    tools.require(tools.SOFTHSM)
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n",
        encoding="utf-8",
    )
    hsm = SoftHsm(SOFTHSM_MODULE, conf)
    for label in (TOKEN_LABEL, SPARE_TOKEN_LABEL):
        subprocess.run(
            [
                *("softhsm2-util", "--init-token", "--free", "--label", label),
                *("--pin", USER_PIN, "--so-pin", SO_PIN),
            ],
            env=hsm.env,
            check=True,
            capture_output=True,
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))
        yield hsm


@pytest.fixture(scope="session")
def softhsm_token(softhsm: SoftHsm) -> tuple[str, str, str]:
    """(module_path, token label, user PIN) of an initialised SoftHSM2 token."""
    return softhsm.module_path, TOKEN_LABEL, USER_PIN


@pytest.fixture
def pkcs11_backend(softhsm_token: tuple[str, str, str]) -> Iterator[Pkcs11KeyBackend]:
    backend = Pkcs11KeyBackend(*softhsm_token)
    yield backend
    backend.close()


@pytest.fixture
def encrypted_backend(tmp_path: Path) -> EncryptedFileKeyBackend:
    return EncryptedFileKeyBackend(tmp_path / "keys", PASSPHRASE, kdf_rounds=CHEAP_ROUNDS)
