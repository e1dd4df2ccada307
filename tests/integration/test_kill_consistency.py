"""A card's state and its certificates' status commit together or not at all, even when the
process doing the work is killed with SIGKILL halfway through.

Each test starts the real `ekort` command in a process of its own, on the test database and
with the test's keys and virtual cards, waits for its first progress line (and, for production,
for the next card's chip), kills it, and then looks for a card whose state and certificates
disagree. Afterwards `reconcile` must bring the
stored OCSP responses in line with the database, and finishing the work must leave nothing
half done.
"""

from __future__ import annotations

import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from ekort.pki.certificates import Profile
from ekort.services import audit, cards, deadlines
from ekort.services.ca import backends, issuance, secrets, status
from ekort.services.ca.authority import issuing_ca
from ekort.store.models import AuditEntry, Block, Card, CardOrder, Certificate, OcspResponse
from tests import instants as t
from tests.factories import World
from tests.integration import bulk_cards as bulk

Status = Certificate.Status

PRODUCE_CARDS = 400
PRODUCE_AT = t.NEW_PROCESS  # photo cards are issued in the new design, on hold until activated
DEADLINE_CARDS = 600
DEADLINE_CHUNK = 50
ACTIVATION_DEADLINE = date(2024, 4, 30)
JOB_AT = t.AFTER_ACTIVATION_WINDOW + timedelta(hours=10)
CHILD_TIMEOUT = 120.0  # seconds to wait for the child's first progress line


# --- the child process -------------------------------------------------------------------------


def _database_url() -> str:
    """The test database, as a URL the child's settings understand (dj_database_url)."""
    db = connection.settings_dict
    assert Path(str(db["NAME"])).name.startswith("test"), "not a test database"
    if connection.vendor == "sqlite":
        path = Path(db["NAME"]).resolve()
        # The same behaviour as settings.py gives SQLite: IMMEDIATE transactions, a lock timeout.
        return f"sqlite:///{path}?transaction_mode=IMMEDIATE&timeout=30"
    assert connection.vendor == "postgresql", connection.vendor
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or ""  # none: the Unix socket, as for the test process
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def _child_environment(data_dir: Path) -> dict[str, str]:
    """The test process's configuration, with the test database, keys and virtual cards."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"EKORT_SIMULATED_NOW", "DATABASE_URL"} and not key.endswith("_FILE")
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "ekort.settings",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": _database_url(),
            "EKORT_DATA_DIR": str(data_dir),
            "EKORT_ENV": settings.EKORT_ENV,
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "EKORT_AUDIT_KEY": settings.EKORT_AUDIT_KEY,
            "EKORT_KEY_BACKEND": settings.EKORT_KEY_BACKEND,
            "EKORT_KEY_DIR": str(settings.EKORT_KEY_DIR),
            "EKORT_KEY_PASSPHRASE": settings.EKORT_KEY_PASSPHRASE,
            "EKORT_SECRETS_KEY": settings.EKORT_SECRETS_KEY,
            "EKORT_CARD_READER": settings.EKORT_CARD_READER,
            "EKORT_VIRTUAL_CARD_DIR": str(settings.EKORT_VIRTUAL_CARD_DIR),
            "EKORT_CARD_KEY_ALGORITHM": settings.EKORT_CARD_KEY_ALGORITHM,
            "EKORT_CARD_NUMBER_PREFIX": settings.EKORT_CARD_NUMBER_PREFIX,
        }
    )
    return environment


def _ekort() -> list[str]:
    beside_python = Path(sys.executable).parent / "ekort"
    if beside_python.exists():
        return [str(beside_python)]
    return [sys.executable, "-m", "ekort.cli.main"]


class Child:
    """A running `ekort` command whose output lines are read by two threads, so that the test
    can wait for a line with a timeout."""

    def __init__(self, args: list[str], environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [*_ekort(), *args],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.started = time.monotonic()
        self.output: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._open = {"stdout", "stderr"}
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._pump, args=(name, stream), daemon=True)
            for name, stream in (("stdout", self.process.stdout), ("stderr", self.process.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def _pump(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            line = line.rstrip("\n")
            self.output[name].append(line)
            self._lines.put((name, line))
        self._lines.put((name, None))

    def transcript(self) -> str:
        return (
            f"exit status {self.process.poll()}\n--- stdout:\n"
            + "\n".join(self.output["stdout"])
            + "\n--- stderr:\n"
            + "\n".join(self.output["stderr"])
        )

    def wait_for(self, stream: str, pattern: str, timeout: float = CHILD_TIMEOUT) -> re.Match[str]:
        """The first line on `stream` that matches `pattern`; fails if none comes in time."""
        wanted = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no line matching {pattern!r} within {timeout} s\n{self.transcript()}")
            try:
                name, line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self._open.discard(name)
                if not self._open:
                    self.process.wait(timeout=10)
                    pytest.fail(f"the child ended before {pattern!r}\n{self.transcript()}")
                continue
            if name == stream and (found := wanted.search(line)):
                return found

    def kill(self) -> int:
        """SIGKILL, unless it has ended already; returns its exit status."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        status_ = self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=10)
        return status_


