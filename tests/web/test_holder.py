"""Mina sidor: the holder's cards, PIN/PUK letters (R14-R16), blocking a lost card, offices and
questions and answers."""

from __future__ import annotations

import html

import pytest

from ekort.domain.rulebook import rule
from ekort.store.models import Block, Card, CardOffice, Letter, OpeningInterval

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def test_my_cards_show_type_state_number_and_validity(w, eriks_cards, client):
    client.force_login(w.holder)
    page = text_of(client.get("/mina-sidor/"))
    photo = eriks_cards.photo
    assert "Fotokort" in page and "Reservkort" in page
    assert "Aktivt" in page
    assert photo.number in page
    assert photo.valid_until.isoformat() in page
    assert "Storgatan 1" in page  # where the letters go
    assert rule("R16").sv in page and "regel R16" not in page  # the PIN route, in words


def test_a_card_sent_home_shows_its_last_day_to_activate(w, client):
    from tests import instants as t
    from tests.integration import journeys

    journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    client.force_login(w.holder)
    page = text_of(client.get("/mina-sidor/"))
    assert "Skickat, inte aktiverat" in page
    assert "Aktiveras senast" in page and "30 april 2024" in page


def test_holder_sees_only_own_cards(w, eriks_cards, colleagues_card, client):
    client.force_login(w.holder)
    page = text_of(client.get("/mina-sidor/"))
    assert eriks_cards.photo.number in page
    assert colleagues_card.number not in page


def test_pin_letter_for_a_photo_card(w, eriks_cards, client):
    client.force_login(w.holder)
    response = client.post(f"/mina-sidor/kort/{eriks_cards.photo.pk}/pinbrev/", follow=True)
    assert "Pin/puk-brevet är beställt" in text_of(response)
    letter = Letter.objects.get(kind="pin_puk_letter")
    assert letter.card_id == eriks_cards.photo.pk


def test_no_second_pin_letter_while_the_first_is_queued(w, eriks_cards, client):
    """The form is gone while the letter waits for the printer; a POST all the same is
    refused with the card's rule (R14) and queues nothing."""
    client.force_login(w.holder)
    url = f"/mina-sidor/kort/{eriks_cards.photo.pk}/pinbrev/"
    client.post(url)
    page = text_of(client.get("/mina-sidor/"))
    assert f'action="{url}"' not in page
    assert "Ett pin/puk-brev är beställt och ligger i utskriftskön" in page
    response = client.post(url)
    assert response.status_code == 409
    # A holder reads the sentence; the rule's ID is for staff (issue 15).
    assert "Det går inte:" in text_of(response) and "regel R14" not in text_of(response)
    assert Letter.objects.filter(kind="pin_puk_letter").count() == 1


def test_pin_letter_for_a_reserve_card_is_refused_with_r16(w, eriks_cards, client):
    client.force_login(w.holder)
    response = client.post(f"/mina-sidor/kort/{eriks_cards.reserve.pk}/pinbrev/")
    assert response.status_code == 409
    page = text_of(response)
    assert "Det går inte:" in page and "regel R16" not in page
    assert "nytt kodbrev kan inte beställas" in page
    assert not Letter.objects.filter(kind="pin_puk_letter").exists()


def test_the_pin_letter_is_offered_where_the_rules_allow_it(w, eriks_cards, client):
    """The page asks the same rules as the service (R14, R16; the registered address)."""
    client.force_login(w.holder)
    photo, reserve = eriks_cards.photo, eriks_cards.reserve
    page = text_of(client.get("/mina-sidor/"))
    assert f'action="/mina-sidor/kort/{photo.pk}/pinbrev/"' in page
    assert f'action="/mina-sidor/kort/{reserve.pk}/pinbrev/"' not in page  # R16
    w.employee.street_address = ""
    w.employee.save(update_fields=["street_address"])
    page = text_of(client.get("/mina-sidor/"))
    assert "Det finns ingen folkbokföringsadress registrerad för dig." in page
    assert "/pinbrev/" not in page


