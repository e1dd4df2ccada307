"""The keyboard alone: Tab, Shift+Tab, the arrow keys, Enter and Space. The holder blocks a lost
card from the sign-in form to the confirmation; the ID administrator finds a person and
activates a card on the PIN pad, then unlocks its PIN; the security officer grants a role. No
mouse event reaches any page on the way."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from ekort.domain.vocabulary import Role
from ekort.services.roles import roles_of
from ekort.store.models import AuditEntry, Block, Card
from tests import instants as t
from tests.integration import journeys
from tests.web.conftest import PASSWORD

from .conftest import EriksCards
from .journey import Journey, has_focus, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PIN = "739164"  # typed on the PIN pad; never shown, never stored

# Counts pointer events in every page of the journey (sessionStorage outlives navigation).
COUNT_POINTER_EVENTS = """
for (const kind of ['pointerdown', 'mousedown']) {
    document.addEventListener(kind, () => {
        const seen = Number(sessionStorage.getItem('pointer-events') || 0);
        sessionStorage.setItem('pointer-events', String(seen + 1));
    }, true);
}
"""


def test_keyboard_holder_blocks_a_lost_card(journey: Journey, w, eriks_cards: EriksCards) -> None:
    page = journey.page
    page.context.add_init_script(COUNT_POINTER_EVENTS)
    keys = page.keyboard

    page.goto("/logga-in/")
    expect(page.get_by_label("Användarnamn")).to_be_focused()  # autofocus
    keys.type("erik")
    keys.press("Tab")
    expect(page.get_by_label("Lösenord")).to_be_focused()
    keys.type(PASSWORD)
    journey.shot("logga-in")
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Mina sidor", level=1)).to_be_visible()

    # The first Tab reaches the skip link; Enter jumps past the header to the content.
    keys.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip).to_be_focused()
    journey.shot("hoppa-till-innehallet")
    keys.press("Enter")
    expect(page.locator("main")).to_be_focused()

    reserve = journey.section("Reservkort – aktivt")
    tab_to(page, reserve.get_by_role("link", name="Spärra kortet"))
    journey.shot("sparra-lanken-i-fokus")
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Spärra reservkort {eriks_cards.reserve.number}"
    )

    lost = page.get_by_role("radio", name="Borttappat")
    tab_to(page, lost)
    keys.press("Space")
    expect(lost).to_be_checked()
    confirm = page.get_by_role("checkbox")
    tab_to(page, confirm)
    keys.press("Space")
    expect(confirm).to_be_checked()
    # One Tab too far, onto Avbryt; Shift+Tab comes back to the button.
    tab_to(page, page.get_by_role("link", name="Avbryt"))
    submit = page.get_by_role("button", name="Spärra kortet")
    assert tab_to(page, submit, backwards=True) == 1
    assert has_focus(submit)
    journey.shot("bekraftat-knappen-i-fokus")
    keys.press("Enter")

    expect(page.get_by_role("status")).to_contain_text(
        f"Kortet {eriks_cards.reserve.number} är spärrat."
    )
    journey.shot("sparrat")
    assert Card.objects.get(pk=eriks_cards.reserve.pk).state == "blocked"
    assert Block.objects.get(card=eriks_cards.reserve).reason == "lost"
    assert page.evaluate("sessionStorage.getItem('pointer-events')") is None


def sign_in_by_keyboard(journey: Journey, username: str, landing: str) -> None:
    page, keys = journey.page, journey.page.keyboard
    page.context.add_init_script(COUNT_POINTER_EVENTS)
    page.goto("/logga-in/")
    expect(page.get_by_label("Användarnamn")).to_be_focused()  # autofocus
    keys.type(username)
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.press("Enter")
    expect(page.get_by_role("heading", name=landing, level=1)).to_be_visible()


def choose(page: Page, select: Locator, label: str) -> None:
    """Pick an option of a focused <select> with the arrow keys, as a keyboard user does."""
    for _ in range(select.locator("option").count()):
        if select.evaluate("s => s.options[s.selectedIndex].text") == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {label!r} reached with the arrow keys")


def test_keyboard_id_admin_activates_on_the_pin_pad(journey: Journey, w) -> None:
    """Find the person, open the card, register the identity document, and the holder types the
    code on the PIN pad; then a new code after a locked PIN. Tab, arrows, typing and Enter."""
    page, keys = journey.page, journey.page.keyboard
    card = journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    sign_in_by_keyboard(journey, "idadmin", "Hitta person")

    number = w.employee.identity_number
    tab_to(page, page.get_by_label("Personnummer, HSA-id eller kortnummer"))
    keys.type(f"{number[:8]}-{number[8:]}")
    keys.press("Enter")
    expect(page.get_by_role("heading", name=w.employee.full_name, level=2)).to_be_visible()
    tab_to(page, page.get_by_role("link", name="Öppna kortet"))
    keys.press("Enter")
    activate = journey.section("Aktivera kortet")

    kind = activate.get_by_label("Id-handling")
    tab_to(page, kind)
    choose(page, kind, "Svenskt pass")
    tab_to(page, activate.get_by_label("Handlingens nummer"))
    keys.type("AB1234567")
    tab_to(page, activate.get_by_label("Giltig till (ÅÅÅÅ-MM-DD)"))
    keys.type("2030-01-01")
    # The PIN pad: the holder types the code twice and presses Enter.
    tab_to(page, activate.get_by_label("Ny säkerhetskod (pin), 6–8 siffror"))
    keys.type(PIN)
    keys.press("Tab")
    expect(activate.get_by_label("Upprepa säkerhetskoden")).to_be_focused()
    keys.type(PIN)
    journey.shot("pin-dosan-med-tangentbordet")
    keys.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Kortet är aktiverat och säkerhetskoden är satt för Erik Eriksson."
    )
    assert Card.objects.get(pk=card.pk).state == "active"

    unlock = journey.section("Lås upp pin-koden")
    tab_to(page, unlock.get_by_label("Ny säkerhetskod (pin), 6–8 siffror"))
    keys.type("620518")
    keys.press("Tab")
    keys.type("620518")
    tab_to(page, unlock.get_by_role("button", name="Lås upp"))
    keys.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Pin-koden är upplåst och den nya säkerhetskoden är satt."
    )
    journey.shot("pin-upplast")
    assert AuditEntry.objects.filter(action="unlock_pin", object_id=str(card.pk)).exists()
    assert page.evaluate("sessionStorage.getItem('pointer-events')") is None


def test_keyboard_security_officer_grants_a_role(journey: Journey, w) -> None:
    """Behörigheter: open an account from the list and grant a role, from the keyboard."""
    page, keys = journey.page, journey.page.keyboard
    w.security_officer.set_password(PASSWORD)
    w.security_officer.save(update_fields=["password"])
    sign_in_by_keyboard(journey, w.security_officer.get_username(), "Behörigheter")
    account = reverse("portal:security-account", args=[w.support.pk])
    tab_to(page, page.locator(f'main a[href="{account}"]'), limit=80)
    keys.press("Enter")
    grant = page.get_by_label("Ge behörigheten")
    tab_to(page, grant)
    choose(page, grant, "Beställare (närmaste chef)")
    keys.press("Tab")
    expect(page.get_by_role("button", name="Ge", exact=True)).to_be_focused()
    journey.shot("ge-behorighet")
    keys.press("Enter")
    expect(
        page.get_by_role("button", name="Ta tillbaka Beställare (närmaste chef)")
    ).to_be_visible()
    assert Role.ORDERER in roles_of(w.support)
    assert page.evaluate("sessionStorage.getItem('pointer-events')") is None
