"""The card chip as a card reader sees it: a virtual card and a SoftHSM2 token behave alike.

The SoftHSM2 token directory comes from the session-wide `softhsm` fixture (conftest.py):
SoftHSM reads its configuration once per process, so every card here is a new token in it,
with a card number of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import stat
import string
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

from ekort.domain.chip import CardChip
from ekort.domain.errors import InvalidInput, Refused
from ekort.pki.card_codes import CHOSEN_CODE_COST, PUK_COST, CodeHash
from ekort.pki.card_token import (
    CardLocked,
    CardReader,
    CardToken,
    KeySlot,
    NotActivated,
    PinBlocked,
    PinNotVerified,
    TokenError,
    WrongCode,
)
from ekort.pki.keys import KeyAlgorithm
from ekort.pki.pkcs11_card import Pkcs11CardReader
from ekort.pki.virtual_card import VirtualCardReader
from tests import tools

PUK = "73920584"
PIN = "482915"
NEW_PIN = "5183627"
SIGNATURE_CODE = "90817263"
NEW_SIGNATURE_CODE = "361904"
WRONG_PIN = "604172"
WRONG_PUK = "11223399"
CODES = (PUK, PIN, NEW_PIN, SIGNATURE_CODE, NEW_SIGNATURE_CODE, WRONG_PIN, WRONG_PUK)
ADMIN_KEY = bytes(range(32))
DATA = b"challenge from a login page"
SRC = Path(__file__).resolve().parents[2] / "src"

ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())


def new_card_number() -> str:
    """Letters only, so that no code can hide in a message that names the card."""
    return "card-" + "".join(random.choices(string.ascii_lowercase, k=12))


def certificate_for(public_key: PublicKeyTypes | None) -> bytes:
    assert isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Holder")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ISSUER_KEY, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def assert_signed(public_key: PublicKeyTypes | None, signature: bytes, data: bytes) -> None:
    """Raises InvalidSignature unless `signature` is the slot key's signature of `data`."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(public_key, rsa.RSAPublicKey)
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


@contextmanager
def refused(error: type[Exception]) -> Iterator[pytest.ExceptionInfo[Exception]]:
    """pytest.raises, and the message names no code used in these tests."""
    with pytest.raises(error) as info:
        yield info
    message = str(info.value)
    assert message
    assert not [code for code in CODES if code in message], message


def wrong_pin(token: CardToken, tries_left: int) -> None:
    with refused(WrongCode) as info:
        token.verify_pin(WRONG_PIN)
    assert isinstance(info.value, WrongCode)
    assert info.value.tries_left == tries_left


def block_pin(token: CardToken) -> None:
    wrong_pin(token, 2)
    wrong_pin(token, 1)
    with refused(PinBlocked):
        token.verify_pin(WRONG_PIN)


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture(params=["virtual", "pkcs11"])
def make_reader(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], CardReader]:
    """A factory, so that a test can open the same cards through a new reader."""
    if request.param == "virtual":
        directory = tmp_path / "cards"
        return lambda: VirtualCardReader(directory)
    softhsm = request.getfixturevalue("softhsm")
    return lambda: Pkcs11CardReader(softhsm.module_path, admin_key=ADMIN_KEY)


@pytest.fixture
def reader(make_reader: Callable[[], CardReader]) -> CardReader:
    return make_reader()


@pytest.fixture
def card(reader: CardReader) -> Iterator[CardToken]:
    """Personalised, no keys, not activated."""
    token = reader.open(new_card_number())
    token.personalise(puk=PUK)
    yield token
    token.close()


@pytest.fixture
def active_card(card: CardToken) -> CardToken:
    """As produced (an AUTH key) and activated with PIN."""
    card.generate_key(KeySlot.AUTH, KeyAlgorithm.EC_P256)
    card.set_pin(PIN)
    return card


# Both implementations ---------------------------------------------------------------------------


def test_personalising_makes_an_inactive_empty_card(reader: CardReader) -> None:
    number = new_card_number()
    assert not reader.exists(number)
    token = reader.open(number)
    with refused(TokenError):
        token.verify_pin(PIN)  # nothing there yet
    token.personalise(puk=PUK)

    assert reader.exists(number)
    assert token.slots_in_use() == []
    assert token.public_key(KeySlot.AUTH) is None
    assert token.certificate(KeySlot.AUTH) is None
    with refused(NotActivated):
        token.verify_pin(PIN)
    with refused(TokenError):
        token.personalise(puk=PUK)
    with refused(InvalidInput):
        reader.open(new_card_number()).personalise(puk="1234")  # a PUK is 8 digits
    token.close()


