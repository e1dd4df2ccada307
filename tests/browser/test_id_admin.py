"""Kortkontoret: the ID administrator finds people by identity number (POSTed, never in a
URL), photographs an ordered card and sees the card face, activates a sent card on the PIN-pad
screen and unlocks its PIN."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import FilePayload, expect

from ekort.store.models import AuditEntry, Card, Person
from tests import instants as t
from tests.integration import journeys

from .journey import Journey, portrait_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PIN = "739164"  # what the holder types on the PIN pad; never shown, never stored


def typed(person: Person) -> str:
    number = person.identity_number
    return f"{number[:8]}-{number[8:]}"


def forms_of(person: Person) -> list[str]:
    """Every way the identity number could be written in a URL."""
    number = person.identity_number
    return [number, number[2:], typed(person), f"{number[2:8]}-{number[8:]}"]


def find(journey: Journey, person: Person) -> None:
    page = journey.page
    page.get_by_role("navigation").get_by_role("link", name="Id-administration").click()
    expect(page.get_by_role("heading", name="Hitta person", level=1)).to_be_visible()
    query = page.get_by_label("Personnummer, HSA-id eller kortnummer")
    query.fill(typed(person))
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.get_by_role("heading", name=person.full_name, level=2)).to_be_visible()
    expect(query).to_have_value("")  # a fresh form: the number is not repeated in the page
    expect(page.locator("main")).to_contain_text(f"{person.identity_number[:8]}-****")


def test_id_admin_at_the_card_office(journey: Journey, w, karin: Person) -> None:
    page = journey.page
    karins = journeys.ordered(w, "photo", t.NEW_PROCESS, person=karin)
    eriks = journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    journey.sign_in("idadmin")

    # Karin comes to have her photo taken.
    find(journey, karin)
    expect(page.get_by_role("row").filter(has_text="Fotokort")).to_contain_text("Beställt")
    journey.shot("hitta-karin")
    page.get_by_role("link", name="Öppna kortet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fotokort för Karin Kollega")
    page.get_by_label("Foto (JPEG eller PNG, högst 5 MB)").set_input_files(
        files=FilePayload(name="karin.png", mimeType="image/png", buffer=portrait_png())
    )
    journey.shot("valj-foto")
    page.get_by_role("button", name="Visa fotot på kortet").click()
    # The preview: the photo on the card's face, not saved until the ID administrator says so.
    face = page.get_by_role("figure", name="Kortets framsida")
    expect(face).to_contain_text("Karin Kollega")
    expect(face).to_contain_text("Region Gävleborg")
    photo = face.get_by_role("img", name="Kortinnehavarens foto")
    expect(photo).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 90  # it decoded
    journey.shot("kortets-framsida")
    assert Card.objects.get(pk=karins.pk).state == "ordered"
    page.get_by_role("button", name="Spara fotot").click()
    expect(page.get_by_role("status")).to_contain_text("Fotot är sparat.")
    assert Card.objects.get(pk=karins.pk).state == "photographed"

    # Erik comes with the card that was sent home, to activate it.
    find(journey, w.employee)
    expect(page.get_by_role("row").filter(has_text="Fotokort")).to_contain_text(
        "Aktiveras senast 2024-04-30"
    )
    journey.shot("hitta-erik")
    page.get_by_role("link", name="Öppna kortet").click()
    activate = journey.section("Aktivera kortet")
    activate.get_by_label("Id-handling").select_option(label="Svenskt pass")
    activate.get_by_label("Handlingens nummer").fill("AB1234567")
    activate.get_by_label("Giltig till (ÅÅÅÅ-MM-DD)").fill("2030-01-01")
    journey.shot("aktivera-id-handling")
    # The PIN pad: the screen is turned to Erik, who types his code twice.
    activate.get_by_label("Ny säkerhetskod (pin), 6–8 siffror").fill(PIN)
    activate.get_by_label("Upprepa säkerhetskoden").fill(PIN)
    expect(activate.get_by_label("Upprepa säkerhetskoden")).to_have_attribute("type", "password")
    journey.shot("aktivera-pin-dosan")
    activate.get_by_role("button", name="Aktivera").click()
    expect(page.get_by_role("status")).to_have_text(
        "Kortet är aktiverat och säkerhetskoden är satt för Erik Eriksson."
    )
    assert PIN not in page.content()
    journey.shot("aktiverat")
    assert Card.objects.get(pk=eriks.pk).state == "active"

    # Later Erik has typed a wrong PIN three times: unlock it with a new one.
    unlock = journey.section("Lås upp pin-koden")
    unlock.get_by_label("Ny säkerhetskod (pin), 6–8 siffror").fill("620518")
    unlock.get_by_label("Upprepa säkerhetskoden").fill("620518")
    unlock.get_by_role("button", name="Lås upp").click()
    expect(page.get_by_role("status")).to_have_text(
        "Pin-koden är upplåst och den nya säkerhetskoden är satt."
    )
    assert "620518" not in page.content()
    journey.shot("pin-upplast")
    assert AuditEntry.objects.filter(
        action="unlock_pin", object_id=str(eriks.pk), actor="idadmin"
    ).exists()

    # Two people found by identity number, and not one URL the browser asked for carries it.
    assert journey.visited
    for person in (karin, w.employee):
        for written in forms_of(person):
            assert not [url for url in journey.visited if written in url], written
