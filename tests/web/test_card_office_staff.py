"""The portal as card-office staff use it (issue 15, points 5 to 9): forms that fit the card,
search errors that say what is wrong, the print queue as a work queue, the holder's pages with
the live cards first, and landing pages, public pages and the footer."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.staticfiles import finders

from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.vocabulary import CardType, Role
from ekort.services import cards, clock, print_queue
from ekort.services.policy import current_calendar
from ekort.store.models import Account, AuditEntry, Card, CardOffice, Certificate, Letter
from tests import factories
from tests import instants as t
from tests.integration import journeys
from tests.integration.journeys import PIN

from .conftest import PASSWORD, simulate

pytestmark = pytest.mark.django_db

QUEUE = "/utfardare/utskriftsko/"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def card_url(card: Card, action: str = "") -> str:
    return f"/kortkontor/arbete/kort/{card.pk}/{action}"


def ticked(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="brev" value="(\d+)"[^>]* checked', page)]


def waiting_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="brev" value="(\d+)"', page)]


# --- 5. Forms that fit the card --------------------------------------------------------------


def test_a_reserve_card_offers_no_unlock_form_only_its_rule(w, eriks_cards, client):
    client.force_login(w.id_admin)
    page = text_of(client.get(card_url(eriks_cards.reserve)))
    assert "(regel R16)" in page
    assert card_url(eriks_cards.reserve, "las-upp-pin/") not in page
    assert 'name="lasupp-pin"' not in page
    photo_page = text_of(client.get(card_url(eriks_cards.photo)))
    assert 'name="lasupp-pin"' in photo_page  # R14: unlocked at the office


def test_during_the_stop_the_counter_says_why_instead_of_offering_the_form(w, client, settings):
    card = journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    simulate(settings, "2024-01-24T10:00+01:00")  # R4: no card is issued or activated
    # The page says what the calendar says, in its words (R7 in these days of the transition).
    refusal = current_calendar().decide(PolicyAction.ACTIVATE, CardType.PHOTO, clock.now())
    assert not refusal.allowed
    client.force_login(w.id_admin)
    page = text_of(client.get(card_url(card)))
    assert f"(regel {refusal.rule})" in page and refusal.sv in page
    assert card_url(card, "aktivera/") not in page and 'name="aktivera-pin"' not in page
    # Blocking is never refused by the calendar: its step is offered all the same.
    assert f'href="{card_url(card, "sparra/")}"' in page


def test_an_activation_after_its_last_day_shows_r8_and_no_form(w, client, settings):
    card = journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    simulate(settings, "2024-05-02T10:00+02:00")  # sent 2024-01-31: the last day was 04-30
    client.force_login(w.id_admin)
    page = text_of(client.get(card_url(card)))
    assert "(regel R8)" in page and "2024-04-30" in page
    assert 'name="aktivera-pin"' not in page


def test_blocking_is_a_step_of_its_own_with_a_confirmation(w, eriks_cards, client):
    client.force_login(w.id_admin)
    card = eriks_cards.photo
    page = text_of(client.get(card_url(card)))
    # No block form under the card: a link to the step.
    assert 'name="reason"' not in page and 'name="confirm"' not in page
    assert f'href="{card_url(card, "sparra/")}"' in page
    step = text_of(client.get(card_url(card, "sparra/")))
    assert 'name="reason"' in step and 'name="confirm"' in step and "kan inte hävas" in step
    unconfirmed = client.post(
        card_url(card, "sparra/"), {"reason": "lost", "requested_by": "Erik Eriksson"}
    )
    assert unconfirmed.status_code == 400
    assert "Bekräfta att du vill spärra kortet." in text_of(unconfirmed)
    assert Card.objects.get(pk=card.pk).state == "active"
    done = client.post(
        card_url(card, "sparra/"),
        {"reason": "lost", "requested_by": "Erik Eriksson", "confirm": "on"},
        follow=True,
    )
    assert "Kortet är spärrat" in text_of(done)
    assert Card.objects.get(pk=card.pk).state == "blocked"
    # A blocked card has nothing to block: the step sends back to the card.
    assert client.get(card_url(card, "sparra/"))["Location"] == card_url(card)
    assert f'href="{card_url(card, "sparra/")}"' not in text_of(client.get(card_url(card)))


def test_a_wrong_simple_pin_is_a_wrong_pin_not_a_weak_code(w, eriks_cards, client):
    """The PIN typed on the signature page is the card's own: one that would be too simple to
    choose (E6) is simply wrong. A too simple new signature code is the one to say E6 about."""
    client.force_login(w.holder)
    url = f"/mina-sidor/kort/{eriks_cards.photo.pk}/underskriftscertifikat/"
    wrong = client.post(url, {"pin": "111111", "code": "740385", "code_repeat": "740385"})
    assert wrong.status_code == 400
    page = text_of(wrong)
    assert "Pin-koden stämmer inte." in page and "för lätt att gissa" not in page
    weak = client.post(url, {"pin": PIN, "code": "123456", "code_repeat": "123456"})
    assert weak.status_code == 400
    page = text_of(weak)
    assert (
        "Underskriftskoden är för lätt att gissa" in page and "Pin-koden stämmer inte" not in page
    )
    assert not Certificate.objects.filter(card=eriks_cards.photo, profile="signature").exists()


def test_an_empty_sign_in_form_gets_a_message(w, client):
    page = text_of(client.post("/logga-in/", {"username": "", "password": ""}))
    assert "Skriv ditt användarnamn och ditt lösenord." in page
    page = text_of(client.post("/logga-in/", {"username": "erik", "password": ""}))
    assert "Skriv ditt lösenord." in page and 'aria-describedby="inloggningsfel"' in page


# --- 6. Search says what is wrong ------------------------------------------------------------


def _search_error(response) -> str:
    found = re.search(r'<span class="error" id="fel-query">(.*?)</span>', text_of(response))
    assert found, "no error next to the field"
    return found[1]


def test_search_errors_say_what_is_wrong_without_repeating_the_number(w, sent_card, client):
    number = w.employee.identity_number
    wrong_check = f"{number[:8]}-{number[8:11]}{(int(number[11]) + 1) % 10}"
    for url, who in (("/kortkontor/arbete/", w.id_admin), ("/stod/", w.support)):
        client.force_login(who)
        response = client.post(url, {"query": wrong_check})
        assert response.status_code == 400
        error = _search_error(response)
        assert "kontrollsiffra" in error and number[:8] not in error
        assert "födelsedatum finns inte" in _search_error(
            client.post(url, {"query": "19990230-1234"})
        )
        assert "SE2321000016-abc1" in _search_error(client.post(url, {"query": "SE12-abc"}))
        card = sent_card.number
        bad_card = card[:-1] + str((int(card[-1]) + 1) % 10)
        assert "Kortnumrets kontrollsiffra" in _search_error(client.post(url, {"query": bad_card}))
        # A valid number nobody has: said so, and the number is not in the page.
        unknown = "19991231-9994"
        nobody = client.post(url, {"query": unknown})
        assert "Ingen person med det personnumret finns i ekort." in text_of(nobody)
        assert "19991231" not in text_of(nobody).replace("19991231-****", "")


def test_the_id_administrator_is_told_names_are_searched_elsewhere(w, client):
    client.force_login(w.id_admin)
    error = _search_error(client.post("/kortkontor/arbete/", {"query": "Eriksson"}))
    assert "inte med namn" in error


@pytest.fixture
def sent_card(w) -> Card:
    return journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)


# --- 7. The print queue is a work queue ------------------------------------------------------


@pytest.fixture
def office(w) -> CardOffice:
    """The ID administrator works at the card office in Gävle; the cards she activates are
    that office's."""
    gavle = CardOffice.objects.create(
        name="Kortkontoret Gävle",
        town="Gävle",
        street_address="Lasarettsvägen 1",
        postal_code="80187",
    )
    Account.objects.filter(user=w.id_admin).update(office=gavle)
    return gavle


