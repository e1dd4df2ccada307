"""Both key backends: keys are created, sign certificates and CRLs that verify, and never give
up their private bytes."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import stat
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from ekort.pki import key_files, keys
from ekort.pki.keys import (
    EncryptedFileKeyBackend,
    KeyAlgorithm,
    KeyBackend,
    KeyError_,
    KeyRef,
    make_key_backend,
)
from ekort.pki.pkcs11_keys import Pkcs11KeyBackend, key_id
from tests import tools

from .conftest import CHEAP_ROUNDS, PASSPHRASE, SPARE_TOKEN_LABEL, TOKEN_LABEL, USER_PIN, SoftHsm

BACKENDS = ["encrypted", "pkcs11"]
NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

# rsa-3072 on one backend only: the slowest key to generate, and the token is the one to prove.
ALGORITHM_CASES = [
    pytest.param(kind, algorithm, id=f"{kind}-{algorithm.value}")
    for kind in BACKENDS
    for algorithm in (KeyAlgorithm.EC_P256, KeyAlgorithm.EC_P384, KeyAlgorithm.RSA_2048)
] + [pytest.param("pkcs11", KeyAlgorithm.RSA_3072, id="pkcs11-rsa-3072")]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> KeyBackend:
    return request.getfixturevalue(f"{request.param}_backend")


def new_label() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def hash_for(algorithm: KeyAlgorithm) -> hashes.HashAlgorithm:
    return hashes.SHA384() if algorithm is KeyAlgorithm.EC_P384 else hashes.SHA256()


def self_signed(
    backend: KeyBackend,
    ref: KeyRef,
    algorithm: hashes.HashAlgorithm,
    rsa_padding: padding.PSS | padding.PKCS1v15 | None = None,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ekort test {ref.label}")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(backend.public_key(ref))
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(backend.signing_key(ref), algorithm, rsa_padding=rsa_padding)
    )


def crl(
    backend: KeyBackend, ref: KeyRef, issuer: x509.Certificate
) -> x509.CertificateRevocationList:
    revoked = (
        x509.RevokedCertificateBuilder()
        .serial_number(4711)
        .revocation_date(NOW + dt.timedelta(hours=1))
        .build()
    )
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(NOW + dt.timedelta(hours=2))
        .next_update(NOW + dt.timedelta(hours=26))
        .add_revoked_certificate(revoked)
        .sign(backend.signing_key(ref), issuer.signature_hash_algorithm)
    )


@pytest.mark.parametrize(("kind", "algorithm"), ALGORITHM_CASES)
def test_a_new_key_signs_a_certificate_and_a_crl_that_verify(
    request: pytest.FixtureRequest, kind: str, algorithm: KeyAlgorithm
) -> None:
    backend: KeyBackend = request.getfixturevalue(f"{kind}_backend")
    ref = backend.create_key(new_label(), algorithm)
    assert ref.backend == kind
    assert backend.exists(ref)

    public = backend.public_key(ref)
    if algorithm.is_rsa:
        assert isinstance(public, rsa.RSAPublicKey)
        assert public.key_size == algorithm.rsa_bits
        assert public.public_numbers().e == 65537
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        assert public.curve.name == algorithm.curve.name

    cert = self_signed(backend, ref, hash_for(algorithm))
    cert.verify_directly_issued_by(cert)
    assert cert.public_key() == public

    revocations = crl(backend, ref, cert)
    assert revocations.is_signature_valid(public)
    assert revocations.get_revoked_certificate_by_serial_number(4711) is not None


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        (KeyAlgorithm.EC_P256, hashes.SHA512()),  # a digest longer than the curve: truncated
        (KeyAlgorithm.EC_P384, hashes.SHA256()),
        (KeyAlgorithm.RSA_2048, hashes.SHA384()),
        (KeyAlgorithm.RSA_2048, hashes.SHA512()),
    ],
    ids=lambda value: getattr(value, "value", None) or getattr(value, "name", None),
)
def test_other_hash_algorithms(
    backend: KeyBackend, algorithm: KeyAlgorithm, digest: hashes.HashAlgorithm
) -> None:
    ref = backend.create_key(new_label(), algorithm)
    cert = self_signed(backend, ref, digest)
    cert.verify_directly_issued_by(cert)
    assert isinstance(cert.signature_hash_algorithm, type(digest))


@pytest.mark.parametrize(
    ("salt", "salt_length"),
    [(padding.PSS.DIGEST_LENGTH, 32), (padding.PSS.MAX_LENGTH, 256 - 32 - 2), (20, 20)],
    ids=["digest-length", "max-length", "20"],
)
def test_rsa_pss(
    backend: KeyBackend,
    salt: int | padding._MaxLength | padding._DigestLength,
    salt_length: int,
) -> None:
    ref = backend.create_key(new_label(), KeyAlgorithm.RSA_2048)
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), salt)
    cert = self_signed(backend, ref, hashes.SHA256(), rsa_padding=pss)
    cert.verify_directly_issued_by(cert)
    assert cert.signature_algorithm_parameters == padding.PSS(
        padding.MGF1(hashes.SHA256()), salt_length
    )


def test_private_key_material_is_not_obtainable(backend: KeyBackend) -> None:
    ref = backend.create_key(new_label(), KeyAlgorithm.EC_P256)
    key = backend.signing_key(ref)
    with pytest.raises(PermissionError):
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    with pytest.raises(PermissionError):
        key.private_numbers()


def test_the_key_survives_reopening(
    backend: KeyBackend, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ref = backend.create_key(new_label(), KeyAlgorithm.EC_P256)
    public = backend.public_key(ref)
    if isinstance(backend, Pkcs11KeyBackend):
        reopened: KeyBackend = Pkcs11KeyBackend(*request.getfixturevalue("softhsm_token"))
    else:
        reopened = EncryptedFileKeyBackend(tmp_path / "keys", PASSPHRASE, kdf_rounds=CHEAP_ROUNDS)
    assert reopened.exists(ref)
    assert reopened.public_key(ref) == public
    cert = self_signed(reopened, ref, hashes.SHA256())
    cert.verify_directly_issued_by(cert)
    if isinstance(backend, Pkcs11KeyBackend) and isinstance(reopened, Pkcs11KeyBackend):
        # Closing one logged-in session logs the whole process out; the other logs in again.
        backend.close()
        cert = self_signed(reopened, ref, hashes.SHA256())
        cert.verify_directly_issued_by(cert)
        reopened.close()


def test_a_label_is_never_reused(backend: KeyBackend) -> None:
    label = new_label()
    ref = backend.create_key(label, KeyAlgorithm.EC_P256)
    public = backend.public_key(ref)
    with pytest.raises(KeyError_, match="exists already"):
        backend.create_key(label, KeyAlgorithm.RSA_2048)
    assert backend.public_key(ref) == public


def test_an_unknown_label_is_a_key_error(backend: KeyBackend) -> None:
    ref = KeyRef(backend.name, new_label())
    assert not backend.exists(ref)
    with pytest.raises(KeyError_, match="No"):
        backend.public_key(ref)
    with pytest.raises(KeyError_, match="No"):
        backend.signing_key(ref)


def test_a_bad_label_or_foreign_ref_is_refused(backend: KeyBackend) -> None:
    with pytest.raises(KeyError_, match="label"):
        backend.create_key("../escape", KeyAlgorithm.EC_P256)
    other = "pkcs11" if backend.name == "encrypted" else "encrypted"
    assert not backend.exists(KeyRef(other, "anything"))
    with pytest.raises(KeyError_, match="does not belong"):
        backend.signing_key(KeyRef(other, "anything"))


# --- PKCS#11 only ---


def object_blocks(listing: str) -> list[str]:
    """pkcs11-tool --list-objects prints one block per object, each starting at column 0."""
    return [block for block in re.split(r"\n(?=\S)", listing) if block.strip()]


def test_pkcs11_tool_shows_the_private_key_sensitive_and_never_extractable(
    pkcs11_backend: Pkcs11KeyBackend, softhsm: SoftHsm
) -> None:
    tools.require(tools.PKCS11_TOOL)
    label = new_label()
    pkcs11_backend.create_key(label, KeyAlgorithm.EC_P256)
    listing = subprocess.run(
        [
            *("pkcs11-tool", "--module", softhsm.module_path, "--token-label", TOKEN_LABEL),
            *("--login", "--pin", USER_PIN, "--list-objects"),
        ],
        env=softhsm.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    mine = [block for block in object_blocks(listing) if re.search(rf"label:\s+{label}\n", block)]
    private = [block for block in mine if block.startswith("Private Key Object; EC")]
    public = [block for block in mine if block.startswith("Public Key Object; EC")]
    assert len(private) == 1 and len(public) == 1, listing
    access = re.search(r"Access:\s+(.*)", private[0])
    assert access is not None, private[0]
    flags = {flag.strip() for flag in access.group(1).split(",")}
    assert {"sensitive", "always sensitive", "never extractable", "local"} <= flags
    assert re.search(r"Usage:\s+sign\n", private[0] + "\n")
    # Both halves carry the same CKA_ID, derived from the label.
    ids = {re.findall(r"ID:\s+(\w+)", block)[0] for block in mine}
    assert ids == {key_id(label).hex()}


def test_pkcs11_signs_from_several_threads(pkcs11_backend: Pkcs11KeyBackend) -> None:
    ref = pkcs11_backend.create_key(new_label(), KeyAlgorithm.EC_P256)
    key = pkcs11_backend.signing_key(ref)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    public = key.public_key()
    ecdsa = ec.ECDSA(hashes.SHA256())
    failures: list[BaseException] = []

    def sign_some(worker: int) -> None:
        try:
            for round_ in range(10):
                data = f"{worker}-{round_}".encode()
                public.verify(key.sign(data, ecdsa), data, ecdsa)
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=sign_some, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_pkcs11_wrong_pin_is_a_key_error_without_the_pin(softhsm: SoftHsm) -> None:
    # The spare token: nobody in this process is logged in to it, so the PIN is really checked.
    wrong_pin = "987650"
    backend = Pkcs11KeyBackend(softhsm.module_path, SPARE_TOKEN_LABEL, wrong_pin)
    with pytest.raises(KeyError_, match="Wrong PIN") as raised:
        backend.exists(KeyRef("pkcs11", "anything"))
    assert wrong_pin not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is not None
    assert wrong_pin not in repr(backend)
    # The right PIN still works afterwards.
    right = Pkcs11KeyBackend(softhsm.module_path, SPARE_TOKEN_LABEL, USER_PIN)
    assert not right.exists(KeyRef("pkcs11", "anything"))
    right.close()


def test_pkcs11_a_second_backend_with_another_pin_is_refused(
    pkcs11_backend: Pkcs11KeyBackend, softhsm_token: tuple[str, str, str]
) -> None:
    # The token is logged in (PKCS#11 logins are per process); another PIN must not ride on it.
    module_path, token_label, _ = softhsm_token
    assert not pkcs11_backend.exists(KeyRef("pkcs11", new_label()))
    wrong_pin = "246810"
    intruder = Pkcs11KeyBackend(module_path, token_label, wrong_pin)
    with pytest.raises(KeyError_, match="Wrong PIN") as raised:
        intruder.exists(KeyRef("pkcs11", "anything"))
    assert wrong_pin not in str(raised.value)
    assert not pkcs11_backend.exists(KeyRef("pkcs11", new_label()))


def test_pkcs11_missing_token_or_module_is_a_key_error(softhsm: SoftHsm) -> None:
    with pytest.raises(KeyError_, match="No token labelled 'no-such-token'"):
        Pkcs11KeyBackend(softhsm.module_path, "no-such-token", USER_PIN).exists(
            KeyRef("pkcs11", "x")
        )
    with pytest.raises(KeyError_, match="does not exist"):
        Pkcs11KeyBackend("/nonexistent/libpkcs11.so", TOKEN_LABEL, USER_PIN).exists(
            KeyRef("pkcs11", "x")
        )


# --- encrypted files only ---


def test_encrypted_wrong_passphrase_is_a_key_error(tmp_path: Path) -> None:
    backend = EncryptedFileKeyBackend(tmp_path, PASSPHRASE, kdf_rounds=CHEAP_ROUNDS)
    ref = backend.create_key("ca", KeyAlgorithm.EC_P256)
    stranger = EncryptedFileKeyBackend(tmp_path, b"not the passphrase at all")
    with pytest.raises(KeyError_, match="wrong passphrase") as raised:
        stranger.signing_key(ref)
    assert "not the passphrase" not in str(raised.value)


def test_encrypted_key_file_is_private_and_encrypted(
    encrypted_backend: EncryptedFileKeyBackend, tmp_path: Path
) -> None:
    encrypted_backend.create_key("ca", KeyAlgorithm.RSA_2048)
    path = tmp_path / "keys" / "ca.p8.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = path.read_text(encoding="ascii")
    assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert pem.rstrip().endswith("-----END ENCRYPTED PRIVATE KEY-----")


def file_rounds(path: Path) -> int | None:
    return key_files.kdf_rounds(path.read_bytes())


def test_a_new_key_file_is_pbes2_at_the_backends_cost(tmp_path: Path) -> None:
    backend = EncryptedFileKeyBackend(tmp_path, PASSPHRASE, kdf_rounds=CHEAP_ROUNDS)
    ref = backend.create_key("ca", KeyAlgorithm.EC_P256)
    path = tmp_path / "ca.p8.pem"
    assert file_rounds(path) == CHEAP_ROUNDS
    # Any PKCS#8 reader opens it: cryptography here, OpenSSL below.
    opened = serialization.load_pem_private_key(path.read_bytes(), PASSPHRASE)
    assert opened.public_key() == backend.public_key(ref)
    tools.require(tools.OPENSSL)
    described = subprocess.run(
        ["openssl", "asn1parse", "-in", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r":PBES2\n.*:PBKDF2\n", described, re.S), described
    assert ":hmacWithSHA256" in described and ":aes-256-cbc" in described


def test_the_production_cost_is_owasps_figure(tmp_path: Path) -> None:
    """Once, at the real cost: a new file takes OWASP's 600,000 PBKDF2-HMAC-SHA256 iterations
    (the figure settings hold production to), where cryptography's own encryption of PKCS#8
    gives 2,048."""
    from django.conf import settings

    assert keys.PBKDF2_ROUNDS == 600_000 == settings.KEY_FILE_KDF_ROUNDS
    ref = EncryptedFileKeyBackend(tmp_path, PASSPHRASE).create_key("ca", KeyAlgorithm.EC_P256)
    assert file_rounds(tmp_path / "ca.p8.pem") == 600_000
    assert EncryptedFileKeyBackend(tmp_path, PASSPHRASE).exists(ref)


def write_old_file(
    directory: Path, label: str, passphrase: bytes = PASSPHRASE
) -> ec.EllipticCurvePrivateKey:
    """A key file as ekort wrote them before: cryptography's PKCS#8 at 2,048 iterations."""
    key = ec.generate_private_key(ec.SECP256R1())
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{label}.p8.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
    )
    path.chmod(0o600)
    return key


