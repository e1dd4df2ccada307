"""The manager on Mina medarbetare: finds an employee in the list by name, orders a photo card
on the employee's page and sees the result at the top, focused; a second photo card is not
offered (E8), and during the stop no card is offered at all (R4), each with the rule ID and
its sentence."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.rulebook import rule
from ekort.domain.vocabulary import CardType
from ekort.services.policy import current_calendar
from ekort.store.models import Card
from tests import instants as t

from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_my_staff(journey: Journey) -> None:
    journey.sign_in("chef")  # Maria is a holder too, so she starts on Mina sidor
    journey.page.get_by_role("navigation").get_by_role("link", name="Mina medarbetare").click()
    expect(journey.page.get_by_role("heading", name="Mina medarbetare", level=1)).to_be_visible()


def open_erik(journey: Journey) -> None:
    """Two steps from the list: type the name in the search box, open the row."""
    page = journey.page
    search = journey.section("Sök medarbetare")
    search.get_by_label("Namn").fill("Erik")
    search.get_by_role("button", name="Visa").click()
    expect(page.get_by_role("row")).to_have_count(2)  # the heading row and Erik's
    page.get_by_role("link", name="Erik Eriksson").click()
    expect(page.get_by_role("heading", name="Erik Eriksson", level=1)).to_be_visible()


def test_orderer_orders_a_photo_card(journey: Journey, w) -> None:
    page = journey.page
    open_my_staff(journey)
    expect(page.locator("#sammanfattning")).to_contain_text("1 medarbetare: 1 utan kort.")
    journey.shot("mina-medarbetare")
    open_erik(journey)
    erik = journey.section("Erik Eriksson")
    expect(erik).to_contain_text("Erik har inga e-tjänstekort.")

    erik.get_by_role("radio", name="Fotokort").check()
    erik.get_by_label("Anteckning (frivillig)").fill("Ny tjänst på akuten")
    journey.shot("bestall-fotokort")
    erik.get_by_role("button", name="Beställ kort").click()
    expect(page.get_by_role("status")).to_have_text("Ett fotokort är beställt åt Erik Eriksson.")
    # The result is at the top of the page, in view, and has the focus.
    expect(page.locator("#resultat")).to_be_focused()
    expect(page.locator("#resultat")).to_be_in_viewport()
    ordered = journey.section("Fotokort – beställt")
    expect(ordered).to_contain_text("Tilldelas när kortet tillverkas")
    expect(ordered).to_contain_text("2024-02-06")
    journey.shot("fotokort-bestallt")
    card = Card.objects.select_related("order").get(person=w.employee)
    assert (card.card_type, card.state) == ("photo", "ordered")
    assert card.order.ordered_by == w.orderer and card.order.note == "Ny tjänst på akuten"

    # A second photo card while the first is on its way is not offered: E8 says why.
    expect(erik.get_by_role("radio", name="Fotokort")).to_have_count(0)
    expect(erik.get_by_role("radio", name="Reservkort")).to_be_checked()
    offer = erik.get_by_role("note").filter(has_text="Fotokort kan inte beställas just nu.")
    expect(offer).to_contain_text("(regel E8)")
    expect(offer).to_contain_text(rule("E8").sv)
    journey.shot("andra-fotokortet-erbjuds-inte-e8")
    assert Card.objects.filter(person=w.employee).count() == 1


def test_orderer_during_the_stop(journey: Journey, w, stop) -> None:
    page = journey.page
    open_my_staff(journey)
    sentence = current_calendar().decide(PolicyAction.ORDER, CardType.RESERVE, t.DURING_FREEZE)
    stopped = page.locator("#bestallningsstopp")
    expect(stopped).to_contain_text("(regel R4)")
    expect(stopped).to_contain_text(sentence.sv)
    open_erik(journey)
    erik = journey.section("Erik Eriksson")
    expect(erik.get_by_role("button", name="Beställ kort")).to_have_count(0)
    expect(erik.get_by_role("radio")).to_have_count(0)
    refused = erik.get_by_role("note").filter(has_text="Reservkort kan inte beställas just nu.")
    expect(refused).to_contain_text("(regel R4)")
    expect(refused).to_contain_text(sentence.sv)
    journey.shot("bestallning-erbjuds-inte-r4")
    assert not Card.objects.filter(person=w.employee).exists()


def test_orderer_orders_from_a_file(journey: Journey, w, tmp_path) -> None:
    """A file of two rows: the preview orders nothing, the confirmation orders both, and the
    same file again orders nothing new (E8, said as already ordered)."""
    page = journey.page
    csv = tmp_path / "nya-teamet.csv"
    csv.write_text(
        f"personnummer;hsa-id;korttyp\n{w.employee.identity_number};;foto\n"
        f";{w.employee.hsa_id};reserv\n",
        encoding="utf-8",
    )
    open_my_staff(journey)
    page.get_by_role("link", name="Beställ kort åt många från en fil").click()
    expect(page.get_by_role("heading", name="Beställ kort från en fil", level=1)).to_be_visible()
    page.get_by_label("Fil med beställningar (CSV, högst 1 MB)").set_input_files(str(csv))
    page.get_by_role("button", name="Visa vad som beställs").click()
    result = journey.section("Så här blir beställningen")
    expect(result).to_contain_text("2 kort beställs, 0 är redan beställda")
    expect(result.get_by_role("row")).to_have_count(3)
    journey.shot("bestallning-fran-fil-forhandsvisning")
    assert not Card.objects.exists()
    page.get_by_role("button", name="Beställ 2 kort").click()
    expect(journey.section("Beställningen är gjord")).to_contain_text("2 kort är beställda")
    journey.shot("bestallning-fran-fil-gjord")
    assert Card.objects.filter(person=w.employee).count() == 2

    page.goto("/medarbetare/bestall-fran-fil/")
    page.get_by_label("Fil med beställningar (CSV, högst 1 MB)").set_input_files(str(csv))
    page.get_by_role("button", name="Visa vad som beställs").click()
    expect(journey.section("Så här blir beställningen")).to_contain_text(
        "0 kort beställs, 2 är redan beställda"
    )
    expect(page.get_by_role("button", name="Beställ 2 kort")).to_have_count(0)