@pytest.fixture
def letters(w, office) -> dict[str, Letter]:
    """The letters of a reserve card sent home (no office: never photographed, not activated
    yet), and a PIN/PUK letter for a card activated at the Gävle office."""
    karin = factories.person(given="Karin", family="Kollega", manager=w.manager)
    sent = journeys.sent(w, "reserve", t.NEW_PROCESS, t.NEW_PROCESS)
    active = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=karin)
    print_queue.mark_printed(
        actor=w.issuer,
        letter_ids=list(active.letters.values_list("pk", flat=True)),
        now=t.sthlm(2024, 2, 2, 9),
    )
    pin = cards.order_pin_letter(actor=w.support, now=clock.now(), card_ids=[active.pk]).one_made()
    return {"cover": sent.letters.get(kind="cover_letter"), "pin": pin}


def test_the_queue_filters_by_letter_type_and_office(w, letters, office, client):
    client.force_login(w.issuer)
    waiting = Letter.objects.filter(printed_at__isnull=True)
    everything = text_of(client.get(QUEUE))
    assert sorted(waiting_ids(everything)) == sorted(waiting.values_list("pk", flat=True))
    assert len(waiting_ids(everything)) >= 3
    assert '<option value="pin_puk_letter">' in everything
    by_kind = text_of(client.get(QUEUE, {"typ": "cover_letter"}))
    assert waiting_ids(by_kind) == [letters["cover"].pk]
    by_office = text_of(client.get(QUEUE, {"kontor": office.pk}))
    assert waiting_ids(by_office) == [letters["pin"].pk]
    neither = text_of(client.get(QUEUE, {"typ": "cover_letter", "kontor": office.pk}))
    assert waiting_ids(neither) == [] and "Inga brev som passar urvalet" in neither
    # Hostile filters are refused in a sentence, and the whole queue is shown.
    odd = text_of(client.get(QUEUE, {"typ": "<script>", "kontor": "x"}))
    assert "Filtret kunde inte användas." in odd
    assert len(waiting_ids(odd)) == len(waiting_ids(everything))