def test_an_old_key_file_still_opens_and_says_it_is_cheap(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = write_old_file(tmp_path, "old-ca")
    assert file_rounds(tmp_path / "old-ca.p8.pem") == 2048
    backend = EncryptedFileKeyBackend(tmp_path, PASSPHRASE, kdf_rounds=CHEAP_ROUNDS * 4)
    with caplog.at_level("WARNING", logger="ekort.pki.keys"):
        assert backend.public_key(KeyRef("encrypted", "old-ca")) == old.public_key()
    assert "old-ca" in caplog.text and "2,048" in caplog.text
    assert "ekort ca reencrypt" in caplog.text


def test_reencrypting_brings_old_files_to_the_cost_and_keeps_the_keys(tmp_path: Path) -> None:
    old = write_old_file(tmp_path, "old-ca")
    backend = EncryptedFileKeyBackend(tmp_path, PASSPHRASE, kdf_rounds=CHEAP_ROUNDS * 4)
    new = backend.create_key("new-ca", KeyAlgorithm.EC_P256)
    new_public = backend.public_key(new)
    assert backend.reencrypt() == {"old-ca": 2048}  # the new file is at the cost already
    assert file_rounds(tmp_path / "old-ca.p8.pem") == CHEAP_ROUNDS * 4
    assert stat.S_IMODE((tmp_path / "old-ca.p8.pem").stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["new-ca.p8.pem", "old-ca.p8.pem"]
    fresh = EncryptedFileKeyBackend(tmp_path, PASSPHRASE, kdf_rounds=CHEAP_ROUNDS * 4)
    assert fresh.public_key(KeyRef("encrypted", "old-ca")) == old.public_key()
    assert fresh.public_key(new) == new_public
    assert fresh.reencrypt() == {}


def test_reencrypting_under_a_new_passphrase(tmp_path: Path) -> None:
    old_passphrase = b"the passphrase of a previous year"
    old = write_old_file(tmp_path, "ca", passphrase=old_passphrase)
    backend = EncryptedFileKeyBackend(tmp_path, PASSPHRASE, kdf_rounds=CHEAP_ROUNDS)
    with pytest.raises(KeyError_, match="wrong passphrase") as raised:
        backend.reencrypt(old_passphrase=b"not the old passphrase either")
    assert "either" not in str(raised.value)
    assert file_rounds(tmp_path / "ca.p8.pem") == 2048  # untouched
    assert backend.reencrypt(old_passphrase=old_passphrase) == {"ca": 2048}
    assert backend.public_key(KeyRef("encrypted", "ca")) == old.public_key()
    with pytest.raises(ValueError, match="password"):
        serialization.load_pem_private_key((tmp_path / "ca.p8.pem").read_bytes(), old_passphrase)


def test_encrypted_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError_, match="at least 16 bytes"):
        EncryptedFileKeyBackend(tmp_path, b"short")


# --- the factory ---


def test_make_key_backend(tmp_path: Path) -> None:
    encrypted = make_key_backend("encrypted", directory=tmp_path, passphrase=PASSPHRASE.decode())
    assert isinstance(encrypted, EncryptedFileKeyBackend)
    # Constructing a PKCS#11 backend touches nothing; the token is opened on first use.
    settings = {"module_path": "/nowhere/lib.so", "token_label": "ca", "user_pin": "1234"}
    token = make_key_backend("pkcs11", **settings)
    assert isinstance(token, Pkcs11KeyBackend)
    assert token.name == "pkcs11"
    with pytest.raises(KeyError_, match="Unknown key backend"):
        make_key_backend("vault")
    with pytest.raises(KeyError_, match="needs the setting 'user_pin'"):
        make_key_backend("pkcs11", module_path="/nowhere/lib.so", token_label="ca")
    with pytest.raises(KeyError_, match="at least 16 bytes"):
        make_key_backend("encrypted", directory=tmp_path, passphrase=b"short")


def test_the_factory_table_names_each_backend_by_its_own_name() -> None:
    """`make_key_backend` finds backends by module and class name, written as text so that
    `keys` need not import `pkcs11_keys`; the names must stay true."""
    assert sorted(keys.BACKENDS) == sorted(BACKENDS)
    for kind, (module, class_name) in keys.BACKENDS.items():
        assert getattr(importlib.import_module(module), class_name).name == kind
