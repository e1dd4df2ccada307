"""What the people register's changes show in the portal: a name change makes a card's face
outdated, and the manager and the holder are offered a replacement for it; a protected address
only for staff with the permission of its own, never in a list; the person's history names
the import."""

from __future__ import annotations

import html

import pytest

from ekort.domain.access import Grant
from ekort.services.people_register import apply_records
from ekort.services.people_sources import csv_records
from ekort.store.models import Unit
from tests import factories
from tests import instants as t

pytestmark = pytest.mark.django_db

# After the cards of `eriks_cards` were produced (2024-01-31) and before PORTAL_NOW.
RENAMED_AT = t.sthlm(2024, 2, 5, 9)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def rename_erik(w, family: str = "Berg", **columns: str) -> None:
    names = ["identity_number", "given_name", "family_name", *columns]
    values = [w.employee.identity_number, "Erik", family, *columns.values()]
    text = ",".join(names) + "\n" + ",".join(values) + "\n"
    report = apply_records(source="people-import:hr.csv", records=csv_records(text), now=RENAMED_AT)
    assert report.problems == []


def test_a_name_change_offers_the_manager_a_replacement_for_it(w, eriks_cards, client):
    client.force_login(w.orderer)
    action = f'action="/medarbetare/kort/{eriks_cards.photo.pk}/ersatt/"'
    erik = f"/medarbetare/{w.employee.pk}/"
    before = client.get(erik).content.decode()
    assert "Beställ ersättningskort (namnbyte)" not in before
    rename_erik(w)
    page = client.get(erik).content.decode()
    offer = page[page.index("Beställ ersättningskort (namnbyte)") - 600 :]
    assert action in offer
    assert 'name="reason" value="name_changed"' in offer
    assert "Erik Berg" in text_of(client.get("/medarbetare/"))
    assert "Erik Berg" in text_of(client.get(erik))


def test_the_offer_orders_a_replacement_for_the_name_change_and_the_old_card_stays(
    w, eriks_cards, client
):
    from ekort.store.models import Card

    rename_erik(w)
    client.force_login(w.orderer)
    old = eriks_cards.photo
    url = f"/medarbetare/kort/{old.pk}/ersatt/"
    asked = client.post(url, {"reason": "name_changed"})  # the offer's button
    assert asked.status_code == 200
    assert "Det gamla kortet fungerar tills det nya kortet har aktiverats" in text_of(asked)
    done = client.post(url, {"reason": "name_changed", "step": "confirm", "confirm": "on"})
    assert done.status_code == 302
    new = Card.objects.get(order__replaces=old)
    assert new.order.replacement_reason == "name_changed"
    assert Card.objects.get(pk=old.pk).state == "active"
    # The offer is not made again for this card while its replacement is on its way; the
    # reserve card, also made before the new name, still has it.
    page = client.get(f"/medarbetare/{w.employee.pk}/").content.decode()
    offers = page.split("Beställ ersättningskort (namnbyte)")[:-1]
    assert len(offers) == 1
    assert f"/medarbetare/kort/{eriks_cards.reserve.pk}/ersatt/" in offers[0][-600:]


def test_a_name_change_tells_the_holder_on_mina_sidor(w, eriks_cards, client):
    client.force_login(w.holder)
    assert "tidigare namn" not in text_of(client.get("/mina-sidor/"))
    rename_erik(w)
    assert "Kortet visar ditt tidigare namn" in text_of(client.get("/mina-sidor/"))


def test_a_card_made_after_the_name_change_is_not_outdated(w, client):
    from tests.integration import journeys

    rename_erik(w)
    journeys.activated(w, "photo", t.sthlm(2024, 2, 5, 10), t.sthlm(2024, 2, 6, 9))
    client.force_login(w.orderer)
    page = client.get(f"/medarbetare/{w.employee.pk}/").content.decode()
    assert "Beställ ersättningskort (namnbyte)" not in page


