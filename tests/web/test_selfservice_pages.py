"""Mina sidor, the certificates on the holder's own card: a signature certificate with a code of
the holder's own (R12), and one additional certificate at a time from another region (R13)."""

from __future__ import annotations

import html
import json
import logging
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ekort.pki.card_token import KeySlot
from ekort.services import cards
from ekort.services.ca import authority
from ekort.services.ca.backends import card_reader
from ekort.store.models import AuditEntry, Certificate
from tests import instants as t
from tests.integration.journeys import PIN

pytestmark = pytest.mark.django_db

FOREIGN = "Region Uppsala Person ID 3 CA v1"
CODE = "739164"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def card(w, eriks_cards):
    authority.init_foreign_issuer(
        name=FOREIGN, organisation="Region Uppsala", now=t.sthlm(2015, 1, 1)
    )
    return eriks_cards.photo


@pytest.fixture
def erik(client, w):
    client.force_login(w.holder)
    return client


def signature_url(card) -> str:
    return f"/mina-sidor/kort/{card.pk}/underskriftscertifikat/"


def additional_url(card) -> str:
    return f"/mina-sidor/kort/{card.pk}/tillaggscertifikat/"


def field_error(page: str, name: str) -> str:
    """The error shown next to the field `name`, or ''."""
    found = re.search(rf'<span class="error" id="fel-{name}">([^<]*)</span>', page)
    return found.group(1) if found else ""


def test_my_page_lists_each_active_cards_certificates_and_links_to_them(erik, card):
    page = text_of(erik.get("/mina-sidor/"))
    auth = Certificate.objects.get(card=card, profile="auth")
    assert "E-legitimation (SITHS eID)" in page
    assert auth.issuer.name in page and auth.serial in page
    assert f"{auth.not_after:%Y}-" in page and "Giltigt" in page
    assert signature_url(card) in page and additional_url(card) in page


def test_the_code_fields_are_password_fields_that_the_browser_does_not_fill(erik, card):
    page = erik.get(signature_url(card)).content.decode()
    fields = (("pin", "off"), ("code", "new-password"), ("code_repeat", "new-password"))
    for name, autocomplete in fields:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
        assert tag is not None, name
        assert 'type="password"' in tag.group(0) and 'inputmode="numeric"' in tag.group(0)
        assert f'autocomplete="{autocomplete}"' in tag.group(0)


def test_holder_downloads_a_signature_certificate_with_a_code_of_their_own(erik, card, caplog, w):
    caplog.set_level(logging.DEBUG)
    response = erik.post(signature_url(card), {"pin": PIN, "code": CODE, "code_repeat": CODE})
    assert response.status_code == 302 and response["Location"] == signature_url(card)
    page = text_of(erik.get(response["Location"]))
    assert "Underskriftscertifikatet finns nu på kortet" in page
    record = Certificate.objects.get(card=card, profile="signature", status="valid")
    assert record.serial in page and 'name="code"' not in page  # no second one offered

    pem = erik.get(f"/mina-sidor/kort/{card.pk}/certifikat/{record.pk}.pem")
    assert pem.status_code == 200 and pem["Content-Type"] == "application/x-pem-file"
    assert pem["Content-Disposition"] == f'attachment; filename="{card.number}-signature.pem"'
    parsed = x509.load_pem_x509_certificate(pem.content)
    assert parsed.public_bytes(Encoding.DER) == bytes(record.der)
    der = erik.get(f"/mina-sidor/kort/{card.pk}/certifikat/{record.pk}.cer")
    assert der["Content-Type"] == "application/pkix-cert"
    assert der["Content-Disposition"] == f'attachment; filename="{card.number}-signature.cer"'
    assert der.content == bytes(record.der)
    # The code went to the chip and nowhere else.
    token = card_reader().open(card.number)
    token.verify_pin(PIN)
    assert token.sign(KeySlot.SIGNATURE, b"a prescription", CODE)
    trail = json.dumps(list(AuditEntry.objects.values("before", "after", "reason")))
    assert CODE not in trail and PIN not in trail
    assert CODE not in caplog.text and PIN not in caplog.text
    assert CODE not in page and PIN not in page

    again = erik.post(signature_url(card), {"pin": PIN, "code": CODE, "code_repeat": CODE})
    assert again.status_code == 409  # the refusal shows, though the form is not offered
    refused = text_of(again)
    # A holder reads the sentence; the rule's ID is for staff (issue 15).
    assert "Det går inte:" in refused and 'name="code"' not in refused
    assert Certificate.objects.filter(card=card, profile="signature").count() == 1


