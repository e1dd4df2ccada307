"""The card holder on Mina sidor: cards and deadlines, a PIN/PUK letter refused for a reserve
card (R16), a lost card blocked through the confirmation step, and the card offices."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ekort.domain.pins import CodeRequest, decide_codes
from ekort.domain.rulebook import rule
from ekort.domain.vocabulary import CardType, Generation
from ekort.store.models import Block, Card, Letter

from .conftest import EriksCards
from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_holder_mina_sidor(journey: Journey, w, eriks_cards: EriksCards, offices) -> None:
    page = journey.page
    journey.sign_in("erik")
    expect(page).to_have_url(re.compile(r"/mina-sidor/$"))  # a holder's start page
    expect(page.get_by_role("heading", name="Mina sidor", level=1)).to_be_visible()
    photo = journey.section("Fotokort – skickat, inte aktiverat")
    reserve = journey.section("Reservkort – aktivt")
    # The photo card waits to be activated: its last day (R8) is the deadline shown.
    expect(photo).to_contain_text("Aktiveras senast")
    expect(photo).to_contain_text("30 april 2024")
    expect(photo).to_contain_text(eriks_cards.photo.number or "")
    valid_until = eriks_cards.reserve.valid_until
    assert valid_until is not None
    expect(reserve).to_contain_text(valid_until.isoformat())
    expect(reserve).to_contain_text(rule("R16").sv)  # the sentence, no rule ID for a holder
    expect(reserve).not_to_contain_text("regel R16")
    journey.shot("mina-sidor")

    # A reserve card has no letter to order (R16): the page offers no button, and says why.
    expect(reserve.get_by_role("button", name="Beställ pin/puk-brev")).to_have_count(0)
    # A page that still offered one (an old tab) would post this form; the answer is R16.
    reserve_id = eriks_cards.reserve.pk
    page.evaluate(
        """id => {
            const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
            const form = document.createElement('form');
            form.method = 'post';
            form.action = `/mina-sidor/kort/${id}/pinbrev/`;
            form.innerHTML = `<input type=hidden name=csrfmiddlewaretoken value="${token}">
                              <button type=submit>Beställ pin/puk-brev</button>`;
            document.querySelector('#kort-' + id).parentElement.append(form);
        }""",
        reserve_id,
    )
    reserve.get_by_role("button", name="Beställ pin/puk-brev").click()
    refusal = journey.section("Reservkort – aktivt").get_by_role("alert")
    expect(refusal).to_contain_text("Det går inte:")
    expect(refusal).not_to_contain_text("regel R16")  # a holder reads the sentence, no rule ID
    sentence = decide_codes(CodeRequest.SEND_LETTER, CardType.RESERVE, Generation.PORTRAIT_2024).sv
    expect(refusal).to_contain_text(sentence)
    journey.shot("pinbrev-nekas-r16")
    assert not Letter.objects.filter(kind="pin_puk_letter").exists()

    # The reserve card is lost: block it, which takes a confirmation.
    journey.section("Reservkort – aktivt").get_by_role("link", name="Spärra kortet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Spärra reservkort {eriks_cards.reserve.number}"
    )
    page.get_by_label("Borttappat").check()
    journey.shot("sparra-valj-skal")
    page.get_by_role("button", name="Spärra kortet").click()
    expect(page.get_by_text("Bekräfta att du vill spärra kortet.")).to_be_visible()
    assert Card.objects.get(pk=reserve_id).state == "active"
    journey.shot("sparra-bekrafta-saknas")

    page.get_by_label("Jag förstår att en spärr inte kan hävas").check()
    page.get_by_role("button", name="Spärra kortet").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Kortet {eriks_cards.reserve.number} är spärrat."
    )
    expect(journey.section("Reservkort – spärrat")).to_contain_text("Spärrat (borttappat)")
    journey.shot("sparrat")
    assert Card.objects.get(pk=reserve_id).state == "blocked"
    block = Block.objects.get(card_id=reserve_id)
    assert block.reason == "lost" and block.registered_by == w.holder

    # Where to go to activate the photo card: the card offices, open or closed right now.
    page.get_by_role("navigation").get_by_role("link", name="Kortkontor").click()
    expect(page.get_by_role("heading", name="Kortkontor", level=1)).to_be_visible()
    gavle = journey.section("Kortkontoret Gävle sjukhus")
    expect(gavle).to_contain_text("Öppet nu, stänger 16:00")  # Tuesday 10:00
    expect(journey.section("Kortkontoret Ljusdal")).to_contain_text("Stängt, öppnar")
    journey.shot("kortkontor")
