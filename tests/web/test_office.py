"""Kortkontoret: the ID administrator finds a person by POST, photographs, activates with the
PIN pad, unlocks a PIN and blocks, with refusals shown by rule."""

from __future__ import annotations

import html
import re

import pytest

from ekort.domain.pins import CodeRequest, decide_codes
from ekort.domain.rulebook import rule
from ekort.domain.vocabulary import CardType, Generation
from ekort.services.ca.secrets import unseal_photo
from ekort.store.models import Block, Card, CardOffice, CardOrder, CardPhoto
from tests import instants as t
from tests.integration import journeys

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PIN = "739164"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def links_of(page: str) -> list[str]:
    return re.findall(r'(?:href|action)="([^"]*)"', page)


def card_url(card: Card, action: str = "") -> str:
    return f"/kortkontor/arbete/kort/{card.pk}/{action}"


def activation(pin: str = PIN, repeat: str = PIN, kind: str = "passport") -> dict[str, str]:
    return {
        "aktivera-document_kind": kind,
        "aktivera-document_number": "AB1234567",
        "aktivera-document_expires_on": "2030-01-01",
        "aktivera-pin": pin,
        "aktivera-pin_repeat": repeat,
    }


@pytest.fixture
def sent_card(w) -> Card:
    return journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)


def test_pages_need_sign_in_and_the_id_admin_role(w, sent_card, client):
    for url in ("/kortkontor/arbete/", card_url(sent_card)):
        assert client.get(url)["Location"].startswith("/logga-in/")
        for denied in (w.holder, w.orderer):
            client.force_login(denied)
            assert client.get(url).status_code == 403
        client.force_login(w.id_admin)
        assert client.get(url).status_code == 200
        client.logout()
    assert client.post(card_url(sent_card, "aktivera/"), activation()).status_code == 302
    client.force_login(w.orderer)
    assert client.post(card_url(sent_card, "aktivera/"), activation()).status_code == 403
    assert Card.objects.get(pk=sent_card.pk).state == "sent_inactive"


def test_navigation_shows_the_office_to_id_admins_only(w, client):
    client.force_login(w.id_admin)
    assert 'href="/kortkontor/arbete/"' in client.get("/kortkontor/").content.decode()
    client.force_login(w.holder)
    assert 'href="/kortkontor/arbete/"' not in client.get("/kortkontor/").content.decode()


def test_find_by_identity_number_is_a_post_and_keeps_it_out_of_links(w, sent_card, client):
    client.force_login(w.id_admin)
    number = w.employee.identity_number
    typed = f"{number[:8]}-{number[8:]}"
    response = client.post("/kortkontor/arbete/", {"query": typed})
    assert response.status_code == 200
    page = text_of(response)
    assert "Erik Eriksson" in page
    assert f"{number[:8]}-****" in page
    assert "Storgatan 1" in page  # the address, for the id_admin
    assert "Skickat, inte aktiverat" in page and "Aktiveras senast" in page
    assert card_url(sent_card) in links_of(page)
    assert number not in page and typed not in page and number[2:] not in page
    assert all(number not in link and number[2:] not in link for link in links_of(page))
    assert number not in response.request["PATH_INFO"]
    assert '<form method="post" action="/kortkontor/arbete/"' in page


def test_find_by_card_number_and_unknown_input(w, sent_card, client):
    client.force_login(w.id_admin)
    assert "Erik Eriksson" in text_of(
        client.post("/kortkontor/arbete/", {"query": sent_card.number})
    )
    assert "Erik Eriksson" in text_of(
        client.post("/kortkontor/arbete/", {"query": w.employee.hsa_id})
    )
    assert client.post("/kortkontor/arbete/", {"query": "hittepå"}).status_code == 400
    assert client.post("/kortkontor/arbete/", {"query": "19991231-9999"}).status_code in (400, 404)