def test_production_personalises_a_new_card_in_one_go(reader: CardReader) -> None:
    """`personalise_new` then `make_durable` (the batch's path) make the same card as
    personalise, generate_key and put_certificate one after the other."""
    number = new_card_number()
    made: list[bytes] = []

    def certify(public_key: PublicKeyTypes) -> bytes:
        made.append(certificate_for(public_key))
        return made[-1]

    reader.personalise_new(
        number, puk=PUK, slot=KeySlot.AUTH, algorithm=KeyAlgorithm.EC_P256, certify=certify
    )
    reader.make_durable([number])

    assert reader.exists(number)
    token = reader.open(number)
    assert token.slots_in_use() == [KeySlot.AUTH]
    assert token.certificate(KeySlot.AUTH) == made[0]
    with refused(NotActivated):
        token.verify_pin(PIN)
    token.set_pin(PIN)
    assert_signed(token.public_key(KeySlot.AUTH), token.sign(KeySlot.AUTH, DATA, PIN), DATA)
    block_pin(token)
    token.unlock_with_puk(PUK, NEW_PIN)  # the PUK was set
    token.verify_pin(NEW_PIN)
    with refused(TokenError):  # personalised already
        reader.personalise_new(
            number, puk=PUK, slot=KeySlot.AUTH, algorithm=KeyAlgorithm.EC_P256, certify=certify
        )
        reader.make_durable([number])
    assert reader.open(number).certificate(KeySlot.AUTH) == made[0]


def test_a_new_card_refuses_a_certificate_for_another_key(reader: CardReader) -> None:
    number = new_card_number()
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with refused(TokenError):
        reader.personalise_new(
            number,
            puk=PUK,
            slot=KeySlot.AUTH,
            algorithm=KeyAlgorithm.EC_P256,
            certify=lambda _: certificate_for(other),
        )
        reader.make_durable([number])


def test_an_inactive_card_refuses_to_sign(card: CardToken) -> None:
    card.generate_key(KeySlot.AUTH, KeyAlgorithm.EC_P256)
    with refused(NotActivated):
        card.sign(KeySlot.AUTH, DATA, PIN)
    with refused(NotActivated):
        card.unlock_with_puk(PUK, NEW_PIN)
    with refused(NotActivated):
        card.reset_pin(NEW_PIN)


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_2048])
def test_an_activated_card_signs_with_its_auth_key(
    card: CardToken, algorithm: KeyAlgorithm
) -> None:
    public = card.generate_key(KeySlot.AUTH, algorithm)
    card.set_pin(PIN)

    signature = card.sign(KeySlot.AUTH, DATA, PIN)

    assert_signed(public, signature, DATA)
    assert_signed(card.public_key(KeySlot.AUTH), signature, DATA)
    assert card.slots_in_use() == [KeySlot.AUTH]
    with refused(TokenError):
        card.set_pin(NEW_PIN)  # activation happens once


def test_three_wrong_pins_block_the_pin_even_for_the_right_one(active_card: CardToken) -> None:
    wrong_pin(active_card, 2)
    active_card.verify_pin(PIN)  # a right PIN resets the count
    wrong_pin(active_card, 2)
    with refused(WrongCode):
        active_card.sign(KeySlot.AUTH, DATA, WRONG_PIN)  # signing asks for the PIN too
    with refused(PinBlocked):
        active_card.verify_pin(WRONG_PIN)

    with refused(PinBlocked):
        active_card.verify_pin(PIN)
    with refused(PinBlocked):
        active_card.sign(KeySlot.AUTH, DATA, PIN)


def test_the_puk_unblocks_the_pin(active_card: CardToken) -> None:
    block_pin(active_card)
    with refused(WrongCode):
        active_card.unlock_with_puk(WRONG_PUK, NEW_PIN)

    active_card.unlock_with_puk(PUK, NEW_PIN)

    active_card.verify_pin(NEW_PIN)
    wrong_pin(active_card, 2)
    with refused(WrongCode):
        active_card.verify_pin(PIN)  # the old PIN is gone


