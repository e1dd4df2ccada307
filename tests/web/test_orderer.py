"""Mina medarbetare: the manager orders, replaces and blocks her staff's cards on each
person's page; refusals show the rule and its Swedish sentence at the top of the page (R4
during the stop, E8)."""

from __future__ import annotations

import html

import pytest

from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.vocabulary import CardType
from ekort.services.policy import current_calendar
from ekort.store.models import Card, CardOrder
from tests import factories
from tests import instants as t

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def person_url(person) -> str:
    return f"/medarbetare/{person.pk}/"


def result_region(page: str) -> str:
    """The top of <main> where an action's result or refusal is shown (and focused)."""
    start = page.index('<div id="resultat"')
    return page[start : page.index("</div>", start)]


def test_order_a_reserve_card_and_see_it_listed(w, client):
    client.force_login(w.orderer)
    response = client.post(
        f"/medarbetare/{w.employee.pk}/bestall/", {"card_type": "reserve", "note": "Ny tjänst"}
    )
    assert response.status_code == 302 and response["Location"] == person_url(w.employee)
    card = Card.objects.get(person=w.employee)
    assert card.card_type == "reserve" and card.state == "ordered"
    assert CardOrder.objects.get(card=card).ordered_by == w.orderer
    page = text_of(client.get(person_url(w.employee)))
    assert "Ett reservkort är beställt åt Erik Eriksson." in result_region(page)
    assert f'id="kort-{card.pk}"' in page and "Beställt" in page
    # The list shows Erik's row with the card ordered.
    listed = text_of(client.get("/medarbetare/"))
    assert "Erik Eriksson" in listed and "Reservkort: beställt" in listed


def test_order_during_the_stop_is_refused_with_r4(w, stop, client):
    client.force_login(w.orderer)
    response = client.post(f"/medarbetare/{w.employee.pk}/bestall/", {"card_type": "photo"})
    assert response.status_code == 409
    top = result_region(text_of(response))
    sentence = current_calendar().decide(PolicyAction.ORDER, CardType.PHOTO, t.DURING_FREEZE).sv
    assert "(regel R4)" in top and sentence in top
    assert not Card.objects.filter(person=w.employee).exists()


def test_a_second_card_of_the_same_type_is_refused_with_e8(w, eriks_cards, client):
    client.force_login(w.orderer)
    response = client.post(f"/medarbetare/{w.employee.pk}/bestall/", {"card_type": "photo"})
    assert response.status_code == 409
    assert "(regel E8)" in result_region(text_of(response))


def test_a_missing_card_type_is_shown_next_to_the_form(w, client):
    client.force_login(w.orderer)
    response = client.post(f"/medarbetare/{w.employee.pk}/bestall/", {})
    assert response.status_code == 400
    assert "Välj fotokort eller reservkort." in result_region(text_of(response))


def test_only_my_own_staff(w, client):
    other = factories.person(given="Olle", family="Annan")
    client.force_login(w.orderer)
    assert (
        client.post(f"/medarbetare/{other.pk}/bestall/", {"card_type": "reserve"}).status_code
        == 404
    )
    assert not Card.objects.filter(person=other).exists()
    assert "Olle" not in text_of(client.get("/medarbetare/"))
    assert client.get(person_url(other)).status_code == 404
    searched = text_of(client.get("/medarbetare/", {"namn": "Olle"}))
    assert "Ingen medarbetare passar sökningen." in searched
    assert f"/medarbetare/{other.pk}/" not in searched and "Olle Annan" not in searched


CONFIRM = {"step": "confirm", "confirm": "on"}


def test_replace_a_damaged_card_says_the_old_one_works_and_asks_first(w, eriks_cards, client):
    client.force_login(w.orderer)
    old = eriks_cards.photo
    url = f"/medarbetare/kort/{old.pk}/ersatt/"
    first = client.post(url, {"reason": "damaged"})  # the staff page's form: nothing happens yet
    assert first.status_code == 200
    page = text_of(first)
    assert "Det gamla kortet fungerar tills det nya kortet har aktiverats" in page
    assert not Card.objects.filter(order__replaces=old).exists()
    # Sent without ticking the box: still nothing, and the page says what is missing.
    unticked = client.post(url, {"reason": "damaged", "step": "confirm"})
    assert unticked.status_code == 400 and "Bekräfta att du har läst" in text_of(unticked)
    assert not Card.objects.filter(order__replaces=old).exists()
    response = client.post(url, {"reason": "damaged", **CONFIRM})
    assert response.status_code == 302 and response["Location"] == person_url(w.employee)
    assert Card.objects.get(pk=old.pk).state == "active"
    new = Card.objects.get(order__replaces=old)
    assert new.state == "ordered" and new.card_type == "photo"
    staff = text_of(client.get(person_url(w.employee)))
    assert "Ett ersättningskort är beställt åt Erik Eriksson." in staff
    assert "fungerar tills det nya kortet har aktiverats" in staff


