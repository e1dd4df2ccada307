"""Kundtjänst: the support desk's and issuer administrator's pages. Search by POST, a person's
and a card's history from the real audit trail, block with a confirmation step, re-send a
letter, the overview's counts, and the rules page's timeline."""

from __future__ import annotations

import html
import re

import pytest
from django.db import transaction

from ekort.domain.access import Grant
from ekort.services import audit, cards, clock, print_queue
from ekort.store.models import Block, Card, Letter
from tests import factories
from tests import instants as t
from tests.integration import journeys

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def links_of(page: str) -> list[str]:
    return re.findall(r'(?:href|action)="([^"]*)"', page)


@pytest.fixture
def sent_card(w) -> Card:
    """Erik's photo card, sent home 2024-01-31 with a cover letter, activate by 2024-04-30."""
    return journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)


def test_pages_need_support_or_issuer_admin(w, sent_card, client):
    letter = sent_card.letters.get()
    urls = (
        "/stod/",
        "/stod/oversikt/",
        f"/stod/person/{w.employee.pk}/",
        f"/stod/kort/{sent_card.pk}/",
        f"/stod/kort/{sent_card.pk}/sparra/",
    )
    for url in urls:
        assert client.get(url)["Location"].startswith("/logga-in/")
        for denied in (w.holder, w.orderer, w.id_admin):
            client.force_login(denied)
            assert client.get(url).status_code == 403, url
        for allowed in (w.support, w.issuer):
            client.force_login(allowed)
            assert client.get(url).status_code == 200, url
        client.logout()
    client.force_login(w.id_admin)
    assert client.post(f"/stod/brev/{letter.pk}/skicka-igen/").status_code == 403
    assert client.post("/stod/", {"query": w.employee.hsa_id}).status_code == 403
    assert Letter.objects.count() == 1


def test_navigation_offers_kundtjanst_and_oversikt_to_support_only(w, client):
    client.force_login(w.support)
    page = client.get("/kortkontor/").content.decode()
    assert 'href="/stod/"' in page and 'href="/stod/oversikt/"' in page
    client.force_login(w.id_admin)
    assert 'href="/stod/"' not in client.get("/kortkontor/").content.decode()


def test_search_by_each_identifier_and_name_is_posted_and_masked(w, sent_card, client):
    client.force_login(w.support)
    number = w.employee.identity_number
    for typed in (f"{number[:8]}-{number[8:]}", w.employee.hsa_id, sent_card.number, "Eriksson"):
        response = client.post("/stod/", {"query": typed})
        assert response.status_code == 200, typed
        page = text_of(response)
        assert "Erik Eriksson" in page
        assert f"{number[:8]}-****" in page
        assert number not in page and number[8:] not in page.replace(number[:8], "")
        assert f"/stod/person/{w.employee.pk}/" in links_of(page)
        assert all(number not in link for link in links_of(page))


def test_bad_search_input_is_shown_next_to_the_field(w, client):
    client.force_login(w.issuer)
    response = client.post("/stod/", {"query": "19991231-9999"})
    assert response.status_code == 400
    assert 'class="error" id="fel-query"' in response.content.decode()
    # The right form, the wrong check digit (4 would be right): the sentence says so.
    error = re.search(r'<span class="error" id="fel-query">(.*?)</span>', text_of(response))
    assert error and "kontrollsiffra" in error[1] and "19991231" not in error[1]
    assert client.post("/stod/", {"query": ""}).status_code == 400
    nobody = client.post("/stod/", {"query": "Ingenting"})
    assert nobody.status_code == 200
    assert "Ingen person med det namnet finns i ekort." in text_of(nobody)


def test_person_page_shows_cards_protected_identity_and_real_history(w, client):
    hidden = factories.person(given="Hemlig", family="Person", manager=w.manager, protected=True)
    card = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=hidden)
    client.force_login(w.support)
    page = text_of(client.get(f"/stod/person/{hidden.pk}/"))
    assert "Skyddade personuppgifter." in page
    # A protected address only with the permission of its own (Grant.PROTECTED_ADDRESSES).
    assert "Storgatan 1" not in page
    factories.grant(w.support, Grant.PROTECTED_ADDRESSES)
    assert "Storgatan 1" in text_of(client.get(f"/stod/person/{hidden.pk}/"))
    number = hidden.identity_number
    assert f"{number[:8]}-{number[8:]}" not in page and f"{number[:8]}-****" in page
    assert f"/stod/kort/{card.pk}/" in links_of(page)
    history = page[page.index('id="historik"') :]
    for what in (
        "Kortet aktiverades",
        "Kortet skickades",
        "Kortet tillverkades",
        "Kortet beställdes",
    ):
        assert what in history
    assert history.index("Kortet aktiverades") < history.index("Kortet beställdes")  # newest first
    # Who: by name (Maria Chef ordered); an account with no name set, by its user name.
    assert "idadmin" in history and "Maria Chef" in history and ">chef<" not in history
    assert "Skickat, inte aktiverat → Aktivt" in history  # before → after, in words


