"""Lists that scale (issue 15, point 3): Mina medarbetare, the searches, Kort som går ut and the
print queue are paged, searched and filtered through one mechanism (web/lists.py), with a
summary on top; an action's result is shown at the top of the page, where focus goes; and the
forms the rules would refuse now are not offered, the rule said instead."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.vocabulary import CardType
from ekort.services.policy import current_calendar
from ekort.store.models import Card
from tests import factories
from tests import instants as t
from tests.integration import journeys

pytestmark = pytest.mark.django_db

STAFF = "/medarbetare/"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def rows_of(page: str) -> list[str]:
    """The names in a list's rows, in order."""
    return re.findall(r'<tr id="rad-\d+">\s*<th scope="row">(?:<a href="[^"]*">)?([^<]+)', page)


def result_region(page: str) -> str:
    start = page.index('<div id="resultat"')
    return page[start : page.index("</div>", start)]


@pytest.fixture
def many(w):
    """Maria manages 500 staff besides Erik, one of them Zelda Östberg."""
    staff = factories.people(499, manager=w.manager, unit=w.unit)
    zelda = factories.person(given="Zelda", family="Östberg", manager=w.manager, unit=w.unit)
    return [*staff, zelda]


def test_a_manager_with_500_staff_finds_one_in_two_steps(
    w, many, client, django_assert_max_num_queries
):
    client.force_login(w.orderer)
    with django_assert_max_num_queries(20):  # a page of the list, whatever the staff's number
        page = text_of(client.get(STAFF))
    assert len(page) < 60_000  # one row a person, a page of them: not every card and form
    assert "501 medarbetare:" in page and "501 utan kort" in page
    assert len(rows_of(page)) == 25 and "Sida 1 av 21." in page
    # Step 1: the search box (GET, a name may be in the URL) on top of the list.
    box = page[page.index('<form class="filters" method="get" action="/medarbetare/"') :]
    assert '<input type="search" name="namn"' in box[: box.index("</form>")]
    found = text_of(client.get(STAFF, {"namn": "zelda Östb"}))
    # Step 2: the row, linked to her page.
    assert rows_of(found) == ["Zelda Östberg"]
    zelda = many[-1]
    assert f'href="/medarbetare/{zelda.pk}/"' in found
    assert "1 medarbetare passar sökningen." in found
    person = text_of(client.get(f"/medarbetare/{zelda.pk}/"))
    assert '<h1 id="person-' in person and "Zelda Östberg" in person
    assert f'action="/medarbetare/{zelda.pk}/bestall/"' in person


def test_pages_keep_the_filters_and_a_page_past_the_end_is_the_last(w, many, client):
    client.force_login(w.orderer)
    first = text_of(client.get(STAFF, {"namn": "Person00"}))  # Person0000-Person0099
    assert "100 medarbetare passar sökningen." in first and "Sida 1 av 4." in first
    assert 'href="/medarbetare/?namn=Person00&amp;sida=2"' in first.replace("&", "&amp;")
    second = text_of(client.get(STAFF, {"namn": "Person00", "sida": "2"}))
    assert rows_of(second)[0] == "Person0025 Lund" and len(rows_of(second)) == 25
    assert 'rel="prev"' in second and 'rel="next"' in second
    last = text_of(client.get(STAFF, {"namn": "Person00", "sida": "99"}))
    assert rows_of(last)[-1] == "Person0099 Lund" and "Sida 4 av 4." in last
    assert not set(rows_of(first)) & set(rows_of(second))


@pytest.fixture
def standings(w):
    """Maria's staff: 3 with an active photo card, 2 with a card on its way (sent, to be
    activated by 2024-02-20), 1 with a reserve card ordered, Erik and 4 more without a card."""
    active = factories.people(3, manager=w.manager, family="Aktiv")
    on_way = factories.people(2, manager=w.manager, family="Skickad")
    ordered = factories.people(1, manager=w.manager, family="Beställd")
    factories.people(4, manager=w.manager, family="Utan")
    factories.cards(active, "photo", "active", by=w.orderer, valid_until=date(2029, 1, 1))
    factories.cards(
        on_way, "photo", "sent_inactive", by=w.orderer, activation_deadline=date(2024, 2, 20)
    )
    factories.cards(ordered, "reserve", "ordered", by=w.orderer)
    return {"active": active, "on_way": on_way, "ordered": ordered}


def test_the_summary_counts_where_everyone_stands(w, standings, client):
    client.force_login(w.orderer)
    page = text_of(client.get(STAFF))
    summary = page[page.index('id="sammanfattning"') :]
    summary = re.sub(r"<[^>]+>", "", summary[: summary.index("</p>")])
    assert re.sub(r"\s+", " ", summary).endswith(
        "11 medarbetare: 3 med aktivt kort, 2 med kort på väg, 1 med beställt kort, 5 utan kort."
    )
    # Each count links to the list filtered to it; the summary stays the whole list's.
    assert 'href="/medarbetare/?kort=pa-vag"' in page
    filtered = text_of(client.get(STAFF, {"kort": "pa-vag"}))
    assert "11 medarbetare:" in filtered


