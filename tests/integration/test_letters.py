"""Printable letters: the cover letter (R10), the code envelope (R3, R16) and the PIN/PUK letter
(R14, R15), their print queue, and that the PUK appears in the letters that carry it and
nowhere else.

The PDFs are read back with poppler's `pdftotext`, a tool ekort did not write.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.letters import LetterData, qr_payload, render
from ekort.services import audit, cards, print_queue
from ekort.services.ca.secrets import unseal
from ekort.store.models import AuditEntry, Card, Letter
from tests import instants as t
from tests import tools
from tests.factories import World
from tests.integration.journeys import activated, sent

pytestmark = [
    pytest.mark.django_db,
    tools.needs(tools.PDFTOTEXT),
]

NEW = t.NEW_PROCESS  # 2024-01-31: the new process, cards sent home with a cover letter
LATER = NEW + timedelta(days=10)

# R10: the cover letter's instructions, sentence for sentence from the region's notice.
R10_SENTENCES = (
    "Detta är ditt personliga SITHS-kort. Du måste aktivera kortet innan användning.",
    "För att aktivera kortet måste du göra ett personligt besök hos din ID-administratör.",
    "Du behöver ta med:",
    "SITHS-kortet",
    "Giltig svensk id-handling",
    "Kortet måste aktiveras inom tre månader och går inte att använda innan dess.",
    "I samband med aktivering kommer du att få välja din säkerhetskod.",
    "OBS! Ditt SITHS-kort är en värdehandling som innehåller din personliga SITHS e-legitimation.",
    "Kortet och den säkerhetskod du väljer vid aktiveringen är personliga.",
    "Du ansvarar för att ingen annan än du kommer åt dem.",
)
SUPPORT = (
    "Kontakta e-tjänstekortsupporten om du har frågor via ekortorder@regiongavleborg.se "
    "eller (026-1) 53 000 (välj IT och sedan e-tjänstekort)."
)


# --- helpers -------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler reads it, whitespace folded to single spaces."""
    assert pdf.startswith(b"%PDF-")
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode("utf-8").split())


def puk_of(card: Card) -> str:
    card.refresh_from_db()
    assert card.puk_ciphertext is not None
    return unseal(bytes(card.puk_ciphertext), card.pk)


def identity_forms(w: World) -> list[str]:
    """Every way the holder's identity number could be written: 12 or 10 digits, with or
    without the hyphen."""
    number = w.employee.identity_number
    return [number, number[2:], f"{number[:8]}-{number[8:]}", f"{number[2:8]}-{number[8:]}"]


def letter_of(card: Card, kind: str) -> Letter:
    return Letter.objects.get(card=card, kind=kind)


def render_text(w: World, letter: Letter) -> str:
    return pdf_text(print_queue.letter_pdf(actor=w.issuer, letter_id=letter.pk, now=LATER))


def audit_text() -> str:
    return "\n".join(
        json.dumps([e.actor, e.action, e.object_type, e.object_id, e.reason, e.before, e.after])
        for e in AuditEntry.objects.order_by("seq")
    )


def assert_addressed(text: str, w: World) -> None:
    person = w.employee
    assert person.full_name in text
    assert person.street_address in text
    assert f"{person.postal_code[:3]} {person.postal_code[3:]} {person.postal_town.upper()}" in text
    for form in identity_forms(w):
        assert form not in text


@pytest.fixture
def qr_values(monkeypatch) -> list[str]:
    """Every value handed to the QR code widget (no QR decoder here: this is the seam)."""
    seen: list[str] = []
    original = render.QrCodeWidget

    class Recording(original):
        def __init__(self, value: str, **kw: object) -> None:
            seen.append(value)
            super().__init__(value, **kw)

    monkeypatch.setattr(render, "QrCodeWidget", Recording)
    return seen


# --- the letters -----------------------------------------------------------------------------


