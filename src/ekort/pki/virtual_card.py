"""Virtual cards for the demo and tests: one row per card in a SQLite file stands in for the chip.

The row IS the simulated chip (the chip's JSON, keyed by card number), so it holds the card's
private keys (PKCS#8 DER): the only place outside a key backend that holds private key bytes,
and only for virtual cards. The PIN, the PUK and the signature code are kept as salted
hashes only: scrypt for the codes the holder chooses, SHA-256 for the PUK (`card_codes.PUK_COST`).

All chips of a directory live in one database, `chips.sqlite3` (mode 0600, directory 0700), in
WAL mode: one file for all cards instead of one file per card, because creating a file costs
more than everything else production does for a card (0.2-1 ms on a busy disk). Several
processes use it at once: each update reads and writes the chip in one `BEGIN IMMEDIATE`
transaction (the database's write lock, waited for up to `_BUSY_TIMEOUT`), so a wrong PIN in
one process counts in the next. An update the holder depends on (a wrong try, a new PIN) is
committed with `synchronous=FULL`: on disk before the answer. Production puts each new chip
together in memory (`personalise_new`) and writes a whole batch's chips in one transaction that
waits for the disk once (`make_durable`): one turn of the write lock per batch, so producers
running side by side (`ekort bulk --workers`) do not queue for it card by card.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from ekort.domain.pins import validate_pin, validate_puk

from .card_codes import PUK_COST, CardCodes, CodeHash, entered_pin, from_base64, to_base64
from .card_token import (
    CardChipReader,
    KeySlot,
    TokenError,
    check_card_number,
    check_certificate,
)
from .keys import KeyAlgorithm, generate_private_key


@dataclass
class _Chip:
    """Everything on one virtual card."""

    codes: CardCodes
    puk: CodeHash
    pin: CodeHash | None = None
    keys: dict[KeySlot, bytes] = field(default_factory=dict)  # PKCS#8 DER
    certificates: dict[KeySlot, bytes] = field(default_factory=dict)  # X.509 DER

    def private_key(self, slot: KeySlot) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
        der = self.keys.get(slot)
        if der is None:
            raise TokenError(f"The card has no key in the {slot} slot.")
        key = serialization.load_der_private_key(der, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        return key

    def public_key(self, slot: KeySlot) -> PublicKeyTypes | None:
        return self.private_key(slot).public_key() if slot in self.keys else None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "codes": self.codes.to_json(),
            "puk": self.puk.to_json(),
            "pin": self.pin and self.pin.to_json(),
            "keys": {slot.value: to_base64(der) for slot, der in self.keys.items()},
            "certificates": {slot.value: to_base64(der) for slot, der in self.certificates.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Chip:
        return cls(
            codes=CardCodes.from_json(data["codes"]),
            puk=CodeHash.from_json(data["puk"]),
            pin=CodeHash.from_json(data["pin"]) if data["pin"] else None,
            keys={KeySlot(slot): from_base64(der) for slot, der in data["keys"].items()},
            certificates={
                KeySlot(slot): from_base64(der) for slot, der in data["certificates"].items()
            },
        )


_FILE_NAME = "chips.sqlite3"
# Seconds a writer waits for another's transaction. A transaction holds the lock for one chip's
# read, scrypt check and write (milliseconds); the wait is long for a busy batch beside it.
_BUSY_TIMEOUT = 30.0
# WAL pages between checkpoints (SQLite's default is 1,000). Each checkpoint waits for the disk
# twice, in the middle of a batch; with ~3 pages per new chip this is one checkpoint per ~1,300
# chips instead of per ~330, for a WAL of at most 16 MB.
_CHECKPOINT_PAGES = 4000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chips (card_number TEXT PRIMARY KEY, chip TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS durable_marks (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER);
INSERT OR IGNORE INTO durable_marks (id, count) VALUES (1, 0);
"""

# Connections a forked child inherited from its parent. Never used and never closed: closing
# one in the child could checkpoint and delete the WAL that the parent still writes to (the
# parent's file locks are not the child's), so they are kept referenced until the child exits.
_inherited: list[sqlite3.Connection] = []
_readers: weakref.WeakSet[VirtualCardReader] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    """In a forked child, before anything else runs: every reader opens a connection of its
    own at its next use, and one it drops (`backends.reset`) does not close the parent's."""
    for reader in list(_readers):
        if reader._db is not None:
            _inherited.append(reader._db)
        reader._db, reader._lock = None, threading.Lock()  # the parent's lock may be held
        reader._staged = threading.local()  # the parent's chips are the parent's to write