@pytest.mark.parametrize(
    ("filters", "families"),
    [
        ({"kort": "aktivt"}, {"Aktiv"}),
        ({"kort": "pa-vag"}, {"Skickad"}),
        ({"kort": "bestallt"}, {"Beställd"}),
        ({"kort": "utan"}, {"Utan", "Eriksson"}),
        ({"typ": "reserve"}, {"Beställd"}),
        ({"typ": "photo"}, {"Aktiv", "Skickad"}),
        ({"frist": "14"}, {"Skickad"}),  # to be activated by 2024-02-20: 14 days from 02-06
        ({"frist": "90", "kort": "aktivt"}, set()),  # valid until 2029
        ({"typ": "photo", "namn": "Skick"}, {"Skickad"}),
    ],
)
def test_each_filter(w, standings, client, filters, families):
    client.force_login(w.orderer)
    page = text_of(client.get(STAFF, filters))
    assert {name.split()[-1] for name in rows_of(page)} == families
    if not families:
        assert "Ingen medarbetare passar sökningen." in page


def test_a_row_says_the_card_and_its_deadline(w, standings, client):
    client.force_login(w.orderer)
    page = text_of(client.get(STAFF, {"kort": "pa-vag"}))
    row = page[page.index('<tr id="rad-') :]
    row = row[: row.index("</tr>")]
    assert "Fotokort: skickat, inte aktiverat" in row and "2024-02-20" in row


def test_a_filter_that_does_not_fit_is_said_and_the_list_is_whole(w, standings, client):
    client.force_login(w.orderer)
    page = text_of(client.get(STAFF, {"kort": "<script>", "frist": "x"}))
    assert "Filtret kunde inte användas." in page and len(rows_of(page)) == 11
    assert "<script>" not in page.split('<main id="innehall"')[1].replace("&lt;script&gt;", "")


# --- The result at the top ------------------------------------------------------------------


def test_after_an_order_the_result_is_at_the_top_and_focused(w, many, client):
    client.force_login(w.orderer)
    zelda = many[-1]
    done = client.post(f"/medarbetare/{zelda.pk}/bestall/", {"card_type": "photo"}, follow=True)
    page = done.content.decode()
    main = page[page.index('<main id="innehall"') :]
    # The first thing in <main>, before the heading, focusable and focused by a static script.
    assert main.index('<div id="resultat" class="result" tabindex="-1">') < main.index("<h1")
    assert "Ett fotokort är beställt åt Zelda Östberg." in html.unescape(result_region(page))
    assert '<script src="/static/ekort/result-focus.js" defer></script>' in page
    # A refusal too: the second photo card (E8), at the top.
    refused = client.post(f"/medarbetare/{zelda.pk}/bestall/", {"card_type": "photo"})
    assert refused.status_code == 409
    top = html.unescape(result_region(refused.content.decode()))
    assert "(regel E8)" in top


def test_no_result_region_without_a_result(w, client):
    client.force_login(w.orderer)
    assert 'id="resultat"' not in client.get(STAFF).content.decode()


def test_after_marking_letters_printed_the_result_is_at_the_top(w, client):
    journeys.sent(w, "reserve", t.NEW_PROCESS, t.NEW_PROCESS)
    client.force_login(w.issuer)
    queue = text_of(client.get("/utfardare/utskriftsko/"))
    assert re.search(r"1 brev i kön:\s+1 följebrev", queue.lower()) or "brev i kön" in queue
    ids = re.findall(r'name="brev" value="(\d+)"', queue)
    page = client.post("/utfardare/utskriftsko/", {"brev": ids}, follow=True).content.decode()
    assert "brev är markerade som utskrivna." in html.unescape(result_region(page))


# --- Forms the rules refuse now are not offered ---------------------------------------------


def test_during_the_ordering_stop_no_order_form_is_offered_and_r4_is_said(
    w, eriks_cards, stop, client
):
    client.force_login(w.orderer)
    sentence = current_calendar().decide(PolicyAction.ORDER, CardType.PHOTO, t.DURING_FREEZE)
    assert sentence.rule == "R4"
    listing = text_of(client.get(STAFF))
    notice = listing[listing.index('id="bestallningsstopp"') :]
    assert "(regel R4)" in notice and sentence.sv in notice
    assert "/bestall/" not in listing.replace("/medarbetare/bestall-fran-fil/", "")
    page = text_of(client.get(f"/medarbetare/{w.employee.pk}/"))
    assert f'action="/medarbetare/{w.employee.pk}/bestall/"' not in page
    assert 'name="card_type"' not in page
    assert "Fotokort kan inte beställas just nu." in page
    assert "Reservkort kan inte beställas just nu." in page
    assert page.count("(regel R4)") >= 2 and sentence.sv in page
    # No replacement either (replace_card asks the same decision), but blocking stays (R4).
    assert "/ersatt/" not in page and "Ersättningskort kan inte beställas just nu." in page
    assert f'href="/medarbetare/kort/{eriks_cards.photo.pk}/sparra/"' in page


