"""The four-eyes hand-out at the card office (E11): one ID administrator registers, the card
page and the start page show it waiting, a second administrator approves or withdraws it."""

from __future__ import annotations

import pytest

from ekort.domain.rulebook import rule
from ekort.store.models import Card, FourEyesApproval
from tests import instants as t
from tests.integration import journeys
from tests.web.conftest import simulate
from tests.web.test_office import card_url, text_of

pytestmark = pytest.mark.django_db

HAND_OUT = {
    "lamna-document_kind": "passport",
    "lamna-document_number": "AB 1234567",
    "lamna-document_expires_on": "2030-01-01",
}


@pytest.fixture
def reserve_card(w, settings) -> Card:
    """A reserve card at assurance level 3 awaiting pick-up, on a day in the reserve-only weeks."""
    simulate(settings, "2024-01-16T10:00+01:00")
    return journeys.sent(w, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)


def state(card: Card) -> str:
    return Card.objects.get(pk=card.pk).state


def test_registration_waits_and_a_second_admin_approves(w, reserve_card, client):
    client.force_login(w.id_admin)
    page = text_of(client.get(card_url(reserve_card)))
    assert "när du lämnat ut kortet godkänner en annan id-administratör" in page
    done = client.post(card_url(reserve_card, "lamna-ut/"), HAND_OUT, follow=True)
    page = text_of(done)
    assert "Utlämningen är registrerad" in page
    assert "Väntar på godkännande av en andra id-administratör" in page
    assert "idadmin" in page and "Svenskt pass" in page and "AB1234567" in page
    assert "Godkänn utlämning" not in page  # not for the one who registered it
    assert "Återkalla registreringen" in page
    assert state(reserve_card) == "awaiting_pickup"

    client.force_login(w.id_admin_2)
    start = text_of(client.get("/kortkontor/arbete/"))
    assert "Registreringar som väntar på godkännande" in start
    assert card_url(reserve_card) in start and "AB1234567" not in start
    assert "Godkänn utlämning" in text_of(client.get(card_url(reserve_card)))
    approved = client.post(card_url(reserve_card, "godkann-utlamning/"), follow=True)
    assert "Utlämningen är godkänd" in text_of(approved)
    assert state(reserve_card) == "active"
    assert "Registreringar som väntar" not in text_of(client.get("/kortkontor/arbete/"))


def test_the_registrar_is_refused_with_e11_next_to_the_form(w, reserve_card, client):
    client.force_login(w.id_admin)
    client.post(card_url(reserve_card, "lamna-ut/"), HAND_OUT)
    refused = client.post(card_url(reserve_card, "godkann-utlamning/"))
    assert refused.status_code == 409
    page = text_of(refused)
    assert "(regel E11)" in page and rule("E11").sv in page
    # Shown inside the waiting hand-out's section, after its heading.
    assert page.index("Väntar på godkännande") < page.index("(regel E11)")
    assert state(reserve_card) == "awaiting_pickup"


def test_withdraw_a_wrong_registration(w, reserve_card, client):
    client.force_login(w.id_admin)
    client.post(card_url(reserve_card, "lamna-ut/"), HAND_OUT)
    client.force_login(w.id_admin_2)
    done = client.post(
        card_url(reserve_card, "aterkalla-utlamning/"),
        {"aterkalla-note": "Fel handlingsnummer"},
        follow=True,
    )
    page = text_of(done)
    assert "Registreringen är återkallad" in page
    assert "Väntar på godkännande" not in page and "Lämna ut kortet" in page
    approval = FourEyesApproval.objects.get(card=reserve_card)
    assert (approval.outcome, approval.note) == ("withdrawn", "Fel handlingsnummer")
    refused = client.post(card_url(reserve_card, "aterkalla-utlamning/"), {})
    assert refused.status_code == 409 and "(regel E11)" in text_of(refused)


def test_the_approval_pages_take_post_only(w, reserve_card, client):
    client.force_login(w.id_admin)
    for action in ("godkann-utlamning/", "aterkalla-utlamning/"):
        assert client.get(card_url(reserve_card, action)).status_code == 405


# --- four-eyes activation (the new process: cards are sent home inactive, R6-R9) --------------

REGISTER_ACTIVATION = {
    "aktivera-document_kind": "passport",
    "aktivera-document_number": "AB 1234567",
    "aktivera-document_expires_on": "2030-01-01",
}
PIN_PAD = {"godkann-pin": journeys.PIN, "godkann-pin_repeat": journeys.PIN}