def test_photograph_upload_shows_the_face_without_the_identity_number(w, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    card = journeys.ordered(w, "photo", t.NEW_PROCESS)
    client.force_login(w.id_admin)
    upload = SimpleUploadedFile("foto.png", PNG, content_type="image/png")
    response = client.post(card_url(card, "fotografera/"), {"photo": upload})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    # A preview: nothing is kept until the ID administrator saves the photo.
    assert Card.objects.get(pk=card.pk).state == "ordered"
    assert not CardPhoto.objects.exists()
    page = text_of(response)
    assert "Så här trycks kortet" in page and "Fotot är inte sparat än." in page
    assert 'src="data:image/png;base64,' in page
    assert "Erik Eriksson" in page and "Region Gävleborg" in page
    number = w.employee.identity_number
    assert number not in page and number[2:] not in page
    assert "Spara fotot" in page and "Ta om fotot" in page


def test_a_photo_is_taken_again_then_saved_and_shown_to_its_office_only(w, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    gavle = CardOffice.objects.create(
        name="Gävle", town="Gävle", street_address="Kungsgatan 1", postal_code="80320"
    )
    w.id_admin.account.office = gavle
    w.id_admin.account.save(update_fields=["office"])
    card = journeys.ordered(w, "photo", t.NEW_PROCESS)
    client.force_login(w.id_admin)
    first = client.post(card_url(card, "fotografera/"), {"photo": SimpleUploadedFile("a.png", PNG)})
    assert "Ta om fotot" in text_of(first)
    retaken = PNG + b"\x01"
    second = client.post(
        card_url(card, "fotografera/"), {"photo": SimpleUploadedFile("b.png", retaken)}
    )
    carried = re.search(r'name="photo_data" value="([^"]+)"', second.content.decode()).group(1)
    saved = client.post(card_url(card, "fotografera/"), {"photo_data": carried}, follow=True)
    assert "Fotot är sparat." in text_of(saved)
    assert Card.objects.get(pk=card.pk).state == "photographed"
    assert unseal_photo(CardPhoto.objects.get(card=card).ciphertext, card.pk) == retaken
    assert card_url(card, "foto/") in links_of(saved.content.decode())

    photo = client.get(card_url(card, "foto/"))
    assert photo.status_code == 200 and photo.content == retaken
    assert photo["Content-Type"] == "image/png" and "no-store" in photo["Cache-Control"]
    client.force_login(w.id_admin_2)  # no office: not Gävle's
    assert client.get(card_url(card, "foto/")).status_code == 404
    assert card_url(card, "foto/") not in links_of(client.get(card_url(card)).content.decode())


def test_a_tampered_photo_is_not_saved(w, client):
    card = journeys.ordered(w, "photo", t.NEW_PROCESS)
    client.force_login(w.id_admin)
    for data in ("inte base64!", "aW50ZSBlbiBiaWxk"):  # the second: "inte en bild"
        response = client.post(card_url(card, "fotografera/"), {"photo_data": data})
        assert response.status_code == 400
    assert Card.objects.get(pk=card.pk).state == "ordered" and not CardPhoto.objects.exists()


def test_the_photo_field_offers_the_camera_and_only_pictures(w, client):
    """On a tablet at the card office the field opens the front camera (capture="user")."""
    card = journeys.ordered(w, "photo", t.NEW_PROCESS)
    client.force_login(w.id_admin)
    page = client.get(card_url(card, "")).content.decode()
    field = re.search(r'<input type="file"[^>]*>', page)
    assert field is not None
    assert 'capture="user"' in field.group(0)
    assert 'accept="image/jpeg,image/png"' in field.group(0)


def test_photograph_refuses_a_file_that_is_not_a_picture(w, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    card = journeys.ordered(w, "photo", t.NEW_PROCESS)
    client.force_login(w.id_admin)
    upload = SimpleUploadedFile("foto.txt", b"inte en bild", content_type="text/plain")
    response = client.post(card_url(card, "fotografera/"), {"photo": upload})
    assert response.status_code == 400
    assert "JPEG- eller PNG-bild" in text_of(response)
    assert Card.objects.get(pk=card.pk).state == "ordered"


def test_activation_with_document_and_matching_pins(w, sent_card, client):
    client.force_login(w.id_admin)
    response = client.post(card_url(sent_card, "aktivera/"), activation(), follow=True)
    assert response.status_code == 200
    assert Card.objects.get(pk=sent_card.pk).state == "active"
    page = response.content.decode()
    assert "Kortet är aktiverat" in text_of(response)
    assert PIN not in page


def test_mismatched_pins_show_an_error_and_change_nothing(w, sent_card, client):
    client.force_login(w.id_admin)
    response = client.post(card_url(sent_card, "aktivera/"), activation(repeat="739165"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="fel-aktivera-pin_repeat"' in page
    assert "Koderna är inte lika" in text_of(response)
    assert PIN not in page and "739165" not in page
    assert Card.objects.get(pk=sent_card.pk).state == "sent_inactive"


def test_too_simple_pin_is_refused_with_e6_and_not_echoed(w, sent_card, client):
    client.force_login(w.id_admin)
    response = client.post(card_url(sent_card, "aktivera/"), activation("999999", "999999"))
    assert response.status_code == 409
    assert "(regel E6)" in text_of(response)
    assert "999999" not in response.content.decode()
    assert Card.objects.get(pk=sent_card.pk).state == "sent_inactive"


def test_company_card_is_refused_with_r17(w, sent_card, client):
    client.force_login(w.id_admin)
    response = client.post(card_url(sent_card, "aktivera/"), activation(kind="company_card"))
    assert response.status_code == 409
    assert "(regel R17)" in text_of(response)
    assert Card.objects.get(pk=sent_card.pk).state == "sent_inactive"


def test_e3_when_the_id_admin_ordered_the_card(w, sent_card, client):
    CardOrder.objects.filter(pk=sent_card.order_id).update(ordered_by=w.id_admin)
    client.force_login(w.id_admin)
    response = client.post(card_url(sent_card, "aktivera/"), activation())
    assert response.status_code == 409
    page = text_of(response)
    assert "(regel E3)" in page and rule("E3").sv in page
    assert PIN not in response.content.decode()
    assert Card.objects.get(pk=sent_card.pk).state == "sent_inactive"


def test_unlock_for_a_photo_card_and_r16_for_a_reserve_card(w, eriks_cards, client):
    client.force_login(w.id_admin)
    pins = {"lasupp-pin": PIN, "lasupp-pin_repeat": PIN}
    done = client.post(card_url(eriks_cards.photo, "las-upp-pin/"), pins, follow=True)
    assert "Pin-koden är upplåst" in text_of(done) and PIN not in done.content.decode()
    refused = client.post(card_url(eriks_cards.reserve, "las-upp-pin/"), pins)
    assert refused.status_code == 409
    assert "(regel R16)" in text_of(refused)
    assert PIN not in refused.content.decode()


def test_the_unlock_section_says_how_a_card_is_unlocked_when_not_at_the_office(
    w, eriks_cards, client
):
    """The rule's sentence, and no unlock form that the service would only refuse (R15, R16)."""
    client.force_login(w.id_admin)
    photo, reserve = eriks_cards.photo, eriks_cards.reserve
    unlock_form = f'action="{card_url(photo, "las-upp-pin/")}"'
    assert unlock_form in client.get(card_url(photo)).content.decode()  # unlocked here (R14)
    reserve_page = html.unescape(client.get(card_url(reserve)).content.decode())
    r16 = decide_codes(CodeRequest.UNLOCK_AT_OFFICE, CardType.RESERVE, Generation.PORTRAIT_2024)
    assert "(regel R16)" in reserve_page and r16.sv in reserve_page
    assert "las-upp-pin/" not in reserve_page and "Lås upp</button>" not in reserve_page
    Card.objects.filter(pk=photo.pk).update(generation="legacy")
    legacy_page = html.unescape(client.get(card_url(photo)).content.decode())
    assert "(regel R15)" in legacy_page
    assert unlock_form not in legacy_page


def test_block_with_reason_and_requester(w, eriks_cards, client):
    client.force_login(w.id_admin)
    response = client.post(
        card_url(eriks_cards.photo, "sparra/"),
        {"reason": "lost", "requested_by": "Erik Eriksson", "note": "I disken", "confirm": "on"},
        follow=True,
    )
    assert "Kortet är spärrat" in text_of(response)
    assert Card.objects.get(pk=eriks_cards.photo.pk).state == "blocked"
    assert Block.objects.get(card=eriks_cards.photo).reason == "lost"


def test_actions_take_post_only(w, sent_card, client):
    client.force_login(w.id_admin)
    for action in ("fotografera/", "lamna-ut/", "aktivera/", "las-upp-pin/"):
        assert client.get(card_url(sent_card, action)).status_code == 405
    # Blocking is a step of its own: its page asks for the reason and a confirmation.
    assert client.get(card_url(sent_card, "sparra/")).status_code == 200
