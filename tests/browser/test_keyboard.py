"""The holder blocks a lost card with the keyboard alone: Tab, Shift+Tab, Enter and Space,
from the sign-in form to the confirmation. No mouse event reaches any page on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ekort.store.models import Block, Card
from tests.web.conftest import PASSWORD

from .conftest import EriksCards
from .journey import Journey, has_focus, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

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