def test_more_than_ten_wrong_puks_lock_the_card_for_good(active_card: CardToken) -> None:
    for tries_left in range(10, 0, -1):
        with refused(WrongCode) as info:
            active_card.unlock_with_puk(WRONG_PUK, NEW_PIN)
        assert isinstance(info.value, WrongCode)
        assert info.value.tries_left == tries_left
    with refused(CardLocked):
        active_card.unlock_with_puk(WRONG_PUK, NEW_PIN)  # the eleventh

    with refused(CardLocked):
        active_card.unlock_with_puk(PUK, NEW_PIN)
    with refused(CardLocked):
        active_card.verify_pin(PIN)
    with refused(CardLocked):
        active_card.reset_pin(NEW_PIN)


def test_the_right_puk_resets_the_puk_count(active_card: CardToken) -> None:
    for _ in range(10):
        with refused(WrongCode):
            active_card.unlock_with_puk(WRONG_PUK, NEW_PIN)
    active_card.unlock_with_puk(PUK, NEW_PIN)
    with refused(WrongCode) as info:
        active_card.unlock_with_puk(WRONG_PUK, NEW_PIN)
    assert isinstance(info.value, WrongCode)
    assert info.value.tries_left == 10


def test_an_id_administrator_resets_a_blocked_pin(active_card: CardToken) -> None:
    block_pin(active_card)

    active_card.reset_pin(NEW_PIN)

    active_card.verify_pin(NEW_PIN)
    assert_signed(
        active_card.public_key(KeySlot.AUTH),
        active_card.sign(KeySlot.AUTH, DATA, NEW_PIN),
        DATA,
    )


def test_the_signature_key_takes_the_signature_code_not_the_pin(
    reader: CardReader, active_card: CardToken
) -> None:
    active_card.set_signature_code(SIGNATURE_CODE)  # chosen at download (R12)
    with refused(PinNotVerified):
        active_card.generate_key(KeySlot.SIGNATURE, KeyAlgorithm.EC_P256)
    active_card.verify_pin(PIN)  # the holder at the self-service pages
    public = active_card.generate_key(KeySlot.SIGNATURE, KeyAlgorithm.EC_P256)

    with refused(WrongCode) as info:
        active_card.sign(KeySlot.SIGNATURE, DATA, PIN)
    assert isinstance(info.value, WrongCode)
    assert info.value.tries_left == 2
    assert_signed(public, active_card.sign(KeySlot.SIGNATURE, DATA, SIGNATURE_CODE), DATA)
    with refused(WrongCode):
        active_card.sign(KeySlot.AUTH, DATA, SIGNATURE_CODE)  # and the AUTH key wants the PIN

    again = reader.open(active_card.card_number)
    with refused(PinNotVerified):
        again.sign(KeySlot.SIGNATURE, DATA, SIGNATURE_CODE)
    again.close()


def test_three_wrong_signature_codes_block_it_until_a_new_one_is_chosen(
    active_card: CardToken,
) -> None:
    active_card.set_signature_code(SIGNATURE_CODE)
    active_card.verify_pin(PIN)
    public = active_card.generate_key(KeySlot.SIGNATURE, KeyAlgorithm.EC_P256)
    for _ in range(2):
        with refused(WrongCode):
            active_card.sign(KeySlot.SIGNATURE, DATA, NEW_SIGNATURE_CODE)
    with refused(PinBlocked):
        active_card.sign(KeySlot.SIGNATURE, DATA, NEW_SIGNATURE_CODE)
    with refused(PinBlocked):
        active_card.sign(KeySlot.SIGNATURE, DATA, SIGNATURE_CODE)
    active_card.verify_pin(PIN)  # the PIN is not affected

    active_card.set_signature_code(NEW_SIGNATURE_CODE)

    signature = active_card.sign(KeySlot.SIGNATURE, DATA, NEW_SIGNATURE_CODE)
    assert_signed(public, signature, DATA)


def test_a_certificate_must_certify_the_slots_key(card: CardToken) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    with refused(TokenError):
        card.put_certificate(KeySlot.AUTH, certificate_for(stranger))  # empty slot
    public = card.generate_key(KeySlot.AUTH, KeyAlgorithm.EC_P256)

    with refused(TokenError):
        card.put_certificate(KeySlot.AUTH, certificate_for(stranger))
    with refused(TokenError):
        card.put_certificate(KeySlot.AUTH, b"not a certificate")
    assert card.certificate(KeySlot.AUTH) is None

    first, renewed = certificate_for(public), certificate_for(public)
    card.put_certificate(KeySlot.AUTH, first)
    assert card.certificate(KeySlot.AUTH) == first
    card.put_certificate(KeySlot.AUTH, renewed)
    assert card.certificate(KeySlot.AUTH) == renewed