os.register_at_fork(after_in_child=_forget_connections_after_fork)


def _chip_text(chip: _Chip) -> str:
    return json.dumps(chip.to_json(), sort_keys=True, separators=(",", ":"))


class VirtualCardReader(CardChipReader):
    """Virtual cards under `directory`, one row each in `chips.sqlite3`. One connection per
    reader and process, opened at first use (again in a forked child: see
    `_forget_connections_after_fork`); the threads of a process take turns on it."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / _FILE_NAME
        self._db: sqlite3.Connection | None = None
        self._full_sync = False  # the connection's `synchronous` setting: FULL or NORMAL
        self._lock = threading.Lock()
        # New chips put together by this thread's batch, not yet written: {number: chip JSON}.
        self._staged = threading.local()
        _readers.add(self)

    def open(self, card_number: str) -> VirtualCardToken:
        return VirtualCardToken(self, check_card_number(card_number))

    def exists(self, card_number: str) -> bool:
        return bool(self.existing([card_number]))

    def existing(self, card_numbers: Sequence[str]) -> set[str]:
        """Which of `card_numbers` have a chip, staged or stored, in one query per 500."""
        numbers = [check_card_number(number) for number in card_numbers]
        staged = set(numbers) & self._staged_chips().keys()
        with self._session() as db:
            return staged | self._stored(db, numbers)

    def numbers(self) -> list[str]:
        """The card numbers of every chip personalised so far, in order."""
        with self._session() as db:
            rows = db.execute("SELECT card_number FROM chips ORDER BY card_number")
            return [number for (number,) in rows]

    def stored(self, card_number: str) -> dict[str, Any]:
        """The chip as it is stored (hashes of the codes, keys, certificates): for tests."""
        with self._session() as db:
            return self._load(db, check_card_number(card_number)).to_json()

    def personalise_new(
        self,
        card_number: str,
        *,
        puk: str,
        slot: KeySlot,
        algorithm: KeyAlgorithm,
        certify: Callable[[PublicKeyTypes], bytes],
    ) -> None:
        """The PUK, the key and its certificate put together in memory; `make_durable` writes
        them, with the rest of the batch. A second chip for a number is refused: here if this
        batch has one, by `make_durable` (the primary key) if one is stored; `production`'s
        numbers are checked with `existing` before. A chip of a batch that
        failed before its `make_durable` is never written, as if that card had never been
        put in the machine; one written by a batch undone after it is spoiled, and its number
        is skipped (`production.next_card_numbers`)."""
        card_number = check_card_number(card_number)
        if card_number in self._staged_chips():
            raise TokenError(f"Card {card_number} is personalised already.")
        chip = _Chip(codes=CardCodes(), puk=CodeHash.of(validate_puk(puk), PUK_COST))
        key = generate_private_key(algorithm)
        chip.keys[slot] = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        der = certify(key.public_key())
        check_certificate(der, key.public_key())
        chip.certificates[slot] = bytes(der)
        self._staged_chips()[card_number] = _chip_text(chip)

    def make_durable(self, card_numbers: Sequence[str]) -> None:
        """The chips `personalise_new` put together for `card_numbers` written in one
        transaction committed with synchronous=FULL, and with them every chip written before,
        on disk after one wait: the WAL is appended to in order and the commit fsyncs the
        whole WAL file, every earlier transaction's frames with its own, whichever connection
        wrote them; frames that a checkpoint moved into the database file before were on disk
        already (a checkpoint syncs the database file before the WAL is reused, also with
        synchronous=NORMAL). A chip this thread put together for another batch, one that
        failed before it got here, is dropped."""
        numbers = [check_card_number(number) for number in card_numbers]
        if not numbers:
            return
        staged, self._staged.chips = self._staged_chips(), {}
        rows = [(number, staged[number]) for number in numbers if number in staged]
        with self._session() as db:
            self._sync_mode(db, full=True)
            if not rows:
                self._write_durable_mark(db)
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO chips (card_number, chip) VALUES (?, ?)", rows)
            except sqlite3.IntegrityError:
                db.execute("ROLLBACK")
                taken = sorted(self._stored(db, [n for n, _ in rows]))
                raise TokenError(f"Card {', '.join(taken)} is personalised already.") from None
            db.execute("COMMIT")

    def _staged_chips(self) -> dict[str, str]:
        if not hasattr(self._staged, "chips"):
            self._staged.chips = {}
        chips: dict[str, str] = self._staged.chips
        return chips

    # The database ------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, for one thread at a time."""
        with self._lock:
            if self._db is None:
                self._db = self._connect()
                self._full_sync = True
            yield self._db

    def _connect(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created here rather than by SQLite, for its mode; SQLite gives the WAL and the
        # shared-memory file the database file's mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        db = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            (mode,) = db.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode != "wal":
                raise OSError(f"{self.path}: SQLite cannot use a WAL here ({mode}).")
            db.execute("PRAGMA synchronous = FULL")
            db.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                db.execute(statement)
            self._take_in_card_files(db)
            db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        return db

    def _take_in_card_files(self, db: sqlite3.Connection) -> None:
        """Chips from before the database, one `<card number>.card.json` file each (a demo's
        `var/cards`), taken in once, while the table is empty. The files are left as they were."""
        if db.execute("SELECT 1 FROM chips LIMIT 1").fetchone() is not None:
            return
        for path in sorted(self.directory.glob("*.card.json")):
            number = check_card_number(path.name.removesuffix(".card.json"))
            db.execute(
                "INSERT INTO chips (card_number, chip) VALUES (?, ?)",
                (number, path.read_text(encoding="utf-8")),
            )

    def _sync_mode(self, db: sqlite3.Connection, *, full: bool) -> None:
        """`synchronous` for the next commit (SQLite refuses to change it in a transaction):
        FULL waits for the disk at commit, NORMAL (in WAL mode) does not."""
        if self._full_sync != full:
            db.execute(f"PRAGMA synchronous = {'FULL' if full else 'NORMAL'}")
            self._full_sync = full

    def _insert(self, card_number: str, chip: _Chip, *, durable: bool = False) -> None:
        """A new chip in one autocommitted insert; the primary key refuses a second one."""
        text = _chip_text(chip)
        with self._session() as db:
            self._sync_mode(db, full=durable)
            try:
                db.execute(
                    "INSERT INTO chips (card_number, chip) VALUES (?, ?)", (card_number, text)
                )
            except sqlite3.IntegrityError:
                raise TokenError(f"Card {card_number} is personalised already.") from None

    @staticmethod
    def _stored(db: sqlite3.Connection, numbers: Sequence[str]) -> set[str]:
        """Which of `numbers` have a stored chip, in one query per 500."""
        found: set[str] = set()
        for start in range(0, len(numbers), 500):
            part = list(numbers[start : start + 500])
            marks = ",".join("?" * len(part))
            sql = f"SELECT card_number FROM chips WHERE card_number IN ({marks})"  # noqa: S608
            found.update(number for (number,) in db.execute(sql, part))
        return found

    def _load(self, db: sqlite3.Connection, card_number: str) -> _Chip:
        row = db.execute("SELECT chip FROM chips WHERE card_number = ?", (card_number,)).fetchone()
        if row is None:
            raise TokenError(f"Card {card_number} has not been personalised.")
        return _Chip.from_json(json.loads(row[0]))

    def _read(self, card_number: str) -> _Chip:
        with self._session() as db:
            return self._load(db, card_number)

    @contextmanager
    def _updating(self, card_number: str, *, durable: bool = True) -> Iterator[_Chip]:
        """The card's state, saved afterwards if it changed, also when the card refused
        something (a wrong try must count, so it is then always saved durably). Read and write
        are one transaction that holds the database's write lock from the start (BEGIN
        IMMEDIATE): no other process changes the chip in between."""
        refused: TokenError | None = None
        with self._session() as db:
            self._sync_mode(db, full=durable)
            db.execute("BEGIN IMMEDIATE")
            try:
                chip = self._load(db, card_number)
                before = chip.to_json()
                try:
                    yield chip
                except TokenError as error:
                    refused = error
                changed = chip.to_json() != before
                if changed:
                    db.execute(
                        "UPDATE chips SET chip = ? WHERE card_number = ?",
                        (_chip_text(chip), card_number),
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            if refused is not None and changed and not durable:
                self._write_durable_mark(db)  # too late to ask the commit for FULL
        if refused is not None:
            raise refused

    def _write_durable_mark(self, db: sqlite3.Connection) -> None:
        """A tiny write committed with synchronous=FULL: its fsync of the WAL puts every
        earlier commit on disk too (see `make_durable`)."""
        self._sync_mode(db, full=True)
        db.execute("UPDATE durable_marks SET count = count + 1")  # autocommit: one commit


class VirtualCardToken:
    def __init__(self, reader: VirtualCardReader, card_number: str) -> None:
        self._reader = reader
        self.card_number = card_number
        self._pin_verified = False

    def _updating(self, *, durable: bool = True) -> AbstractContextManager[_Chip]:
        return self._reader._updating(self.card_number, durable=durable)

    def _read(self) -> _Chip:
        return self._reader._read(self.card_number)

    def close(self) -> None:
        self._pin_verified = False

    # Production -------------------------------------------------------------------------------

    # A new chip and a new key are written without waiting for the disk (fsync): neither is any
    # use before a certificate for the key is put on the card, and `put_certificate` commits
    # durably (and with it every earlier write) before the caller commits. A crash in between
    # leaves at worst a chip that is incomplete: its number is skipped as spoiled, and no
    # certificate names it.

    def personalise(self, *, puk: str) -> None:
        chip = _Chip(codes=CardCodes(), puk=CodeHash.of(validate_puk(puk), PUK_COST))
        self._reader._insert(self.card_number, chip)

    # Keys and certificates --------------------------------------------------------------------

    def generate_key(self, slot: KeySlot, algorithm: KeyAlgorithm) -> PublicKeyTypes:
        with self._updating(durable=False) as chip:
            chip.codes.require_holder(self._pin_verified)
            if slot in chip.keys:
                raise TokenError(f"The {slot} slot holds a key already; clear it first.")
            key = generate_private_key(algorithm)
            chip.keys[slot] = key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return key.public_key()

    def public_key(self, slot: KeySlot) -> PublicKeyTypes | None:
        return self._read().public_key(slot)

    def put_certificate(self, slot: KeySlot, der: bytes) -> None:
        with self._updating() as chip:
            chip.codes.require_usable()
            check_certificate(der, chip.public_key(slot))
            chip.certificates[slot] = bytes(der)

    def certificate(self, slot: KeySlot) -> bytes | None:
        return self._read().certificates.get(slot)

    def clear_slot(self, slot: KeySlot) -> None:
        with self._updating() as chip:
            chip.codes.require_holder(self._pin_verified)
            chip.keys.pop(slot, None)
            chip.certificates.pop(slot, None)

    def slots_in_use(self) -> list[KeySlot]:
        keys = self._read().keys
        return [slot for slot in KeySlot if slot in keys]

    # Codes ------------------------------------------------------------------------------------

    def set_pin(self, pin: str) -> None:
        new_pin = CodeHash.of(validate_pin(pin))
        with self._updating() as chip:
            chip.codes.activate()
            chip.pin = new_pin

    def _verify_pin(self, chip: _Chip, pin: str) -> None:
        self._pin_verified = False
        chip.codes.before_pin()
        assert chip.pin is not None
        chip.codes.record_pin(chip.pin.matches(pin))
        self._pin_verified = True

    def verify_pin(self, pin: str) -> None:
        pin = entered_pin(pin)
        with self._updating() as chip:
            self._verify_pin(chip, pin)

    def unlock_with_puk(self, puk: str, new_pin: str) -> None:
        validate_puk(puk)
        new_hash = CodeHash.of(validate_pin(new_pin))
        with self._updating() as chip:
            self._pin_verified = False
            chip.codes.before_puk()
            chip.codes.record_puk(chip.puk.matches(puk))
            chip.pin = new_hash

    def reset_pin(self, new_pin: str) -> None:
        new_hash = CodeHash.of(validate_pin(new_pin))
        with self._updating() as chip:
            self._pin_verified = False
            chip.codes.pin_reset()
            chip.pin = new_hash

    def set_signature_code(self, code: str) -> None:
        validate_pin(code)
        with self._updating() as chip:
            chip.codes.choose_signature_code(code)

    def sign(self, slot: KeySlot, data: bytes, code: str) -> bytes:
        code = entered_pin(code)
        with self._updating() as chip:
            chip.codes.require_activated()
            key = chip.private_key(slot)
            if slot is KeySlot.SIGNATURE:
                chip.codes.require_holder(self._pin_verified)
                chip.codes.check_signature_code(code)
            else:
                self._verify_pin(chip, code)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