def test_replace_a_lost_card_says_it_is_blocked_at_once_and_asks_first(w, eriks_cards, client):
    client.force_login(w.orderer)
    old = eriks_cards.photo
    url = f"/medarbetare/kort/{old.pk}/ersatt/"
    page = text_of(client.post(url, {"reason": "lost"}))
    assert "Det gamla kortet spärras direkt när ersättningskortet beställs." in page
    assert "Spärra det gamla kortet och beställ ersättningskort" in page
    assert Card.objects.get(pk=old.pk).state == "active"
    assert client.post(url, {"reason": "lost", **CONFIRM}).status_code == 302
    assert Card.objects.get(pk=old.pk).state == "blocked"
    assert "är spärrat" in result_region(text_of(client.get(person_url(w.employee))))


def test_the_replacement_page_groups_the_reasons_by_what_happens(w, eriks_cards, client):
    client.force_login(w.orderer)
    page = text_of(client.get(f"/medarbetare/kort/{eriks_cards.photo.pk}/ersatt/?reason=expiring"))
    at_once = page.index("Det gamla kortet spärras direkt")
    later = page.index("Det gamla kortet fungerar tills det nya kortet har aktiverats")
    assert at_once < page.index("Borttappat") < later < page.index("Nytt foto")
    assert 'value="expiring" id="skal-expiring" checked' in page


@pytest.mark.parametrize("reason", ["bored", "", "replaced"])
def test_a_bad_reason_is_refused_and_changes_nothing(w, eriks_cards, client, reason):
    client.force_login(w.orderer)
    url = f"/medarbetare/kort/{eriks_cards.photo.pk}/ersatt/"
    response = client.post(url, {"reason": reason, **CONFIRM})
    assert response.status_code == 400
    assert "Välj" in text_of(response)
    assert Card.objects.get(pk=eriks_cards.photo.pk).state == "active"
    assert not Card.objects.filter(order__replaces=eriks_cards.photo).exists()


def test_a_renewal_before_its_90_days_is_refused_on_the_page(w, eriks_cards, client):
    client.force_login(w.orderer)
    url = f"/medarbetare/kort/{eriks_cards.photo.pk}/ersatt/"
    response = client.post(url, {"reason": "expiring", **CONFIRM})
    assert response.status_code == 409 and "(regel E12)" in text_of(response)
    assert not Card.objects.filter(order__replaces=eriks_cards.photo).exists()


def test_replace_during_the_stop_is_refused_and_the_old_card_stays(w, eriks_cards, stop, client):
    client.force_login(w.orderer)
    url = f"/medarbetare/kort/{eriks_cards.photo.pk}/ersatt/"
    response = client.post(url, {"reason": "lost", **CONFIRM})
    assert response.status_code == 409 and "R4" in text_of(response)
    assert Card.objects.get(pk=eriks_cards.photo.pk).state == "active"


def test_block_an_employees_card_even_during_the_stop(w, eriks_cards, stop, client):
    client.force_login(w.orderer)
    url = f"/medarbetare/kort/{eriks_cards.reserve.pk}/sparra/"
    assert "Anställningen har upphört" in text_of(client.get(url))
    response = client.post(url, {"reason": "employment_ended", "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == person_url(w.employee)
    assert Card.objects.get(pk=eriks_cards.reserve.pk).state == "blocked"


def test_protected_identity_hides_the_address_from_the_manager(w, client):
    sara = factories.person(given="Sara", family="Skyddad", manager=w.manager, protected=True)
    client.force_login(w.orderer)
    saras_page = text_of(client.get(person_url(sara)))
    assert "Skyddade personuppgifter – adressen visas inte" in saras_page
    assert "Storgatan 1" not in saras_page
    assert "Storgatan 1" in text_of(client.get(person_url(w.employee)))
    assert "Storgatan 1" not in text_of(client.get("/medarbetare/"))  # no address in the list


def test_protected_holder_does_not_see_an_address_on_mina_sidor(w, client):
    w.employee.protected_identity = True
    w.employee.save(update_fields=["protected_identity"])
    client.force_login(w.holder)
    page = text_of(client.get("/mina-sidor/"))
    assert "Storgatan 1" not in page and "skyddade personuppgifter" in page


def test_a_blocked_card_with_a_live_successor_offers_no_replacement(w, eriks_cards, client):
    client.force_login(w.orderer)
    client.post(f"/medarbetare/kort/{eriks_cards.photo.pk}/ersatt/", {"reason": "lost", **CONFIRM})
    page = client.get(person_url(w.employee)).content.decode()
    assert f'action="/medarbetare/kort/{eriks_cards.photo.pk}/ersatt/"' not in page
    assert f'action="/medarbetare/kort/{eriks_cards.reserve.pk}/ersatt/"' in page