def test_the_additional_slot_is_cleared_and_filled_again(
    reader: CardReader, active_card: CardToken
) -> None:
    auth_certificate = certificate_for(active_card.public_key(KeySlot.AUTH))
    active_card.put_certificate(KeySlot.AUTH, auth_certificate)
    active_card.verify_pin(PIN)
    first = active_card.generate_key(KeySlot.ADDITIONAL, KeyAlgorithm.EC_P256)
    active_card.put_certificate(KeySlot.ADDITIONAL, certificate_for(first))
    assert active_card.slots_in_use() == [KeySlot.AUTH, KeySlot.ADDITIONAL]
    with refused(TokenError):
        active_card.generate_key(KeySlot.ADDITIONAL, KeyAlgorithm.EC_P256)  # replaces nothing

    outsider = reader.open(active_card.card_number)
    with refused(PinNotVerified):
        outsider.clear_slot(KeySlot.ADDITIONAL)
    outsider.close()
    active_card.clear_slot(KeySlot.ADDITIONAL)

    assert active_card.public_key(KeySlot.ADDITIONAL) is None
    assert active_card.certificate(KeySlot.ADDITIONAL) is None
    assert active_card.slots_in_use() == [KeySlot.AUTH]
    assert active_card.certificate(KeySlot.AUTH) == auth_certificate
    second = active_card.generate_key(KeySlot.ADDITIONAL, KeyAlgorithm.EC_P256)
    assert second != first
    assert_signed(second, active_card.sign(KeySlot.ADDITIONAL, DATA, PIN), DATA)


def test_counters_survive_a_new_reader(
    make_reader: Callable[[], CardReader], active_card: CardToken
) -> None:
    wrong_pin(active_card, 2)
    with refused(WrongCode):
        active_card.unlock_with_puk(WRONG_PUK, NEW_PIN)
    active_card.close()

    token = make_reader().open(active_card.card_number)
    wrong_pin(token, 1)
    with refused(WrongCode) as info:
        token.unlock_with_puk(WRONG_PUK, NEW_PIN)
    assert isinstance(info.value, WrongCode)
    assert info.value.tries_left == 9
    token.close()


def test_codes_are_checked_for_form_before_the_card_counts_them(active_card: CardToken) -> None:
    with refused(InvalidInput):
        active_card.verify_pin("12a456")
    with refused(InvalidInput):
        active_card.unlock_with_puk("1234567", NEW_PIN)
    with refused(Refused):
        active_card.reset_pin("111111")  # too easy to guess (E6)
    with refused(Refused):
        active_card.set_signature_code("123456")
    wrong_pin(active_card, 2)  # none of the above counted
    with refused(WrongCode):
        active_card.verify_pin("222222")  # too simple to choose is merely wrong when typed


def test_the_reader_is_the_services_card_chip(reader: CardReader) -> None:
    chip: CardChip = reader
    number = new_card_number()
    reader.open(number).personalise(puk=PUK)

    chip.set_pin(number, PIN)
    token = reader.open(number)
    block_pin(token)
    chip.unlock_pin(number, NEW_PIN)

    token.verify_pin(NEW_PIN)
    token.close()
    with refused(TokenError):
        chip.set_pin(new_card_number(), PIN)  # never personalised


# A wrong PIN in one process counts in the next ----------------------------------------------------

_OTHER_PROCESS = """
import sys
from ekort.pki.card_token import WrongCode
kind, where, number, pin = sys.argv[1:]
if kind == "virtual":
    from ekort.pki.virtual_card import VirtualCardReader
    reader = VirtualCardReader(where)
else:
    from ekort.pki.pkcs11_card import Pkcs11CardReader
    reader = Pkcs11CardReader(where)
try:
    reader.open(number).verify_pin(pin)
except WrongCode as error:
    print(error.tries_left)
"""


def test_a_wrong_pin_in_another_process_counts_here(
    request: pytest.FixtureRequest, reader: CardReader, active_card: CardToken
) -> None:
    env = dict(os.environ)
    if isinstance(reader, VirtualCardReader):
        kind, where = "virtual", str(reader.directory)
    else:
        kind, where = "pkcs11", request.getfixturevalue("softhsm").module_path
    wrong_pin(active_card, 2)
    active_card.close()

    other = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, kind, where, active_card.card_number, WRONG_PIN],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )

    assert other.stdout.strip() == "1", other.stderr
    with refused(PinBlocked):
        reader.open(active_card.card_number).verify_pin(WRONG_PIN)


# The virtual cards' database ----------------------------------------------------------------------