@pytest.fixture
def inactive_reserve_card(w, settings) -> Card:
    """A reserve card at assurance level 3 sent home inactive, in the new process."""
    simulate(settings, "2024-02-05T10:00+01:00")
    card = journeys.sent(w, "reserve", t.NEW_PROCESS, t.NEW_PROCESS)
    assert (card.state, card.assurance_level) == ("sent_inactive", "3")
    return card


def test_activation_is_registered_and_approved_with_the_holders_pin(
    w, inactive_reserve_card, client
):
    card = inactive_reserve_card
    client.force_login(w.id_admin)
    page = text_of(client.get(card_url(card)))
    # Only step 1: the PIN pad belongs to the approval.
    assert "Steg 1: id-handling" in page and "Steg 2: pin-dosan" not in page
    assert 'name="aktivera-pin"' not in page
    assert "en annan id-administratör godkänner aktiveringen" in page
    done = client.post(card_url(card, "aktivera/"), REGISTER_ACTIVATION, follow=True)
    page = text_of(done)
    assert "Aktiveringen är registrerad" in page
    assert "Väntar på godkännande av en andra id-administratör" in page
    assert "Du registrerade aktiveringen" in page and 'name="godkann-pin"' not in page
    assert "Aktivera kortet" not in page  # nothing to register twice
    assert state(card) == "sent_inactive"

    client.force_login(w.id_admin_2)
    start = text_of(client.get("/kortkontor/arbete/"))
    assert "Registreringar som väntar på godkännande" in start and "Aktivering" in start
    assert card_url(card) in start and "AB1234567" not in start
    page = text_of(client.get(card_url(card)))
    assert 'name="godkann-pin"' in page and 'name="godkann-pin_repeat"' in page
    assert "Godkänn och aktivera" in page
    approved = client.post(card_url(card, "godkann-aktivering/"), PIN_PAD, follow=True)
    page = text_of(approved)
    assert "Aktiveringen är godkänd" in page and journeys.PIN not in page
    assert state(card) == "active"
    assert "Registreringar som väntar" not in text_of(client.get("/kortkontor/arbete/"))


def test_mismatched_pins_at_approval_change_nothing_and_are_not_echoed(
    w, inactive_reserve_card, client
):
    card = inactive_reserve_card
    client.force_login(w.id_admin)
    client.post(card_url(card, "aktivera/"), REGISTER_ACTIVATION)
    client.force_login(w.id_admin_2)
    response = client.post(
        card_url(card, "godkann-aktivering/"),
        {"godkann-pin": journeys.PIN, "godkann-pin_repeat": "739165"},
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "Koderna är inte lika" in page
    assert journeys.PIN not in page and "739165" not in page
    assert state(card) == "sent_inactive"


def test_the_registrar_cannot_approve_the_activation(w, inactive_reserve_card, client):
    card = inactive_reserve_card
    client.force_login(w.id_admin)
    client.post(card_url(card, "aktivera/"), REGISTER_ACTIVATION)
    refused = client.post(card_url(card, "godkann-aktivering/"), PIN_PAD)
    assert refused.status_code == 409
    page = text_of(refused)
    assert "(regel E11)" in page and journeys.PIN not in page
    assert page.index("Väntar på godkännande") < page.index("(regel E11)")
    assert state(card) == "sent_inactive"


def test_a_too_simple_pin_at_approval_is_refused_with_e6(w, inactive_reserve_card, client):
    card = inactive_reserve_card
    client.force_login(w.id_admin)
    client.post(card_url(card, "aktivera/"), REGISTER_ACTIVATION)
    client.force_login(w.id_admin_2)
    pins = {"godkann-pin": "999999", "godkann-pin_repeat": "999999"}
    refused = client.post(card_url(card, "godkann-aktivering/"), pins)
    assert refused.status_code == 409
    page = text_of(refused)
    assert "(regel E6)" in page and "999999" not in page
    assert state(card) == "sent_inactive"


def test_withdraw_a_wrong_activation(w, inactive_reserve_card, client):
    card = inactive_reserve_card
    client.force_login(w.id_admin)
    client.post(card_url(card, "aktivera/"), REGISTER_ACTIVATION)
    client.force_login(w.id_admin_2)
    done = client.post(
        card_url(card, "aterkalla-utlamning/"), {"aterkalla-note": "Fel nummer"}, follow=True
    )
    page = text_of(done)
    assert "Kortet kan registreras för aktivering igen" in page
    assert "Väntar på godkännande" not in page and "Aktivera kortet" in page
    assert state(card) == "sent_inactive"


def test_the_activation_approval_takes_post_only(w, inactive_reserve_card, client):
    client.force_login(w.id_admin)
    assert client.get(card_url(inactive_reserve_card, "godkann-aktivering/")).status_code == 405