def test_the_history_names_the_import_and_what_changed(w, client):
    rename_erik(w, email="erik@example.se")
    client.force_login(w.support)
    page = text_of(client.get(f"/stod/person/{w.employee.pk}/"))
    history = page[page.index('id="historik"') :]
    assert "Personuppgifterna ändrades" in history
    assert "Inläsning från personregistret (hr.csv)" in history and "job:" not in history
    assert "Eriksson → Berg" in history
    assert "erik@example.se" in history


def test_the_history_names_a_new_manager_and_unit_not_their_numbers(w, client):
    bo = factories.person(given="Bo", family="Chefsson", unit=w.unit)
    unit = Unit.objects.create(
        organisation=w.unit.organisation, name="Barnkliniken", hsa_id="SE2321000198-barn"
    )
    rename_erik(w, family=w.employee.family_name, manager_hsa_id=bo.hsa_id, unit_hsa_id=unit.hsa_id)
    client.force_login(w.support)
    page = text_of(client.get(f"/stod/person/{w.employee.pk}/"))
    history = page[page.index('id="historik"') :]
    assert f"{w.manager.given_name} {w.manager.family_name} → Bo Chefsson" in history
    assert f"{w.unit.name} → Barnkliniken" in history
    assert "(nr)" not in history and "(person nr)" not in history


def test_a_protected_address_needs_the_permission_of_its_own(w, client):
    hidden = factories.person(given="Hemlig", family="Person", manager=w.manager, protected=True)
    for account in (w.support, w.id_admin, w.issuer):
        account.refresh_from_db()
    client.force_login(w.support)
    assert "Storgatan 1" not in text_of(client.get(f"/stod/person/{hidden.pk}/"))
    factories.grant(w.support, Grant.PROTECTED_ADDRESSES)
    assert "Storgatan 1" in text_of(client.get(f"/stod/person/{hidden.pk}/"))
    # Never in a list: the search results show no address, whoever searches.
    found = text_of(client.post("/stod/", {"query": "Hemlig"}))
    assert "Hemlig Person" in found and "Storgatan 1" not in found
    # A manager has no such permission, whatever groups the account is in.
    factories.grant(w.orderer, Grant.PROTECTED_ADDRESSES)
    client.force_login(w.orderer)
    page = text_of(client.get("/medarbetare/"))
    assert "Storgatan 1" not in page[page.index("Hemlig Person") :]
    assert "Storgatan 1" not in text_of(client.get(f"/medarbetare/{hidden.pk}/"))


def test_the_print_queue_lists_no_protected_address(w, client):
    from tests.integration import journeys

    hidden = factories.person(given="Hemlig", family="Person", manager=w.manager, protected=True)
    journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=hidden)
    client.force_login(w.issuer)
    page = text_of(client.get("/utfardare/utskriftsko/"))
    row = page[page.index("Hemlig Person") :]
    assert "Skyddad" in row[:400] and "Gävle" not in row[:400]


def test_the_api_lists_no_protected_address(w, client, settings):
    from ekort.services import tokens
    from tests.integration import journeys

    hidden = factories.person(given="Hemlig", family="Person", manager=w.manager, protected=True)
    journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=hidden)
    token = tokens.issue_token(actor=w.issuer, name="test", now=t.NEW_PROCESS)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = client.get("/api/v1/letters", **headers).json()
    [letter] = [row for row in listed if row["person_id"] == hidden.pk]
    assert (letter["street_address"], letter["postal_code"], letter["postal_town"]) == ("", "", "")
    factories.grant(w.issuer, Grant.PROTECTED_ADDRESSES)
    number = {"identity_number": hidden.identity_number}
    [found] = client.post(
        "/api/v1/persons/search", number, content_type="application/json", **headers
    ).json()
    assert found["address"] is None  # a list, whoever asks
    one = client.get(f"/api/v1/persons/{hidden.pk}", **headers).json()
    assert one["address"]["street_address"] == "Storgatan 1"