def test_the_queue_finds_a_recipients_letters_by_name(w, letters, client):
    """Karin calls about her PIN/PUK letter: her name finds it, with the other filters."""
    client.force_login(w.issuer)
    karins = text_of(client.get(QUEUE, {"namn": "karin koll"}))
    assert waiting_ids(karins) == [letters["pin"].pk]
    assert waiting_ids(text_of(client.get(QUEUE, {"namn": "Kollega", "typ": "cover_letter"}))) == []
    nobody = text_of(client.get(QUEUE, {"namn": "Zyxwv"}))
    assert waiting_ids(nobody) == [] and "Inga brev som passar urvalet" in nobody
    # The name is kept on the next page's link and in the form.
    assert '<input type="search" name="namn" value="karin koll"' in karins


def test_select_all_and_a_button_at_the_top_and_the_bottom(w, letters, client):
    client.force_login(w.issuer)
    page = text_of(client.get(QUEUE, {"typ": "cover_letter"}))
    assert ticked(page) == []
    form = page[page.index('id="utskrift"') :]
    table = form.index("<table>")
    buttons = [m.start() for m in re.finditer(r'<button type="submit" name="knapp"', form)]
    assert len(buttons) == 2 and buttons[0] < table < buttons[1]
    # Without JavaScript the link reloads the page, filters kept, every box ticked.
    link = re.search(r'<a href="([^"]+)" data-select-all="utskrift"', page)
    assert link and "typ=cover_letter" in link[1] and "alla=1" in link[1]
    again = text_of(client.get(link[1].replace("&amp;", "&").split("#")[0]))
    assert ticked(again) == [letters["cover"].pk]
    # With it, a file of this origin does it in place: the CSP allows no inline script.
    assert re.search(r'<script src="/static/ekort/select-all\.js" defer></script>', page)
    assert finders.find("ekort/select-all.js")
    done = client.post(
        f"{QUEUE}?typ=cover_letter", {"brev": [letters["cover"].pk], "knapp": "upptill"}
    )
    assert done.status_code == 302 and done["Location"] == f"{QUEUE}?typ=cover_letter"
    assert Letter.objects.get(pk=letters["cover"].pk).printed_at is not None


def test_a_blocked_cards_letters_leave_the_queue_and_it_says_so(w, letters, client):
    pin = letters["pin"]
    client.force_login(w.issuer)
    stale_page = text_of(client.get(QUEUE))
    assert pin.pk in waiting_ids(stale_page)
    cards.block(
        actor=w.support,
        reason="stolen",
        requested_by="Karin",
        now=clock.now(),
        card_ids=[pin.card_id],
    ).one()
    page = text_of(client.get(QUEUE))
    assert pin.pk not in waiting_ids(page)
    withdrawn = page[page.index('id="tagna-ur-kon"') :]
    assert f'id="tagen-ur-kon-{pin.pk}"' in withdrawn and "Pin/puk-brev" in withdrawn
    # Ticked on the page opened before the block: not marked printed, and the page says so.
    response = client.post(QUEUE, {"brev": [pin.pk, letters["cover"].pk]}, follow=True)
    assert 'class="messages"' in response.content.decode()
    assert "1 brev är markerat som utskrivet." in text_of(response)
    assert "togs ur kön när kortet spärrades" in text_of(response)
    assert Letter.objects.get(pk=pin.pk).printed_at is None
    assert client.get(f"{QUEUE}brev/{pin.pk}/pdf/").status_code == 404  # never printed
    entry = AuditEntry.objects.get(action="letter_withdrawn", object_id=str(pin.pk))
    assert entry.after["card_id"] == pin.card_id and entry.actor == "support"