def test_the_cover_letter_says_r10_to_the_registered_address_without_a_code(world, qr_values):
    card = sent(world, "photo", NEW, NEW)
    [letter] = Letter.objects.filter(card=card)
    assert letter.kind == "cover_letter"
    text = render_text(world, letter)
    for sentence in R10_SENTENCES:
        assert sentence in text
    assert SUPPORT in text
    assert "Sista dag att aktivera kortet: 30 april 2024." in text  # R8, clamped
    assert_addressed(text, world)
    assert card.number is not None and card.number in text
    assert puk_of(card) not in text
    assert qr_values == [f"EKORT-LETTER:{letter.pk}:cover_letter"]
    assert "puk" not in text.lower()


def test_a_reserve_card_gets_a_cover_letter_and_a_code_envelope_with_its_puk(world, qr_values):
    card = sent(world, "reserve", NEW, NEW)
    assert sorted(Letter.objects.filter(card=card).values_list("kind", flat=True)) == [
        "code_envelope",
        "cover_letter",
    ]
    puk = puk_of(card)
    cover = render_text(world, letter_of(card, "cover_letter"))
    envelope = render_text(world, letter_of(card, "code_envelope"))
    assert puk not in cover
    assert envelope.count(puk) == 1
    assert "Det går inte att beställa nytt kodbrev till reservkort." in envelope  # R16
    for text in (cover, envelope):
        assert_addressed(text, world)
    for value in qr_values:
        assert puk not in value
        for form in identity_forms(world):
            assert form not in value
    assert qr_values == [
        f"EKORT-LETTER:{letter_of(card, 'cover_letter').pk}:cover_letter",
        f"EKORT-LETTER:{letter_of(card, 'code_envelope').pk}:code_envelope",
    ]


def test_the_pin_puk_letter_carries_the_puk_once(world, qr_values):
    card = activated(world, "photo", NEW, NEW)
    letter = cards.order_pin_letter(actor=world.holder, now=LATER, card_ids=[card.pk]).one_made()
    puk = puk_of(card)
    text = render_text(world, letter)
    assert text.count(puk) == 1
    assert "anger du puk-koden och väljer sedan en ny pin-kod" in text  # how to use it
    assert_addressed(text, world)
    assert qr_values == [f"EKORT-LETTER:{letter.pk}:pin_puk_letter"]
    assert puk not in qr_values[0]


def test_the_legacy_code_envelope_sets_the_pickup_deadline_and_carries_no_puk(world):
    card = sent(world, "photo", t.LEGACY_COMPANY, t.LEGACY_COMPANY)
    [letter] = Letter.objects.filter(card=card)
    assert letter.kind == "code_envelope"
    text = render_text(world, letter)
    assert "Kort som inte hämtas ut kommer spärras." in text  # R3
    assert "Sista datum för att hämta ut ditt kort är" in text
    assert puk_of(card) not in text
    assert_addressed(text, world)


def test_a_reserve_card_on_the_legacy_path_gets_one_envelope_with_deadline_and_puk(world):
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    [letter] = Letter.objects.filter(card=card)
    text = render_text(world, letter)
    assert "måndag den 22 januari 2024" in text  # R3
    assert text.count(puk_of(card)) == 1  # R16


def test_no_code_in_the_audit_trail_or_the_logs(world, caplog):
    caplog.set_level(logging.DEBUG)
    reserve = sent(world, "reserve", NEW, NEW)
    photo = activated(world, "photo", NEW, NEW)
    cards.order_pin_letter(actor=world.holder, now=LATER, card_ids=[photo.pk]).one_made()
    queued = list(print_queue.waiting_letters())
    for letter in queued:
        print_queue.letter_pdf(actor=world.issuer, letter_id=letter.pk, now=LATER)
    print_queue.mark_printed(actor=world.issuer, letter_ids=[x.pk for x in queued], now=LATER)
    rendered = AuditEntry.objects.filter(action="letter_rendered")
    assert sorted(int(e.object_id) for e in rendered) == sorted(x.pk for x in queued)
    trail = audit_text()
    for card in (reserve, photo):
        assert puk_of(card) not in trail
        assert puk_of(card) not in caplog.text
    assert audit.verify_trail() == []