_DATABASE_FILES = {"chips.sqlite3", "chips.sqlite3-wal", "chips.sqlite3-shm"}


def _disk_contents(reader: VirtualCardReader) -> bytes:
    """Every byte the virtual cards have on disk."""
    return b"".join(path.read_bytes() for path in sorted(reader.directory.iterdir()))


def test_the_virtual_cards_database_holds_hashes_not_codes(tmp_path: Path) -> None:
    reader = VirtualCardReader(tmp_path / "cards")
    token = reader.open(new_card_number())
    token.personalise(puk=PUK)
    token.generate_key(KeySlot.AUTH, KeyAlgorithm.EC_P256)
    token.set_pin(PIN)
    token.set_signature_code(SIGNATURE_CODE)
    with refused(WrongCode):
        token.verify_pin(WRONG_PIN)
    with refused(WrongCode):
        token.unlock_with_puk(WRONG_PUK, NEW_PIN)

    assert stat.S_IMODE(reader.directory.stat().st_mode) == 0o700
    names = {path.name for path in reader.directory.iterdir()}
    assert "chips.sqlite3" in names and names <= _DATABASE_FILES  # no lock or temporary files
    for name in names:
        assert stat.S_IMODE((reader.directory / name).stat().st_mode) == 0o600, name
    on_disk = _disk_contents(reader)
    assert not [code for code in CODES if code.encode() in on_disk]
    stored = reader.stored(token.card_number)
    assert set(stored["pin"]) == {"salt", "scrypt", "n"}
    assert set(stored["codes"]["signature_code"]) == {"salt", "scrypt", "n"}
    # The codes the holder chooses keep the full cost; the PUK, drawn and kept by ekort, a
    # salted SHA-256.
    assert stored["pin"]["n"] == stored["codes"]["signature_code"]["n"] == CHOSEN_CODE_COST
    assert set(stored["puk"]) == {"salt", "sha256"}


def _stage(reader: VirtualCardReader, number: str) -> None:
    """A new chip put together, not yet written (`make_durable` writes it)."""
    reader.personalise_new(
        number, puk=PUK, slot=KeySlot.AUTH, algorithm=KeyAlgorithm.EC_P256, certify=certificate_for
    )


def _new_virtual_cards(reader: VirtualCardReader, count: int) -> list[str]:
    numbers = [new_card_number() for _ in range(count)]
    for number in numbers:
        _stage(reader, number)
    reader.make_durable(numbers)  # as production does, before it commits
    return numbers


def test_new_virtual_cards_are_listed_and_seen_by_a_new_reader(tmp_path: Path) -> None:
    reader = VirtualCardReader(tmp_path / "cards")
    numbers = _new_virtual_cards(reader, 20)
    reader.make_durable(numbers)

    again = VirtualCardReader(tmp_path / "cards")
    assert again.numbers() == reader.numbers() == sorted(numbers)
    for number in numbers:
        assert again.exists(number)
        stored = again.stored(number)
        assert "sha256" in stored["puk"] and set(stored["keys"]) == {"auth"}
    assert not again.exists(new_card_number())
    again.set_pin(numbers[0], PIN)
    again.open(numbers[0]).verify_pin(PIN)


# The child process below runs under strace, which shows every wait for the disk (fsync,
# fdatasync) with the file it was for (-y). It writes a line to stderr before each step, so
# that the trace says which step waited.
_TRACED_PROCESS = """
import datetime as dt, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ekort.pki.card_token import KeySlot, WrongCode
from ekort.pki.keys import KeyAlgorithm
from ekort.pki.virtual_card import VirtualCardReader

where, puk, pin, wrong_pin = sys.argv[1:]
issuer = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test")])
now = dt.datetime.now(dt.UTC)

def certify(public_key):
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name)
    builder = builder.public_key(public_key).serial_number(x509.random_serial_number())
    builder = builder.not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
    return builder.sign(issuer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

def step(name):
    os.write(2, f"step {name}\\n".encode())

reader = VirtualCardReader(where)
numbers = [f"card-{i}" for i in range(20)]
reader.exists(numbers[0])  # creates the database
step("personalise_new")
for number in numbers:
    reader.personalise_new(
        number, puk=puk, slot=KeySlot.AUTH, algorithm=KeyAlgorithm.EC_P256, certify=certify
    )
step("make_durable")
reader.make_durable(numbers)
step("set_pin")
reader.set_pin(numbers[0], pin)
step("wrong_pin")
try:
    reader.open(numbers[0]).verify_pin(wrong_pin)
except WrongCode:
    pass
step("end")
"""