def test_a_card_type_already_held_is_not_offered_and_e8_is_said(w, eriks_cards, client):
    Card.objects.filter(pk=eriks_cards.reserve.pk).update(state="blocked")
    client.force_login(w.orderer)
    page = text_of(client.get(f"/medarbetare/{w.employee.pk}/"))
    assert 'value="photo"' not in page and 'name="card_type" value="reserve"' in page
    assert "Fotokort kan inte beställas just nu." in page and "(regel E8)" in page


# --- The other lists, on the same mechanism -------------------------------------------------


def test_support_searches_a_name_and_pages_through_it_by_get(w, client):
    factories.people(30, family="Berg")
    client.force_login(w.support)
    posted = text_of(client.post("/stod/", {"query": "Berg"}))
    assert len(rows_of(posted)) == 25 and "30 träffar:" in posted and "30 utan kort" in posted
    assert re.search(r"1981\d{4}-\*{4}", posted)
    assert 'href="/stod/?namn=Berg&amp;sida=2"' in posted.replace("&", "&amp;")
    second = text_of(client.get("/stod/", {"namn": "Berg", "sida": "2"}))
    assert len(rows_of(second)) == 5
    none_with_cards = text_of(client.get("/stod/", {"namn": "Berg", "kort": "aktivt"}))
    assert (
        rows_of(none_with_cards) == [] and "Ingen av träffarna passar urvalet." in none_with_cards
    )


def test_an_identity_number_in_the_url_is_neither_searched_nor_repeated(w, client):
    client.force_login(w.support)
    number = w.employee.identity_number
    response = client.get("/stod/", {"namn": number})
    assert response.status_code == 302 and response["Location"] == "/stod/"
    page = text_of(client.get(response["Location"]))
    assert number not in page and number[8:] not in page
    assert "de skickas aldrig i adressfältet" in result_region(page) and rows_of(page) == []


def test_the_counter_lists_persons_by_where_their_cards_stand(w, client):
    sent = journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    factories.people(3, family="Utan")
    client.force_login(w.id_admin)
    page = text_of(client.get("/kortkontor/arbete/", {"kort": "pa-vag"}))
    assert rows_of(page) == ["Erik Eriksson"]
    assert f'href="/kortkontor/arbete/kort/{sent.pk}/"' in page
    assert "personer:" in page and 'name="namn"' not in page


def test_the_expiry_worklist_is_summed_up_filtered_and_paged(w, eriks_cards, client):
    """Erik's photo card ends 2024-04-30 (84 days on), his reserve card 2024-02-20 (14 days);
    25 more active reserve cards of Lund staff end 2024-03-01 (24 days)."""
    from ekort.store.models import Certificate

    Card.objects.filter(pk=eriks_cards.photo.pk).update(valid_until=date(2024, 4, 30))
    Card.objects.filter(pk=eriks_cards.reserve.pk).update(valid_until=date(2024, 2, 20))
    Certificate.objects.filter(card__in=[eriks_cards.photo, eriks_cards.reserve]).update(
        not_after=t.sthlm(2024, 12, 31)
    )
    lund = factories.people(25, manager=w.manager)
    factories.cards(lund, "reserve", "active", by=w.orderer, valid_until=date(2024, 3, 1))
    client.force_login(w.orderer)
    page = text_of(client.get("/kort-som-gar-ut/"))
    summary = re.sub(r"\s+", " ", page[page.index('id="sammanfattning"') :])
    assert summary.startswith(
        'id="sammanfattning">27 kort går ut: 1 fotokort, 26 reservkort, 26 inom 30 dagar.'
    )
    assert "Sida 1 av 2." in page and 'href="/kort-som-gar-ut/?sida=2"' in page
    photos = text_of(client.get("/kort-som-gar-ut/", {"typ": "photo"}))
    assert "1 kort passar urvalet" in photos and eriks_cards.photo.number in photos
    assert eriks_cards.reserve.number not in photos
    by_name = text_of(client.get("/kort-som-gar-ut/", {"namn": "Erik", "dagar": "30"}))
    assert eriks_cards.reserve.number in by_name and eriks_cards.photo.number not in by_name
    # The period is kept when the list is filtered and paged, and by "Visa alla".
    assert 'name="dagar" value="30"' in by_name and 'href="/kort-som-gar-ut/?dagar=30"' in by_name
    active = text_of(client.get("/kort-som-gar-ut/", {"status": "sent_inactive"}))
    assert "Inga kort passar urvalet." in active