def test_someone_elses_card_is_not_found_and_nothing_changes(w, eriks_cards, client):
    client.force_login(w.orderer)  # Maria is a holder too, but not of Erik's cards
    photo = eriks_cards.photo
    assert client.post(f"/mina-sidor/kort/{photo.pk}/pinbrev/").status_code == 404
    assert client.get(f"/mina-sidor/kort/{photo.pk}/sparra/").status_code == 404
    blocked = client.post(
        f"/mina-sidor/kort/{photo.pk}/sparra/", {"reason": "lost", "confirm": "on"}
    )
    assert blocked.status_code == 404
    assert Card.objects.get(pk=photo.pk).state == "active"
    assert not Letter.objects.filter(kind="pin_puk_letter").exists()
    assert client.post("/mina-sidor/kort/999999/pinbrev/").status_code == 404


def test_block_my_lost_card_after_confirming(w, eriks_cards, client):
    client.force_login(w.holder)
    url = f"/mina-sidor/kort/{eriks_cards.photo.pk}/sparra/"
    form = text_of(client.get(url))
    for reason in ("Borttappat", "Stulet", "Skadat"):
        assert reason in form

    unconfirmed = client.post(url, {"reason": "lost"})
    assert unconfirmed.status_code == 400
    assert "Bekräfta att du vill spärra kortet." in text_of(unconfirmed)
    no_reason = client.post(url, {"confirm": "on"})
    assert "Välj varför kortet ska spärras." in text_of(no_reason)
    assert Card.objects.get(pk=eriks_cards.photo.pk).state == "active"

    done = client.post(url, {"reason": "lost", "confirm": "on"}, follow=True)
    assert "är spärrat" in text_of(done)
    assert Card.objects.get(pk=eriks_cards.photo.pk).state == "blocked"
    block = Block.objects.get(card=eriks_cards.photo)
    assert block.reason == "lost" and block.registered_by == w.holder
    assert "Spärrat (borttappat)" in text_of(client.get("/mina-sidor/"))

    again = client.post(url, {"reason": "lost", "confirm": "on"})
    assert again.status_code == 409 and "E9" in text_of(again)


def test_a_holder_may_not_give_a_staff_reason(w, eriks_cards, client):
    client.force_login(w.holder)
    url = f"/mina-sidor/kort/{eriks_cards.photo.pk}/sparra/"
    response = client.post(url, {"reason": "employment_ended", "confirm": "on"})
    assert response.status_code == 400
    assert Card.objects.get(pk=eriks_cards.photo.pk).state == "active"


def test_offices_by_town_open_now(w, client):
    from datetime import time

    gavle = CardOffice.objects.create(
        name="Kortkontoret Gävle sjukhus",
        town="Gävle",
        street_address="Lasarettsvägen 1",
        postal_code="80187",
    )
    ljusdal = CardOffice.objects.create(
        name="Kortkontoret Ljusdal",
        town="Ljusdal",
        street_address="Riddarvägen 2",
        postal_code="82730",
    )
    for weekday in range(5):
        OpeningInterval.objects.create(
            office=gavle, weekday=weekday, opens=time(8), closes=time(16)
        )
        OpeningInterval.objects.create(
            office=ljusdal, weekday=weekday, opens=time(13), closes=time(15)
        )
    client.force_login(w.holder)
    page = text_of(client.get("/kortkontor/"))
    assert page.index("<h2>Gävle</h2>") < page.index("<h2>Ljusdal</h2>")
    assert "Öppet nu" in page and "stänger 16:00" in page  # Gävle, Tuesday 10:00
    assert "Stängt" in page and "öppnar tisdag 6 februari 13:00" in page  # Ljusdal
    assert "Måndag" in page and "08:00–16:00" in page


def test_questions_and_answers_and_support(w, client):
    client.force_login(w.holder)
    page = text_of(client.get("/mina-sidor/fragor-och-svar/"))
    for rule_id in ("R12", "R14", "R15", "R16", "R17", "R18"):
        assert f"regel {rule_id}" in page
    assert "ekortorder@regiongavleborg.se" in page
    assert "(026-1) 53 000" in page and "välj IT och sedan e-tjänstekort" in page
    assert "SIS-märkning" in page and "underskriftstjänst" in page