def test_a_batch_of_new_virtual_cards_waits_for_the_disk_once(tmp_path: Path) -> None:
    """`personalise_new` does not wait for the disk, `make_durable` waits once for the whole
    batch (the WAL's fsync puts every chip before it on disk), and a code the holder sets or
    gets wrong is on disk before the answer."""
    tools.require(tools.STRACE)
    trace = tmp_path / "trace"
    command = ["strace", "-f", "-qq", "-y", "-e", "trace=write,fsync,fdatasync", "-o", str(trace)]
    command += [sys.executable, "-c", _TRACED_PROCESS, str(tmp_path / "cards")]
    run = subprocess.run(
        [*command, PUK, PIN, WRONG_PIN], capture_output=True, text=True, env=dict(os.environ)
    )
    if run.returncode != 0 and not trace.exists():
        tools.unavailable(f"strace cannot trace here: {run.stderr.strip()}")
    assert run.returncode == 0, run.stderr

    waits: dict[str, list[str]] = {}
    step = "open"
    for line in trace.read_text().splitlines():
        if found := re.search(r'"step (\w+)\\n"', line):
            step = found[1]
            waits[step] = []
        elif (found := re.search(r"f(?:data)?sync\(\d+<([^>]*)>\) = 0", line)) and step in waits:
            waits[step].append(Path(found[1]).name)
    wal = "chips.sqlite3-wal"
    assert waits == {
        "personalise_new": [],
        "make_durable": [wal],
        "set_pin": [wal],
        "wrong_pin": [wal],
        "end": waits["end"],  # the exit: SQLite's last connection checkpoints
    }


def test_a_virtual_card_written_twice_is_refused_and_kept(tmp_path: Path) -> None:
    """Two productions with one number (which `next_card_numbers` prevents): the second is
    refused, and the first chip is left as it was."""
    reader = VirtualCardReader(tmp_path / "cards")
    [number] = _new_virtual_cards(reader, 1)
    reader.make_durable([number])
    first = reader.stored(number)

    other = new_card_number()
    _stage(reader, number)
    _stage(reader, other)
    with refused(TokenError):  # a batch with a number twice
        _stage(reader, other)
    with refused(TokenError) as refusal:  # the stored chip: the whole batch is refused
        reader.make_durable([number, other])
    assert number in str(refusal.value) and other not in str(refusal.value)
    with refused(TokenError):
        reader.open(number).personalise(puk=PUK)
    assert reader.stored(number) == first
    assert reader.numbers() == [number]
    assert reader.existing([number, other, "x-1"]) == {number}


def test_chips_from_card_files_of_before_the_database_are_taken_in(tmp_path: Path) -> None:
    """A demo's folder of `<card number>.card.json` files: its chips are taken in once."""
    first = VirtualCardReader(tmp_path / "first")
    [number] = _new_virtual_cards(first, 1)
    first.set_pin(number, PIN)
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / f"{number}.card.json").write_text(json.dumps(first.stored(number), indent=1))

    reader = VirtualCardReader(folder)
    assert reader.numbers() == [number]
    reader.open(number).verify_pin(PIN)
    wrong_pin(reader.open(number), 2)
    assert (folder / f"{number}.card.json").exists()  # left as it was, and not read again:
    assert VirtualCardReader(folder).stored(number) != first.stored(number)


def test_a_forked_process_uses_a_connection_of_its_own(tmp_path: Path) -> None:
    """A child of a process that has the database open (a web server's worker) opens its own
    connection: SQLite's cannot be used on both sides of a fork. That it does is seen only
    from inside (the damage of sharing one comes later and by chance), hence `_session`. A
    reader the child drops leaves the parent's connection open (`_inherited`)."""
    from ekort.pki import virtual_card

    reader = VirtualCardReader(tmp_path / "cards")
    [number] = _new_virtual_cards(reader, 1)
    reader.set_pin(number, PIN)
    with reader._session() as parents:
        pass

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        status = 1
        try:
            with refused(WrongCode) as info:
                reader.open(number).verify_pin(WRONG_PIN)
            with reader._session() as childs:
                status = 0 if childs is not parents and info.value.tries_left == 2 else 3
            if not any(kept is parents for kept in virtual_card._inherited):
                status = 4
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    wrong_pin(reader.open(number), 1)  # the parent's connection, which saw the child's try
    with reader._session() as still:
        assert still is parents


