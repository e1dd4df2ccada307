"""The API's certificate self-service (R12, R13) and the letters' PDFs and print marks.

As on Mina sidor: only the holder, on their own active card, with the card's PIN; the PIN and
the signature code are in no response and no audit entry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography import x509

from ekort.domain.vocabulary import Role
from ekort.services import cards, clock, tokens
from ekort.services.ca import authority
from ekort.store.models import AuditEntry, Certificate, Letter
from tests import factories
from tests import instants as t
from tests.integration import journeys
from tests.integration.journeys import PIN

pytestmark = pytest.mark.django_db

API = "/api/v1"
FOREIGN = "Region Uppsala Person ID 3 CA v1"
CODE = "739164"
LATER = t.sthlm(2024, 3, 4, 10)


class Caller:
    """One account's bearer token on Django's test client; keeps every response body."""

    seen: list[str] = []

    def __init__(self, client: Any, user: Any) -> None:
        token = tokens.issue_token(actor=user, name="test", now=LATER)
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path: str) -> Any:
        response = self.client.get(API + path, **self.headers)
        Caller.seen.append(response.content.decode(errors="replace"))
        return response

    def post(self, path: str, body: Any = None) -> Any:
        response = self.client.post(
            API + path, json.dumps(body or {}), content_type="application/json", **self.headers
        )
        Caller.seen.append(response.content.decode())
        return response


@pytest.fixture
def later(settings):
    settings.EKORT_SIMULATED_NOW = LATER.isoformat()
    clock.reset()
    Caller.seen = []
    yield
    settings.EKORT_SIMULATED_NOW = ""
    clock.reset()


@pytest.fixture
def card(world, later):
    authority.init_foreign_issuer(
        name=FOREIGN, organisation="Region Uppsala", now=t.sthlm(2015, 1, 1)
    )
    return journeys.activated(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)


def _refusal(response: Any, status: int, rule: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["rule"] == rule and body["sv"] and body["en"]


def test_a_cards_certificates_are_listed_to_whoever_may_see_the_card(client, world, card):
    erik = Caller(client, world.holder)
    listed = erik.get(f"/cards/{card.pk}/certificates")
    assert listed.status_code == 200
    [auth] = listed.json()
    record = Certificate.objects.get(card=card)
    assert (auth["profile"], auth["status"], auth["serial"]) == ("auth", "valid", record.serial)
    assert auth["issuer"] == record.issuer.name and auth["on_card"] is True
    assert x509.load_pem_x509_certificate(auth["pem"].encode()).serial_number == int(
        record.serial, 16
    )
    assert Caller(client, world.orderer).get(f"/cards/{card.pk}/certificates").status_code == 200
    assert Caller(client, world.support).get(f"/cards/{card.pk}/certificates").status_code == 200
    stranger = factories.staff("annan", Role.HOLDER, person=factories.person(given="A", family="B"))
    _refusal(Caller(client, stranger).get(f"/cards/{card.pk}/certificates"), 403, "E10")
    assert erik.get("/cards/987654/certificates").status_code == 404


def test_holder_gets_a_signature_certificate_with_pin_and_code_in_the_body(client, world, card):
    erik = Caller(client, world.holder)
    url = f"/cards/{card.pk}/signature-certificate"

    wrong = erik.post(url, {"pin": "111999", "signature_code": CODE})
    assert wrong.status_code == 422 and "Wrong PIN" in wrong.json()["detail"]
    _refusal(erik.post(url, {"pin": PIN, "signature_code": "777777"}), 409, "E6")
    assert erik.post(url, {"pin": PIN, "signature_code": "12ab"}).status_code == 422
    assert erik.post(url, {"pin": PIN}).status_code == 422
    _refusal(
        Caller(client, world.orderer).post(url, {"pin": PIN, "signature_code": CODE}), 403, "E10"
    )
    assert not Certificate.objects.filter(card=card, profile="signature").exists()

    issued = erik.post(url, {"pin": PIN, "signature_code": CODE})
    assert issued.status_code == 201, issued.content
    body = issued.json()
    assert (body["profile"], body["status"], body["card_id"]) == ("signature", "valid", card.pk)
    cert = x509.load_pem_x509_certificate(body["pem"].encode())
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment
    _refusal(erik.post(url, {"pin": PIN, "signature_code": CODE}), 409, "R12")

    for secret in (PIN, CODE, "111999", "777777"):
        assert not any(secret in seen for seen in Caller.seen), secret
    trail = json.dumps(list(AuditEntry.objects.values("before", "after", "reason")))
    assert PIN not in trail and CODE not in trail


def test_one_additional_certificate_at_a_time_add_swap_remove(client, world, card):
    erik = Caller(client, world.holder)
    base = f"/cards/{card.pk}/additional-certificate"
    body = {"pin": PIN, "issuer": FOREIGN}

    _refusal(erik.post(f"{base}/remove", {"pin": PIN}), 409, "R13")
    _refusal(erik.post(base, {"pin": PIN, "issuer": "Nowhere CA"}), 409, "R13")
    first = erik.post(base, body)
    assert first.status_code == 201, first.content
    assert (first.json()["profile"], first.json()["issuer"]) == ("additional", FOREIGN)
    _refusal(erik.post(base, body), 409, "R13")

    swapped = erik.post(f"{base}/swap", body)
    assert swapped.status_code == 201
    assert swapped.json()["id"] != first.json()["id"]
    old = Certificate.objects.get(pk=first.json()["id"])
    assert (old.status, old.on_card) == ("revoked", False)

    removed = erik.post(f"{base}/remove", {"pin": PIN})
    assert removed.status_code == 200
    assert removed.json()["id"] == swapped.json()["id"]
    assert (removed.json()["status"], removed.json()["on_card"]) == ("revoked", False)
    listed = erik.get(f"/cards/{card.pk}/certificates").json()
    assert [(c["profile"], c["status"]) for c in listed] == [
        ("auth", "valid"),
        ("additional", "revoked"),
        ("additional", "revoked"),
    ]
    assert erik.post(f"{base}/remove", {"pin": "111999"}).status_code in (409, 422)
    assert not any(PIN in seen for seen in Caller.seen)


# --- letters ---


def test_an_issuer_admin_prints_the_letters_and_marks_them_printed(client, world, card):
    issuer = Caller(client, world.issuer)
    cover = Letter.objects.get(card=card, kind="cover_letter")
    pdf = issuer.get(f"/letters/{cover.pk}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"] == f'attachment; filename="brev-{cover.pk}.pdf"'
    assert "no-store" in pdf["Cache-Control"]
    _refusal(Caller(client, world.support).get(f"/letters/{cover.pk}/pdf"), 403, "E10")
    assert issuer.get("/letters/987654/pdf").status_code == 404

    _refusal(
        Caller(client, world.holder).post("/letters/mark-printed", {"letter_ids": [cover.pk]}),
        403,
        "E10",
    )
    missing = issuer.post("/letters/mark-printed", {"letter_ids": [cover.pk, 987654]})
    assert missing.status_code == 404 and "987654" in missing.json()["detail"]
    cover.refresh_from_db()
    assert cover.printed_at is None
    assert issuer.post("/letters/mark-printed", {"letter_ids": []}).status_code == 422
    marked = issuer.post("/letters/mark-printed", {"letter_ids": [cover.pk, cover.pk]})
    assert marked.status_code == 200 and marked.json() == {"marked": 1}
    assert issuer.post("/letters/mark-printed", {"letter_ids": [cover.pk]}).json() == {"marked": 0}
    cover.refresh_from_db()
    assert cover.printed_at is not None and abs(cover.printed_at - LATER).total_seconds() < 60


def test_a_printed_pin_letter_is_not_printed_again(client, world, card):
    """R14: the PUK is in the PDF until the letter is printed; then a new letter is ordered."""
    letter = cards.order_pin_letter(actor=world.holder, now=LATER, card_ids=[card.pk]).one_made()
    issuer = Caller(client, world.issuer)
    assert issuer.get(f"/letters/{letter.pk}/pdf").status_code == 200
    assert issuer.post("/letters/mark-printed", {"letter_ids": [letter.pk]}).status_code == 200
    _refusal(issuer.get(f"/letters/{letter.pk}/pdf"), 409, "R14")
