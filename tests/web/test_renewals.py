"""Kort som går ut: the worklist page and its CSV file, the holder's notice on Mina sidor and the
overview's counts (E12). The portal's clock is 2024-02-06; Erik's photo card is made to end on
2024-04-30, 84 days later (within 90 days, not within 30)."""

from __future__ import annotations

import csv
import html
import io
from datetime import date

import pytest

from ekort.store.models import Account, Card, CardOffice, Certificate, Person
from tests import instants as t

pytestmark = pytest.mark.django_db

LAST_DAY = date(2024, 4, 30)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def ending(eriks_cards):
    card = eriks_cards.photo
    Card.objects.filter(pk=card.pk).update(valid_until=LAST_DAY)
    Certificate.objects.filter(card=card).update(not_after=t.sthlm(2024, 4, 30, 23, 59, 59))
    card.refresh_from_db()
    return card


def test_the_manager_sees_her_staffs_card_and_can_renew_it(w, ending, client):
    client.force_login(w.orderer)
    page = text_of(client.get("/kort-som-gar-ut/"))
    assert ending.number in page and "Erik Eriksson" in page and "2024-04-30" in page
    assert f"/medarbetare/kort/{ending.pk}/ersatt/?reason=expiring" in page
    assert ending.number not in text_of(client.get("/kort-som-gar-ut/?dagar=30"))
    renew = text_of(client.get(f"/medarbetare/kort/{ending.pk}/ersatt/?reason=expiring"))
    assert 'value="expiring" id="skal-expiring" checked' in renew


def test_a_renewal_under_way_takes_it_off_the_list(w, ending, client):
    client.force_login(w.orderer)
    url = f"/medarbetare/kort/{ending.pk}/ersatt/"
    response = client.post(url, {"reason": "expiring", "step": "confirm", "confirm": "on"})
    assert response.status_code == 302
    assert f"<td>{ending.number}</td>" not in text_of(client.get("/kort-som-gar-ut/"))
    assert Card.objects.get(pk=ending.pk).state == "active"


def test_the_csv_file_has_the_cards_and_no_identity_number(w, ending, client):
    # The test factory builds HSA-ids from the identity number; a real one does not.
    Person.objects.filter(pk=w.employee.pk).update(hsa_id="SE2321000198-erik01")
    client.force_login(w.support)
    response = client.get("/kort-som-gar-ut/csv/?dagar=90")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Kortnummer" and "Dagar kvar" in rows[0]
    [row] = rows[1:]
    assert row[0] == ending.number and row[3] == "Erik Eriksson" and row[9] == "2024-04-30"
    assert row[10] == "84"
    assert w.employee.identity_number not in text
    assert w.employee.identity_number[2:8] not in text


def test_the_id_administrator_sees_the_cards_of_her_office(w, ending, client):
    client.force_login(w.id_admin)
    assert ending.number not in text_of(client.get("/kort-som-gar-ut/"))  # no office recorded
    office = CardOffice.objects.create(
        name="Kortkontoret", town="Gävle", street_address="Gatan 1", postal_code="80187"
    )
    Account.objects.filter(user=w.id_admin).update(office=office)
    assert ending.number in text_of(client.get("/kort-som-gar-ut/"))


def test_the_holder_is_told_on_mina_sidor(w, ending, client):
    client.force_login(w.holder)
    page = text_of(client.get("/mina-sidor/"))
    assert "Kort som snart slutar gälla" in page
    assert f"Kortet {ending.number} gäller till och med 2024-04-30 (84 dagar kvar)." in page
    assert "Be din chef att beställa ett nytt kort." in page


def test_the_overview_counts_them(w, ending, client):
    client.force_login(w.support)
    page = text_of(client.get("/stod/oversikt/"))
    section = page[page.index("Kort som går ut utan att ett nytt kort är beställt") :]
    assert 'id="gar-ut-90"' in section
    ninety = section[section.index('id="gar-ut-90"') :]
    assert "<td>1</td>" in ninety[:200]
    thirty = section[section.index('id="gar-ut-30"') :]
    assert "<td>0</td>" in thirty[:200]