# --- 8. Holder pages -------------------------------------------------------------------------


def test_mina_sidor_puts_live_cards_first_and_details_behind_a_disclosure(w, client):
    active = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    old = journeys.activated(w, "reserve", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 11))
    cards.block(
        actor=w.support, reason="lost", requested_by="Erik", now=clock.now(), card_ids=[old.pk]
    ).one()
    client.force_login(w.holder)
    page = text_of(client.get("/mina-sidor/"))
    assert page.index(f'id="kort-{active.pk}"') < page.index('id="tidigare-kort"')
    assert page.index('id="tidigare-kort"') < page.index(f'id="kort-{old.pk}"')
    auth = Certificate.objects.get(card=active, profile="auth")
    # The serial number and the files are there, inside a closed <details>.
    details = re.findall(r"<details class=\"more\">(.*?)</details>", page, re.S)
    assert any(auth.serial in d and f"{auth.pk}.pem" in d for d in details)
    outside = re.sub(r"<details.*?</details>", "", page, flags=re.S)
    assert auth.serial not in outside and ".pem" not in outside and ".cer" not in outside


# --- 9. Landing, public pages, footer --------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "lands_on"),
    [
        ((Role.HOLDER,), "/mina-sidor/"),
        ((Role.ORDERER, Role.HOLDER), "/medarbetare/"),
        ((Role.ID_ADMIN, Role.HOLDER), "/kortkontor/arbete/"),
        ((Role.SUPPORT, Role.HOLDER), "/stod/"),
        ((Role.ISSUER_ADMIN, Role.HOLDER), "/utfardare/utskriftsko/"),
        ((Role.SECURITY_OFFICER,), "/sakerhet/"),
        ((), "/"),
    ],
)
def test_each_role_lands_on_its_own_page(db, client, roles, lands_on):
    person = factories.person(given="Sara", family="Staff")
    user = factories.staff("sara", *roles, person=person)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    response = client.post("/logga-in/", {"username": "sara", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == lands_on


def test_public_pages_for_anonymous_visitors(db, client, settings):
    settings.EKORT_CA = {**settings.EKORT_CA, "region": "Region Exempel"}
    offices = client.get("/kortkontor/")
    assert offices.status_code == 200 and "Kortkontor" in text_of(offices)
    home = text_of(client.get("/"))
    assert "/admin/" not in home
    assert 'href="/kortkontor/"' in home  # in the menu for everyone
    # Whose service it is, whom to call, and the accessibility statement, on every page.
    footer = home[home.index('<footer class="site">') :]
    assert "Region Exempel" in footer and "ekortorder@regiongavleborg.se" in footer
    assert 'href="/tillganglighet/"' in footer and 'href="/kortkontor/"' in footer
    assert '<link rel="icon" href="/static/ekort/favicon.svg" type="image/svg+xml">' in home
    assert finders.find("ekort/favicon.svg")
    statement = text_of(client.get("/tillganglighet/"))
    for heading in (
        "Hur tillgänglig är webbplatsen?",
        "Innehåll som inte är tillgängligt",
        "Hur vi testat webbplatsen",
        "Rapportera brister i webbplatsens tillgänglighet",
        "Tillsyn",
    ):
        assert heading in statement
    assert "Region Exempel står bakom den här webbplatsen" in statement
    assert "https://www.digg.se/tdosanmalan" in statement
    # When it was assessed, and what the tests check (tests/browser/test_every_page.py).
    assert "Senaste bedömningen gjordes 2026-12-07." in statement
    assert "axe-core" in statement and "390 pixlar" in statement and "3:1" in statement


def test_the_admin_link_is_for_django_staff_only(w, client):
    w.issuer.is_staff = True
    w.issuer.save(update_fields=["is_staff"])
    client.force_login(w.issuer)
    assert 'href="/admin/"' in text_of(client.get("/"))
    client.force_login(w.holder)
    assert 'href="/admin/"' not in text_of(client.get("/"))
