"""Kundtjänst (/stod/): support finds a person by identity number (POSTed, never in a URL),
reads a card's deadlines, sends its cover letter again and blocks it after confirming.

Written against the support pages as they stood when the browser tests were added; the
issuer administrator's view of the same pages is in test_issuer_admin.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ekort.services import clock, print_queue
from ekort.store.models import Block, Card, Letter

from .conftest import EriksCards
from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_helps_a_caller(journey: Journey, w, eriks_cards: EriksCards) -> None:
    page = journey.page
    photo = eriks_cards.photo
    number = w.employee.identity_number
    # The cover letter was printed and posted; a letter still in the print queue is not sent
    # again (R10).
    cover = photo.letters.get(kind="cover_letter")
    print_queue.mark_printed(actor=w.issuer, letter_ids=[cover.pk], now=clock.now())
    journey.sign_in("support")
    page.get_by_role("navigation").get_by_role("link", name="Kundtjänst").click()
    query = page.get_by_label("Personnummer, HSA-id, kortnummer eller namn")
    query.fill(f"{number[:8]}-{number[8:]}")
    page.get_by_role("button", name="Sök", exact=True).click()
    hits = journey.section("Träffar")
    expect(hits).to_contain_text(f"{number[:8]}-****")
    expect(query).to_have_value("")
    journey.shot("sok-erik")

    hits.get_by_role("link", name="Erik Eriksson").click()
    expect(page.get_by_role("heading", name="Erik Eriksson", level=1)).to_be_visible()
    journey.shot("personen")
    page.get_by_role("row").filter(has_text="Fotokort").get_by_role(
        "link", name="Öppna kortet"
    ).click()
    deadlines = journey.section("Tidsgränser")
    expect(deadlines).to_contain_text("Sista dag att aktivera kortet: 2024-04-30 (regel R8)")
    journey.shot("kortet-tidsgranser")

    # Erik never got the cover letter: send it again, to the address that holds now.
    letters_before = Letter.objects.filter(card=photo).count()
    journey.section("Brev").get_by_role("button", name="Skicka igen").first.click()
    expect(page.get_by_role("status")).to_contain_text("är lagt i utskriftskön igen")
    journey.shot("brevet-skickas-igen")
    assert Letter.objects.filter(card=photo).count() == letters_before + 1

    # Then he calls again: the card was stolen from his mailbox. Block it.
    journey.section("Spärra kortet").get_by_role("link", name="Spärra kortet …").click()
    page.get_by_label("Stulet").check()
    page.get_by_label("Vem begärde spärren?").fill("Erik Eriksson, per telefon")
    page.get_by_role("checkbox").check()
    journey.shot("sparra")
    page.get_by_role("button", name="Spärra kortet").click()
    expect(page.get_by_role("status")).to_have_text("Kortet är spärrat. Spärren kan inte hävas.")
    journey.shot("sparrat")
    assert Card.objects.get(pk=photo.pk).state == "blocked"
    block = Block.objects.get(card=photo)
    assert block.reason == "stolen" and block.registered_by == w.support

    assert not [url for url in journey.visited if number in url or number[2:] in url]