# --- the print queue ---------------------------------------------------------------------


def test_the_queue_is_oldest_first_and_marking_printed_is_idempotent(world):
    first = sent(world, "reserve", NEW, NEW)  # cover letter and code envelope
    photo = activated(world, "photo", NEW, NEW)
    pin = cards.order_pin_letter(actor=world.holder, now=LATER, card_ids=[photo.pk]).one_made()
    queue = list(print_queue.waiting_letters())
    # The reserve card's cover letter and envelope and the photo card's cover letter, then
    # the PIN/PUK letter ordered later.
    assert [x.queued_at for x in queue] == [NEW, NEW, NEW, LATER]
    assert queue[-1] == pin
    assert {x.card_id for x in queue[:3]} == {first.pk, photo.pk}

    ids = [x.pk for x in queue if x.card_id == first.pk]
    at = LATER + timedelta(hours=1)
    assert print_queue.mark_printed(actor=world.issuer, letter_ids=ids, now=at) == 2
    assert [x.pk for x in print_queue.waiting_letters()] == [
        x.pk for x in queue if x.card_id != first.pk
    ]
    printed = AuditEntry.objects.filter(action="letter_printed")
    assert sorted(int(e.object_id) for e in printed) == sorted(ids)

    # Again, with one more: the printed ones keep their time and get no second entry.
    again = at + timedelta(hours=1)
    assert print_queue.mark_printed(actor=world.issuer, letter_ids=[*ids, pin.pk], now=again) == 1
    assert AuditEntry.objects.filter(action="letter_printed").count() == 3
    times = dict(Letter.objects.values_list("pk", "printed_at"))
    assert {times[i] for i in ids} == {at}
    assert times[pin.pk] == again
    assert print_queue.mark_printed(actor=world.issuer, letter_ids=[pin.pk], now=again) == 0
    everything = [x.pk for x in queue]
    assert print_queue.mark_printed(actor=world.issuer, letter_ids=everything, now=again) == 1
    assert list(print_queue.waiting_letters()) == []
    assert AuditEntry.objects.filter(action="letter_printed").count() == 4
    assert audit.verify_trail() == []


def test_an_unknown_letter_is_not_found_and_nothing_is_marked(world):
    card = sent(world, "photo", NEW, NEW)
    letter = letter_of(card, "cover_letter")
    entries = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        print_queue.mark_printed(actor=world.issuer, letter_ids=[letter.pk, 999_999], now=LATER)
    with pytest.raises(NotFound):
        print_queue.letter_pdf(actor=world.issuer, letter_id=999_999, now=LATER)
    letter.refresh_from_db()
    assert letter.printed_at is None
    assert AuditEntry.objects.count() == entries


def test_a_printed_letter_with_a_puk_is_not_rendered_again(world):
    reserve = sent(world, "reserve", NEW, NEW)
    photo = activated(world, "photo", NEW, NEW)
    pin = cards.order_pin_letter(actor=world.holder, now=LATER, card_ids=[photo.pk]).one_made()
    envelope, cover = letter_of(reserve, "code_envelope"), letter_of(reserve, "cover_letter")
    ids = [pin.pk, envelope.pk, cover.pk]
    print_queue.mark_printed(actor=world.issuer, letter_ids=ids, now=LATER)
    for letter, rule in ((pin, "R14"), (envelope, "R16")):
        with pytest.raises(Refused) as refused:
            print_queue.letter_pdf(actor=world.issuer, letter_id=letter.pk, now=LATER)
        assert refused.value.rule == rule
    # A cover letter carries no code: a copy can be printed.
    assert "SITHS-kort" in render_text(world, cover)