def test_the_forms_offered_are_the_ones_the_rules_allow(erik, card):
    """The pages ask the domain's R13 decision, as the service does: add while there is none,
    swap or remove while there is one."""
    remove = f"{additional_url(card)}ta-bort/"
    page = text_of(erik.get(additional_url(card)))
    assert 'value="add"' in page and 'value="swap"' not in page and remove not in page
    nothing = text_of(erik.get(remove))
    assert "Kortet har inget tilläggscertifikat." in nothing and 'name="confirm"' not in nothing

    erik.post(additional_url(card), {"issuer": FOREIGN, "pin": PIN, "action": "add"})
    page = text_of(erik.get(additional_url(card)))
    assert 'value="swap"' in page and 'value="add"' not in page and remove in page
    assert 'name="confirm"' in text_of(erik.get(remove))


def test_a_wrong_pin_is_shown_next_to_the_pin_field_and_nothing_changes(erik, card):
    response = erik.post(signature_url(card), {"pin": "111999", "code": CODE, "code_repeat": CODE})
    assert response.status_code == 400
    page = text_of(response)
    assert field_error(page, "pin").startswith("Pin-koden stämmer inte.")
    assert "111999" not in page and CODE not in page  # nothing typed comes back
    assert not Certificate.objects.filter(card=card, profile="signature").exists()
    # The chip counts the tries (three, then the PIN is blocked), and the page says so.
    erik.post(signature_url(card), {"pin": "111999", "code": CODE, "code_repeat": CODE})
    third = erik.post(signature_url(card), {"pin": "111999", "code": CODE, "code_repeat": CODE})
    assert field_error(text_of(third), "pin").startswith("Pin-koden är spärrad")


@pytest.mark.parametrize(
    ("code", "repeat", "field", "says"),
    [
        (CODE, "739165", "code_repeat", "Koderna är inte lika."),
        ("777777", "777777", "code", "för lätt att gissa (regel E6)"),
        ("12ab56", "12ab56", "code", "Koden är 6–8 siffror"),
        ("", "", "code", "Välj en underskriftskod."),
    ],
)
def test_a_code_that_is_not_accepted_is_shown_next_to_its_field(
    erik, card, code, repeat, field, says
):
    response = erik.post(signature_url(card), {"pin": PIN, "code": code, "code_repeat": repeat})
    assert response.status_code == 400
    page = text_of(response)
    assert says in field_error(page, field)
    assert not Certificate.objects.filter(card=card, profile="signature").exists()