def test_history_renders_only_known_keys_escaped(w, sent_card, client):
    with transaction.atomic():
        audit.append(
            [
                audit.Change(
                    actor="<b>x</b>",
                    action="order",
                    object_type="card",
                    object_id=str(sent_card.pk),
                    at=clock.now(),
                    after={
                        "secret_thing": "HEMLIGT-123",
                        "requested_by": "<script>alert(1)</script>",
                    },
                )
            ]
        )
    client.force_login(w.support)
    page = client.get(f"/stod/kort/{sent_card.pk}/").content.decode()
    assert "HEMLIGT-123" not in page and "secret_thing" not in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<b>x</b>" not in page


def test_card_page_shows_deadlines_letters_and_block_link(w, sent_card, client):
    client.force_login(w.issuer)
    page = text_of(client.get(f"/stod/kort/{sent_card.pk}/"))
    assert "Sista dag att aktivera kortet: 2024-04-30 (regel R8)" in re.sub(r"<[^>]+>", "", page)
    assert "Följebrev" in page and "Väntar i utskriftskön" in page
    letter = sent_card.letters.get()
    # Still in the print queue: not offered again until it is printed.
    assert f"/stod/brev/{letter.pk}/skicka-igen/" not in links_of(page)
    print_queue.mark_printed(actor=w.issuer, letter_ids=[letter.pk], now=clock.now())
    page = text_of(client.get(f"/stod/kort/{sent_card.pk}/"))
    assert f"/stod/brev/{letter.pk}/skicka-igen/" in links_of(page)
    assert f"/stod/kort/{sent_card.pk}/sparra/" in links_of(page)


def test_block_needs_confirmation_then_blocks(w, sent_card, client):
    client.force_login(w.support)
    url = f"/stod/kort/{sent_card.pk}/sparra/"
    unconfirmed = client.post(url, {"reason": "lost", "requested_by": "Erik själv"})
    assert unconfirmed.status_code == 400
    assert "Bekräfta att du vill spärra kortet." in text_of(unconfirmed)
    assert Card.objects.get(pk=sent_card.pk).state == "sent_inactive"
    done = client.post(url, {"reason": "lost", "requested_by": "Erik själv", "confirm": "on"})
    assert done.status_code == 302 and done["Location"] == f"/stod/kort/{sent_card.pk}/"
    block = Block.objects.get(card=sent_card)
    assert (block.reason, block.requested_by, block.registered_by) == (
        "lost",
        "Erik själv",
        w.support,
    )
    page = text_of(client.get(done["Location"]))
    assert "Kortet är spärrat." in page and "Kortet spärrades" in page  # message and history


def test_block_refusal_shows_the_rule_next_to_the_form(w, sent_card, client):
    client.force_login(w.issuer)
    url = f"/stod/kort/{sent_card.pk}/sparra/"
    form = {"reason": "stolen", "requested_by": "Chefen", "confirm": "on"}
    assert client.post(url, form).status_code == 302
    again = client.post(url, form)
    assert again.status_code == 409
    page = text_of(again)
    assert "(regel E9)" in page
    assert page.index('class="problem"') < page.index(f'action="{url}"')


def test_resend_cover_letter_and_refusals_by_rule(w, sent_card, client):
    client.force_login(w.support)
    cover = sent_card.letters.get()
    waiting = client.post(f"/stod/brev/{cover.pk}/skicka-igen/")  # not printed yet
    assert waiting.status_code == 409 and "(regel R10)" in text_of(waiting)
    assert "Brevet ligger redan i utskriftskön" in text_of(waiting)
    print_queue.mark_printed(actor=w.issuer, letter_ids=[cover.pk], now=clock.now())
    response = client.post(f"/stod/brev/{cover.pk}/skicka-igen/")
    assert response.status_code == 302
    assert Letter.objects.filter(card=sent_card, kind="cover_letter").count() == 2
    page = text_of(client.get(response["Location"]))
    assert "Brevet skickades igen" in page  # the history
    assert "lagt i utskriftskön igen" in page

    envelope_card = journeys.sent(w, "reserve", t.NEW_PROCESS, t.NEW_PROCESS)
    envelope = envelope_card.letters.get(kind="code_envelope")
    refused = client.post(f"/stod/brev/{envelope.pk}/skicka-igen/")
    assert refused.status_code == 409
    assert "(regel R16)" in text_of(refused)
    assert "Skicka igen" not in text_of(refused).split("Kodkuvert")[1].split("</tr>")[0]
    assert client.post("/stod/brev/987654/skicka-igen/").status_code == 404