@pytest.mark.parametrize("name", ["orderer", "id_admin", "support", "holder"])
def test_only_an_issuer_admin_renders_or_marks_letters(world, name):
    card = sent(world, "reserve", NEW, NEW)
    letter = letter_of(card, "code_envelope")
    entries = AuditEntry.objects.count()
    user = getattr(world, name)
    for attempt in (
        lambda: print_queue.letter_pdf(actor=user, letter_id=letter.pk, now=LATER),
        lambda: print_queue.mark_printed(actor=user, letter_ids=[letter.pk], now=LATER),
    ):
        with pytest.raises(Refused) as refused:
            attempt()
        assert refused.value.rule == "E10"
        assert puk_of(card) not in str(refused.value)
    letter.refresh_from_db()
    assert letter.printed_at is None
    assert AuditEntry.objects.count() == entries


# --- the renderer on its own ---------------------------------------------------------------


def _data(**changes: object) -> LetterData:
    values: dict[str, object] = {
        "kind": "pin_puk_letter",
        "recipient_name": "Erik Eriksson",
        "street_address": "Storgatan 1",
        "postal_code": "80320",
        "postal_town": "Gävle",
        "card_number": "9752210000001",
        "card_type": "photo",
        "letter_id": 7,
        "date": NEW.date(),
        "region_name": "Region Gävleborg",
        "puk": "12345678",
    }
    values.update(changes)
    return LetterData(**values)


def test_letter_data_takes_a_puk_only_where_it_belongs_and_never_shows_it():
    data = _data()
    assert "12345678" not in repr(data)
    assert qr_payload(data) == "EKORT-LETTER:7:pin_puk_letter"
    with pytest.raises(InvalidInput):
        _data(kind="cover_letter")  # a cover letter carries no PUK
    with pytest.raises(InvalidInput):
        _data(kind="code_envelope", card_type="photo")  # nor a photo card's envelope
    with pytest.raises(InvalidInput):
        _data(puk=None)  # a PIN/PUK letter without its PUK
    with pytest.raises(InvalidInput):
        _data(puk="1234")  # E6: eight digits


# --- the command line ----------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("letters", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_lists_writes_and_marks(world, tmp_path: Path):
    card = sent(world, "reserve", NEW, NEW)
    puk = puk_of(card)
    envelope = letter_of(card, "code_envelope")
    out, _ = run("list", "--actor", "utgivare")
    assert "2 letter(s) waiting" in out
    assert str(envelope.pk) in out and puk not in out

    with pytest.raises(CommandError, match="carries a PUK"):
        run("pdf", "--id", str(envelope.pk), "--out", "-", "--actor", "utgivare")

    target = tmp_path / "envelope.pdf"
    out, err = run("pdf", "--id", str(envelope.pk), "--out", str(target), "--actor", "utgivare")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert pdf_text(target.read_bytes()).count(puk) == 1
    assert puk not in out + err

    ids = [str(x.pk) for x in Letter.objects.filter(card=card)]
    args = [item for pk in ids for item in ("--id", pk)]
    out, _ = run("printed", *args, "--actor", "utgivare", "--at", LATER.isoformat())
    assert "Marked 2 letter(s) printed" in out
    out, _ = run("printed", *args, "--actor", "utgivare")
    assert "Marked 0 letter(s) printed" in out
    out, _ = run("list", "--actor", "utgivare")
    assert "0 letter(s) waiting" in out


def test_the_command_refuses_a_non_issuer(world):
    sent(world, "photo", NEW, NEW)
    with pytest.raises(CommandError, match="E10"):
        run("list", "--actor", "support")
    with pytest.raises(CommandError, match="no user"):
        run("list", "--actor", "nobody")


def test_a_letter_without_a_code_may_go_to_standard_output(world, capsysbinary):
    card = sent(world, "photo", NEW, NEW)
    cover = letter_of(card, "cover_letter")
    run("pdf", "--id", str(cover.pk), "--out", "-", "--actor", "utgivare")
    assert "SITHS-kort" in pdf_text(capsysbinary.readouterr().out)