_WRONG_PUKS = """
import pathlib, sys, time
from ekort.pki.card_token import WrongCode
from ekort.pki.virtual_card import VirtualCardReader
where, number, wrong_puk, new_pin, go = sys.argv[1:]
reader = VirtualCardReader(where)
reader.exists(number)
while not pathlib.Path(go).exists():
    time.sleep(0.001)
for _ in range(4):
    try:
        reader.open(number).unlock_with_puk(wrong_puk, new_pin)
    except WrongCode:
        pass
"""


def test_concurrent_wrong_tries_on_a_virtual_card_in_two_processes_all_count(
    tmp_path: Path,
) -> None:
    reader = VirtualCardReader(tmp_path / "cards")
    number = new_card_number()
    reader.open(number).personalise(puk=PUK)
    reader.set_pin(number, PIN)
    go = tmp_path / "go"
    arguments = [str(reader.directory), number, WRONG_PUK, NEW_PIN, str(go)]
    children = [
        subprocess.Popen([sys.executable, "-c", _WRONG_PUKS, *arguments], env=dict(os.environ))
        for _ in range(2)
    ]
    go.touch()  # both start together, as far as they can
    assert [child.wait(timeout=60) for child in children] == [0, 0]

    with refused(WrongCode) as info:
        reader.open(number).unlock_with_puk(WRONG_PUK, NEW_PIN)
    assert isinstance(info.value, WrongCode)
    assert info.value.tries_left == 11 - 8 - 1


def test_a_code_hash_written_before_its_cost_was_recorded_still_matches() -> None:
    """Chip files from before the cost was stored: their hashes used the full cost."""
    legacy = CodeHash.of(PIN).to_json()
    del legacy["n"]
    restored = CodeHash.from_json(legacy)
    assert restored.matches(PIN)
    assert not restored.matches(WRONG_PIN)
    cheap = CodeHash.from_json(CodeHash.of(PUK, PUK_COST).to_json())
    assert cheap.matches(PUK) and not cheap.matches("87654321")
    salted = {CodeHash.of(PUK, PUK_COST).digest for _ in range(2)}
    assert len(salted) == 2  # salted: the same PUK twice gives two hashes