@contextmanager
def running(args: list[str], environment: dict[str, str]) -> Iterator[Child]:
    child = Child(args, environment)
    try:
        yield child
    finally:
        child.kill()  # whatever happened in the test: no child outlives it


def _kill_now(child: Child) -> float:
    """Kill the child; fail loudly if it had finished on its own (the kill must land midway)."""
    exit_status = child.kill()
    assert exit_status == -signal.SIGKILL, (
        "the child finished before it was killed: make the job bigger\n" + child.transcript()
    )
    return time.monotonic() - child.started


# --- checks --------------------------------------------------------------------------------------


def _certificates_by_card(card_ids: list[int]) -> dict[int, list[Certificate]]:
    found: dict[int, list[Certificate]] = {pk: [] for pk in card_ids}
    for cert in Certificate.objects.filter(card_id__in=card_ids).order_by("pk"):
        found.setdefault(cert.card_id, []).append(cert)
    return found


def _audit_counts(action: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for object_id in AuditEntry.objects.filter(object_type="card", action=action).values_list(
        "object_id", flat=True
    ):
        counts[object_id] = counts.get(object_id, 0) + 1
    return counts


def _check_production(card_ids: list[int]) -> tuple[int, int]:
    """Every card is untouched (photographed, no certificate) or wholly produced; returns how
    many of each."""
    certs = _certificates_by_card(card_ids)
    assert set(certs) == set(card_ids), "a certificate belongs to a card outside the batch"
    produce_audits = _audit_counts("produce")
    produced = untouched = 0
    numbers: set[str] = set()
    for card in Card.objects.filter(pk__in=card_ids).order_by("pk"):
        mine = certs[card.pk]
        if card.state == "photographed":
            untouched += 1
            assert card.number is None, f"card {card.pk}: a number but not produced"
            assert mine == [], f"card {card.pk}: certificates but not produced"
            assert card.puk_ciphertext is None, f"card {card.pk}: a PUK but not produced"
            assert card.produced_at is None
            assert str(card.pk) not in produce_audits
            continue
        assert card.state == "produced", f"card {card.pk} is {card.state}"
        produced += 1
        assert card.number, f"card {card.pk}: produced without a number"
        assert card.number not in numbers, f"card number {card.number} given twice"
        numbers.add(card.number)
        assert card.produced_at == PRODUCE_AT
        assert len(mine) == 1, f"card {card.pk}: {len(mine)} certificates"
        [cert] = mine
        assert cert.profile == Profile.AUTHENTICATION.value
        assert cert.status == Status.ON_HOLD, f"card {card.pk}: certificate {cert.status}"
        assert card.number.encode() in bytes(cert.der), "the certificate names another card"
        assert card.puk_ciphertext, f"card {card.pk}: produced without a sealed PUK"
        assert re.fullmatch(r"\d{8}", secrets.unseal(bytes(card.puk_ciphertext), card.pk))
        assert produce_audits.get(str(card.pk)) == 1, f"card {card.pk}: audit entries"
    return produced, untouched


def _check_ocsp(certificates: list[Certificate]) -> None:
    """Every certificate has a stored OCSP response that says what the database says, except
    one on hold since its card was produced: that one has none (`status.note_issued_on_hold`;
    the responder answers it on demand)."""
    responses = {
        (issuer_id, serial): bytes(der)
        for issuer_id, serial, der in OcspResponse.objects.values_list("issuer_id", "serial", "der")
    }
    for cert in certificates:
        der = responses.get((cert.issuer_id, cert.serial))
        if der is None and cert.status == Status.ON_HOLD:
            continue
        assert der is not None, f"certificate {cert.serial} ({cert.status}) has no OCSP response"
        response = ocsp.load_der_ocsp_response(der)
        assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        assert response.serial_number == int(cert.serial, 16)
        if cert.status == Status.VALID:
            assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
            continue
        assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED, cert.serial
        expected = (
            x509.ReasonFlags.certificate_hold
            if cert.status == Status.ON_HOLD
            else x509.ReasonFlags[cert.revocation_reason]
        )
        assert response.revocation_reason == expected, (cert.serial, cert.status)


# --- a) a bulk issuance, killed ------------------------------------------------------------------


def _photographed_cards(world: World, n: int) -> list[int]:
    """`n` photo cards photographed and ready for production, straight into the tables."""
    photographed_at = PRODUCE_AT - timedelta(days=1)
    orders = CardOrder.objects.bulk_create(
        [
            CardOrder(
                person=world.employee,
                card_type="photo",
                ordered_by=world.orderer,
                ordered_at=photographed_at - timedelta(days=1),
            )
            for _ in range(n)
        ]
    )
    Card.objects.bulk_create(
        [
            Card(
                order=order,
                person=world.employee,
                card_type="photo",
                state="photographed",
                photo_sha256="0" * 64,
                photographed_at=photographed_at,
                photographed_by=world.id_admin,
            )
            for order in orders
        ]
    )
    return list(Card.objects.filter(order__in=orders).order_by("pk").values_list("pk", flat=True))


def _chips() -> set[str]:
    """The card numbers of the virtual cards personalised so far (also by the child)."""
    return set(backends.card_reader().numbers())


def _wait_for_chip(more_than: int, timeout: float = 10.0) -> None:
    """Until the chip of the next card is on disk: its production is then between the chip
    and the commit, the moment a kill does the most damage."""
    deadline = time.monotonic() + timeout
    while len(_chips()) <= more_than and time.monotonic() < deadline:
        time.sleep(0.0005)


@pytest.mark.django_db(transaction=True)
def test_a_killed_bulk_issuance_leaves_every_card_produced_or_untouched(world, tmp_path):
    card_ids = _photographed_cards(world, PRODUCE_CARDS)
    args = ["bulk", "produce", "--card-type", "photo", "--at", PRODUCE_AT.isoformat()]
    args += ["--actor", world.issuer.username]

    with running(args, _child_environment(tmp_path)) as child:
        progress = child.wait_for("stdout", r": (\d+) produced")  # one line per 100 cards
        _wait_for_chip(more_than=int(progress[1]))
        ran_for = _kill_now(child)

    produced, untouched = _check_production(card_ids)
    numbers = set(Card.objects.exclude(number=None).values_list("number", flat=True))
    spoiled = _chips() - numbers  # personalised by a production the kill undid
    print(
        f"\nbulk produce killed after {ran_for:.1f} s: {produced} produced, {untouched} not, "
        f"{len(spoiled)} chip(s) personalised by an undone production"
    )
    assert produced >= 100, child.transcript()
    assert untouched >= 1, "every card was produced before the kill: make the batch bigger"
    assert Certificate.objects.count() == produced  # none for a card that is not produced
    assert numbers <= _chips()  # every produced card has its chip
    assert len(spoiled) <= 1  # one card was in production at a time

    # Production signs no OCSP response (the certificates are on hold), so none was lost with
    # the process, and reconcile finds nothing to sign.
    assert status.reconcile(PRODUCE_AT + timedelta(minutes=5)) == 0
    _check_ocsp(list(Certificate.objects.all()))

    # Running the command again finishes the batch: the killed run left nothing in the way,
    # and the spoiled chip's number goes to no card.
    out = io.StringIO()
    call_command(*args, stdout=out)
    assert f"Done: {untouched} produced, 0 refused" in out.getvalue(), out.getvalue()
    assert _check_production(card_ids) == (PRODUCE_CARDS, 0)
    assert not spoiled & set(Card.objects.values_list("number", flat=True))
    _check_ocsp(list(Certificate.objects.all()))
    assert audit.verify_trail() == []


class _Undone(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_production_undone_after_the_chip_leaves_its_number_to_no_other_card(world):
    """The counter rolls back with the transaction, the chip does not: the next production
    skips the spoiled chip's number instead of refusing every card from then on."""
    first, second = _photographed_cards(world, 2)

    def produce_then_fail() -> None:
        with transaction.atomic():
            cards.produce(actor=world.issuer, now=PRODUCE_AT, card_ids=[first]).one()
            raise _Undone  # as if the process had died before the commit

    with pytest.raises(_Undone):
        produce_then_fail()
    [spoiled] = _chips()
    assert Card.objects.get(pk=first).state == "photographed"

    again = cards.produce(actor=world.issuer, now=PRODUCE_AT, card_ids=[first]).one()
    other = cards.produce(actor=world.issuer, now=PRODUCE_AT, card_ids=[second]).one()
    assert spoiled not in {again.number, other.number}
    assert _chips() == {spoiled, again.number, other.number}
    assert _check_production([first, second]) == (2, 0)


# --- b) a deadline job, killed -------------------------------------------------------------------


def _sent_inactive_cards_on_hold(world: World, n: int) -> list[int]:
    """`n` cards sent home and never activated, each with a real authentication certificate on
    hold and its stored OCSP response, as production and sending leave them."""
    made = bulk.cards(
        world.employee,
        world.orderer,
        n,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=ACTIVATION_DEADLINE,
        valid_until=date(2029, 1, 31),
    )
    ca = issuing_ca("3")
    certificates = []
    for card in made:
        key = ec.generate_private_key(ec.SECP256R1())
        record, _ = issuance.issue_certificate(
            card=card,
            ca=ca,
            profile=Profile.AUTHENTICATION,
            public=key.public_key(),
            now=t.NEW_PROCESS,
            status=Status.ON_HOLD,
        )
        certificates.append(record.pk)
    status.refresh_responses(certificates, t.NEW_PROCESS)
    return [card.pk for card in made]


def _check_deadline_sweep(card_ids: list[int]) -> tuple[int, int]:
    """Every card is blocked with its certificates revoked, one block and one audit entry, or
    still sent_inactive with its certificate on hold; returns how many of each."""
    certs = _certificates_by_card(card_ids)
    blocks = dict(Block.objects.filter(card_id__in=card_ids).values_list("card_id", "reason"))
    block_audits = _audit_counts("block")
    blocked = waiting = 0
    for card in Card.objects.filter(pk__in=card_ids).order_by("pk"):
        mine = certs[card.pk]
        assert mine, f"card {card.pk} lost its certificate"
        if card.state == "sent_inactive":
            waiting += 1
            assert card.closed_at is None
            assert [c.status for c in mine] == [Status.ON_HOLD], f"card {card.pk}"
            assert all(c.revoked_at is None and not c.revocation_reason for c in mine)
            assert card.pk not in blocks, f"card {card.pk}: a block but not blocked"
            assert str(card.pk) not in block_audits, f"card {card.pk}: audited but not blocked"
            continue
        assert card.state == "blocked", f"card {card.pk} is {card.state}"
        blocked += 1
        assert card.closed_at == JOB_AT
        for cert in mine:
            assert cert.status == Status.REVOKED, f"card {card.pk}: blocked, certificate {cert}"
            assert cert.revocation_reason == "cessation_of_operation"
            assert cert.revoked_at == JOB_AT
            assert cert.status_changed_at == JOB_AT
        assert blocks.get(card.pk) == "not_activated", f"card {card.pk}: no block record"
        assert block_audits.get(str(card.pk)) == 1, f"card {card.pk}: audit entries"
    assert Block.objects.count() == blocked
    assert sum(block_audits.values()) == blocked
    return blocked, waiting


@pytest.mark.django_db(transaction=True)
def test_a_killed_deadline_job_blocks_each_card_wholly_or_not_at_all(world, tmp_path):
    card_ids = _sent_inactive_cards_on_hold(world, DEADLINE_CARDS)
    args = ["jobs", "run", "--at", JOB_AT.isoformat(), "--chunk", str(DEADLINE_CHUNK)]

    with running(args, _child_environment(tmp_path)) as child:
        child.wait_for("stderr", rf"not_activated: (\d+)/{DEADLINE_CARDS}")
        ran_for = _kill_now(child)

    blocked, waiting = _check_deadline_sweep(card_ids)
    print(f"\njobs run killed after {ran_for:.1f} s: {blocked} blocked, {waiting} not yet")
    assert blocked >= DEADLINE_CHUNK, child.transcript()  # the first chunk had committed
    assert waiting >= 1, "every card was blocked before the kill: make the job bigger"
    assert blocked % DEADLINE_CHUNK == 0  # whole chunks or nothing

    # Relying parties learn of every committed block, also of those whose refresh was lost.
    status.reconcile(JOB_AT + timedelta(minutes=1))
    _check_ocsp(list(Certificate.objects.all()))

    # The job run again finishes the work; reconcile re-signs what the killed one left stale.
    results = deadlines.run_all(JOB_AT, chunk=DEADLINE_CHUNK)
    assert {r.name: r.changed for r in results} == {
        "not_collected": 0,
        "not_activated": waiting,
        "expired": 0,
    }
    assert _check_deadline_sweep(card_ids) == (DEADLINE_CARDS, 0)
    status.reconcile(JOB_AT + timedelta(minutes=5))
    _check_ocsp(list(Certificate.objects.all()))
    assert audit.verify_trail() == []