def test_resend_pin_puk_letter(w, client):
    card = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    first = cards.order_pin_letter(actor=w.holder, now=clock.now(), card_ids=[card.pk]).one_made()
    print_queue.mark_printed(actor=w.issuer, letter_ids=[first.pk], now=clock.now())
    client.force_login(w.issuer)
    assert f"/stod/brev/{first.pk}/skicka-igen/" in links_of(
        text_of(client.get(f"/stod/kort/{card.pk}/"))
    )
    assert client.post(f"/stod/brev/{first.pk}/skicka-igen/").status_code == 302
    assert Letter.objects.filter(card=card, kind="pin_puk_letter").count() == 2
    # The new one waits in the print queue: not offered again (R14) until it is printed.
    second = Letter.objects.filter(card=card, kind="pin_puk_letter").latest("pk")
    page = text_of(client.get(f"/stod/kort/{card.pk}/"))
    assert f"/stod/brev/{second.pk}/skicka-igen/" not in links_of(page)
    refused = client.post(f"/stod/brev/{second.pk}/skicka-igen/")
    assert refused.status_code == 409 and "(regel R14)" in text_of(refused)
    cover = card.letters.get(kind="cover_letter")
    refused = client.post(f"/stod/brev/{cover.pk}/skicka-igen/")  # the card is active already
    assert refused.status_code == 409 and "(regel R10)" in text_of(refused)


def test_a_pin_puk_letter_sent_again_waits_for_a_second_person(w, client):
    """The issuer administrator who re-sends a PIN/PUK letter can neither approve it nor get
    its PDF; support approves it on the card's page (E14), and then it prints."""
    card = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    first = cards.order_pin_letter(actor=w.holder, now=clock.now(), card_ids=[card.pk]).one_made()
    print_queue.mark_printed(actor=w.issuer, letter_ids=[first.pk], now=clock.now())
    client.force_login(w.issuer)
    client.post(f"/stod/brev/{first.pk}/skicka-igen/")
    second = Letter.objects.filter(card=card, kind="pin_puk_letter").latest("pk")
    approve = f"/stod/brev/{second.pk}/godkann/"
    page = text_of(client.get(f"/stod/kort/{card.pk}/"))
    assert "Väntar på att en andra person godkänner utskicket (regel E14)" in page
    assert approve not in links_of(page)
    queue = text_of(client.get("/utfardare/utskriftsko/"))
    assert f'value="{second.pk}"' not in queue  # no tick box
    assert f"/utfardare/utskriftsko/brev/{second.pk}/pdf/" not in links_of(queue)
    assert "Väntar på godkännande (regel E14)" in queue
    refused = client.get(f"/utfardare/utskriftsko/brev/{second.pk}/pdf/")
    assert refused.status_code == 409 and "(regel E14)" in text_of(refused)
    refused = client.post(approve)
    assert refused.status_code == 409 and "(regel E14)" in text_of(refused)

    client.force_login(w.support)
    assert approve in links_of(text_of(client.get(f"/stod/kort/{card.pk}/")))
    response = client.post(approve, follow=True)
    assert "Utskicket är godkänt" in text_of(response)
    assert "Utskicket godkändes av en andra person" in text_of(response)  # the history
    client.force_login(w.issuer)
    pdf = client.get(f"/utfardare/utskriftsko/brev/{second.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert client.post("/stod/brev/987654/godkann/").status_code == 404


def test_overview_counts_match_the_world(w, client):
    persons = [factories.person(given=f"P{i}", family="Test", manager=w.manager) for i in range(3)]
    journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=persons[0])  # activate by 04-30
    journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1), person=persons[1])
    journeys.ordered(w, "reserve", t.NEW_PROCESS, person=persons[2])
    client.force_login(w.support)
    response = client.get("/stod/oversikt/")
    assert response.status_code == 200
    page = text_of(response)
    assert "3 kort totalt." in page
    # Five bar charts, their words in HTML (not scaled SVG text), each with its table.
    assert (
        page.count('<figure class="chart"') == 5 and '<span class="bar-label">Aktivt</span>' in page
    )
    for label, n in (("Aktivt", 1), ("Skickat, inte aktiverat", 1), ("Beställt", 1)):
        assert f'<tr><th scope="row">{label}</th><td>{n}</td></tr>' in page
    assert '<tr><th scope="row">Nytt kort (stående, 2024)</th><td>2</td></tr>' in page
    assert '<tr><th scope="row">Följebrev</th><td>2</td></tr>' in page
    assert "2 brev väntar på utskrift." in page
    activation = page[page.index('id="aktivering"') :].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", activation) == ["0", "0", "0"]  # 2024-02-06: 84 days


def test_rules_page_marks_the_chosen_date_on_the_timeline(client, db):
    page = text_of(client.get("/rules/?at=2024-01-24"))
    timeline = page[page.index('id="tidslinje"') :]
    # Drawn in HTML (its text as large as the page's on a phone), hidden from screen readers,
    # which read the list under it; the marker 3/4 into the stop's two days (the 24th's middle).
    assert '<div class="track" aria-hidden="true">' in timeline
    assert 'x1="75.0%"' in timeline
    assert "Valt datum 2024-01-24 ligger i perioden Beställningsstopp." in timeline
    current = re.search(r'<li aria-current="date">(.*?)</li>', timeline, re.S)
    assert current is not None and "stop" in current.group(1) and "2024-01-23" in current.group(1)
    assert "?at=2024-01-26" in links_of(page)  # each period links to its first day
    assert page.count('aria-current="date"') == 1