def test_concurrent_wrong_tries_on_a_virtual_card_all_count(tmp_path: Path) -> None:
    reader = VirtualCardReader(tmp_path / "cards")
    number = new_card_number()
    reader.open(number).personalise(puk=PUK)
    reader.set_pin(number, PIN)
    errors: list[BaseException] = []

    def wrong_puks() -> None:
        token = reader.open(number)  # each thread its own open card and lock file handle
        for _ in range(4):
            try:
                token.unlock_with_puk(WRONG_PUK, NEW_PIN)
            except WrongCode:
                pass
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

    threads = [threading.Thread(target=wrong_puks) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with refused(WrongCode) as info:
        reader.open(number).unlock_with_puk(WRONG_PUK, NEW_PIN)
    assert isinstance(info.value, WrongCode)
    assert info.value.tries_left == 11 - 8 - 1


# The SoftHSM2 token, seen by other tools ---------------------------------------------------------


@pytest.fixture
def pkcs11_reader(softhsm: Any) -> Pkcs11CardReader:
    return Pkcs11CardReader(softhsm.module_path, admin_key=ADMIN_KEY)


def _pkcs11_tool(softhsm: Any, number: str, *options: str) -> str:
    tools.require(tools.PKCS11_TOOL)
    result = subprocess.run(
        ["pkcs11-tool", "--module", softhsm.module_path, "--token-label", number, *options],
        capture_output=True,
        text=True,
        check=True,
        env=softhsm.env,
    )
    return result.stdout


def test_pkcs11_tool_sees_the_certificate_and_a_key_it_cannot_extract(
    softhsm: Any,
    pkcs11_reader: Pkcs11CardReader,
) -> None:
    number = new_card_number()
    token = pkcs11_reader.open(number)
    token.personalise(puk=PUK)
    public = token.generate_key(KeySlot.AUTH, KeyAlgorithm.EC_P256)
    token.put_certificate(KeySlot.AUTH, certificate_for(public))
    token.set_pin(PIN)
    token.close()

    public_view = _pkcs11_tool(softhsm, number, "--list-objects")
    certificate = public_view.split("Certificate Object; type = X.509 cert", 1)[1]
    assert "label:      auth" in certificate
    assert "ID:         01" in certificate
    assert "CN=Test Holder" in certificate
    assert "Private Key Object" not in public_view  # no login, no private objects

    holder_view = _pkcs11_tool(softhsm, number, "--login", "--pin", PIN, "--list-objects")
    private = holder_view.split("Private Key Object", 1)[1].split("Object", 1)[0]
    assert "label:      auth" in private
    assert "ID:         01" in private
    assert "sensitive" in private
    assert "never extractable" in private
    assert "Usage:      sign" in private


def test_the_pkcs11_card_state_holds_no_codes(
    softhsm: Any,
    pkcs11_reader: Pkcs11CardReader,
) -> None:
    number = new_card_number()
    token = pkcs11_reader.open(number)
    token.personalise(puk=PUK)
    token.set_pin(PIN)
    token.set_signature_code(SIGNATURE_CODE)
    token.close()

    module = pkcs11.lib(os.path.realpath(softhsm.module_path))  # the spelling ekort uses
    with module.get_token(token_label=number).open() as session:
        found = list(
            session.get_objects(
                {
                    pkcs11.Attribute.CLASS: pkcs11.ObjectClass.DATA,
                    pkcs11.Attribute.LABEL: "ekort-card-state",
                }
            )
        )
        assert len(found) == 1
        text = bytes(found[0][pkcs11.Attribute.VALUE]).decode()
    assert not [code for code in CODES if code in text]
    assert json.loads(text)["codes"]["activated"] is True

    without_key = Pkcs11CardReader(softhsm.module_path)
    with refused(TokenError):
        without_key.open(number).reset_pin(NEW_PIN)
    with refused(TokenError):
        without_key.open(new_card_number()).personalise(puk=PUK)


def test_the_pkcs11_signature_key_sits_behind_the_signature_code_in_a_slot_of_its_own(
    softhsm: Any,
    pkcs11_reader: Pkcs11CardReader,
    tmp_path: Path,
) -> None:
    """As OpenSC presents a card with two PINs: one slot per PIN. The card's own token (the
    PIN) holds the authentication key; the signature key is on a second token, labelled
    'PIN2 <card number>', whose user PIN is the signature code. Any PKCS#11 program can sign
    with it after the signature code, and with nothing else."""
    number = new_card_number()
    token = pkcs11_reader.open(number)
    token.personalise(puk=PUK)
    token.generate_key(KeySlot.AUTH, KeyAlgorithm.EC_P256)
    token.set_pin(PIN)
    token.verify_pin(PIN)
    token.set_signature_code(SIGNATURE_CODE)
    public = token.generate_key(KeySlot.SIGNATURE, KeyAlgorithm.EC_P256)
    token.put_certificate(KeySlot.SIGNATURE, certificate_for(public))
    stored = token.certificate(KeySlot.SIGNATURE)
    assert stored is not None
    assert x509.load_der_x509_certificate(stored).public_key() == public
    token.close()
    signature_token = f"PIN2 {number}"

    holder_view = _pkcs11_tool(softhsm, number, "--login", "--pin", PIN, "--list-objects")
    assert "label:      auth" in holder_view
    assert "label:      signature" not in holder_view  # not on the PIN's token at all

    (tmp_path / "data").write_bytes(hashlib.sha256(DATA).digest())

    def sign_with(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *("pkcs11-tool", "--module", softhsm.module_path),
                *("--token-label", signature_token, "--login", "--pin", code),
                *("--sign", "--id", "02", "--mechanism", "ECDSA"),
                *("--signature-format", "openssl"),
                *("--input-file", str(tmp_path / "data"), "--output-file", str(tmp_path / "sig")),
            ],
            capture_output=True,
            text=True,
            check=False,
            env=softhsm.env,
        )

    with_pin = sign_with(PIN)
    assert with_pin.returncode != 0, with_pin.stdout + with_pin.stderr
    assert "CKR_PIN_INCORRECT" in with_pin.stdout + with_pin.stderr
    with_code = sign_with(SIGNATURE_CODE)
    assert with_code.returncode == 0, with_code.stdout + with_code.stderr
    assert_signed(public, (tmp_path / "sig").read_bytes(), DATA)

    # The card's wrong try through another program is not counted by ekort (SoftHSM counts
    # none), but ekort's own tries are, on the card: three wrong codes block it.
    again = pkcs11_reader.open(number)
    again.verify_pin(PIN)
    for tries_left in (2, 1):
        with refused(WrongCode) as info:
            again.sign(KeySlot.SIGNATURE, DATA, PIN)
        assert isinstance(info.value, WrongCode)
        assert info.value.tries_left == tries_left
    with refused(PinBlocked):
        again.sign(KeySlot.SIGNATURE, DATA, PIN)
    again.close()