def test_one_additional_certificate_at_a_time_then_swap_and_remove(erik, card):
    form = {"issuer": FOREIGN, "pin": PIN, "action": "add"}
    page = text_of(erik.get(additional_url(card)))
    assert "Lägg till ett tilläggscertifikat" in page and f'value="{FOREIGN}"' in page

    added = erik.post(additional_url(card), form)
    assert added.status_code == 302
    first = Certificate.objects.get(card=card, profile="additional")
    assert first.issuer.name == FOREIGN and first.status == "valid"
    page = text_of(erik.get(additional_url(card)))
    assert "Tilläggscertifikatet finns nu på kortet" in page and first.serial in page
    assert "Byt tilläggscertifikat" in page

    second_add = erik.post(additional_url(card), form)
    assert second_add.status_code == 409
    assert "Det går inte:" in text_of(second_add)
    assert Certificate.objects.filter(card=card, profile="additional").count() == 1

    swapped = erik.post(additional_url(card), {**form, "action": "swap"}, follow=True)
    assert "Tilläggscertifikatet är bytt" in text_of(swapped)
    first.refresh_from_db()
    assert (first.status, first.on_card) == ("revoked", False)
    second = Certificate.objects.get(card=card, profile="additional", status="valid")

    remove = f"{additional_url(card)}ta-bort/"
    confirm_page = text_of(erik.get(remove))
    # Named by its issuer: a holder has no use for the serial number here.
    assert second.issuer.name in confirm_page and 'type="checkbox"' in confirm_page
    assert second.serial not in confirm_page
    unconfirmed = erik.post(remove, {"pin": PIN})
    assert unconfirmed.status_code == 400
    assert "Bekräfta att du vill ta bort" in text_of(unconfirmed)
    second.refresh_from_db()
    assert second.status == "valid"

    removed = erik.post(remove, {"pin": PIN, "confirm": "on"}, follow=True)
    assert "spärrat och borttaget från kortet" in text_of(removed)
    second.refresh_from_db()
    assert (second.status, second.on_card) == ("revoked", False)
    assert card_reader().open(card.number).certificate(KeySlot.ADDITIONAL) is None
    assert erik.get(f"/mina-sidor/kort/{card.pk}/certifikat/{second.pk}.pem").status_code == 404

    nothing_left = erik.post(remove, {"pin": PIN, "confirm": "on"})
    assert nothing_left.status_code == 409 and "Det går inte:" in text_of(nothing_left)


def test_an_unknown_issuer_and_a_wrong_pin_are_shown_next_to_their_fields(erik, card):
    unknown = erik.post(additional_url(card), {"issuer": "Nowhere CA", "pin": PIN})
    assert unknown.status_code == 400
    assert "Välj en utfärdare i listan." in field_error(text_of(unknown), "issuer")
    wrong = erik.post(additional_url(card), {"issuer": FOREIGN, "pin": "111999"})
    assert wrong.status_code == 400
    assert field_error(text_of(wrong), "pin").startswith("Pin-koden stämmer inte.")
    assert not Certificate.objects.filter(card=card, profile="additional").exists()


def test_someone_elses_card_or_a_card_not_active_is_not_found(client, w, card, eriks_cards):
    maria = client
    maria.force_login(w.orderer)  # a holder too, but not of Erik's cards
    auth = Certificate.objects.get(card=card, profile="auth")
    urls = [
        signature_url(card),
        additional_url(card),
        f"{additional_url(card)}ta-bort/",
        f"/mina-sidor/kort/{card.pk}/certifikat/{auth.pk}.pem",
        f"/mina-sidor/kort/{card.pk}/certifikat/{auth.pk}.cer",
    ]
    for url in urls:
        assert maria.get(url).status_code == 404, url
    stolen = maria.post(signature_url(card), {"pin": PIN, "code": CODE, "code_repeat": CODE})
    assert stolen.status_code == 404
    assert maria.post(additional_url(card), {"issuer": FOREIGN, "pin": PIN}).status_code == 404
    assert not Certificate.objects.filter(card=card, profile__in=["signature", "additional"])

    maria.force_login(w.holder)
    blocked = cards.block(
        actor=w.holder,
        reason="lost",
        requested_by="Erik",
        now=t.sthlm(2024, 2, 5, 9),
        card_ids=[eriks_cards.reserve.pk],
    ).one()
    assert maria.get(signature_url(blocked)).status_code == 404
    # Erik's own: the certificate of another card of his, or none at all, is not found.
    reserve_auth = Certificate.objects.get(card=eriks_cards.reserve, profile="auth")
    assert maria.get(f"/mina-sidor/kort/{card.pk}/certifikat/{auth.pk}.pem").status_code == 200
    assert (
        maria.get(f"/mina-sidor/kort/{card.pk}/certifikat/{reserve_auth.pk}.pem").status_code == 404
    )
    assert maria.get(f"/mina-sidor/kort/{card.pk}/certifikat/987654.cer").status_code == 404
