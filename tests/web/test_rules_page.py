"""The rules page (/rules/): the report for a chosen date or the (simulated) clock, with the
policy calendar as a timeline. Periods are written with both days, as in `ekort rules`."""

from __future__ import annotations

import html
import re

import pytest

pytestmark = pytest.mark.django_db


def page_of(client, query: str = "") -> str:
    response = client.get(f"/rules/{query}")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def rows_of(page: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(action, card type) -> (decision, rule) from the page's table, in the page's words."""
    found = re.findall(
        r"<tr><td>([^<]+)</td><td>([^<]+)</td>\s*<td class=\"(allowed|refused)\">[^<]*</td>\s*"
        r"<td>(\w+)</td>",
        page,
    )
    return {(action, card_type): (verdict, rule) for action, card_type, verdict, rule in found}


def timeline_items(page: str) -> list[str]:
    timeline = page[page.index('id="tidslinje"') :]
    return [
        " ".join(re.sub(r"<[^>]+>", "", item).split())
        for item in re.findall(r"<li(?: [^>]*)?>(.*?)</li>", timeline, re.S)
    ]


def test_rules_page_during_the_stop_allows_blocking(client):
    page = page_of(client, "?at=2024-01-24")
    rows = rows_of(page)
    assert rows[("Beställa", "Fotokort")] == ("refused", "R4")
    assert rows[("Tillverka och skicka", "Reservkort")] == ("refused", "R4")
    assert rows[("Spärra", "Fotokort")] == ("allowed", "R4")
    assert rows[("Spärra", "Reservkort")] == ("allowed", "R4")
    assert "en spärrbegäran får aldrig gå förlorad" in page


def test_rules_page_writes_every_period_with_both_days(client):
    page = page_of(client, "?at=2024-01-24")
    text = " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert "Tidpunkt: 2024-01-24 00:00 – period Beställningsstopp (2024-01-23 – 2024-01-24)" in text
    items = timeline_items(page)
    # Each period by its title in the calendar, never by its key in the file (issue 15).
    assert [item.split(":")[0] for item in items] == [
        "SIS-märkta fotokort",
        "Företagskort",
        "Bara reservkort",
        "Beställningsstopp",
        "Sista stoppdagen",
        "Ny hantering",
    ]
    assert items[0].startswith("SIS-märkta fotokort: … – 2022-09-30: ")
    assert items[3].startswith("Beställningsstopp: 2024-01-23 – 2024-01-24: ")
    assert items[4].startswith("Sista stoppdagen: 2024-01-25 – 2024-01-25: ")
    assert items[5].startswith("Ny hantering: 2024-01-26 – …: ")
    track = page[page.index('class="track"') : page.index("<ol>")]  # the drawn timeline
    assert "<span>2024-01-23</span> – <span>2024-01-24</span>" in track  # each date kept whole
    assert "2023-12-18 – 2024-01-22: only" not in page  # the page is in Swedish
    assert "till och med" not in page and " to 2024" not in page


def test_rules_page_in_english_writes_periods_the_same_way(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = page_of(client, "?at=2024-01-24")
    items = timeline_items(page)
    assert items[3].startswith("Ordering stop: 2024-01-23 – 2024-01-24: Ordering and issuing stop")
    assert "2024-01-23 – 2024-01-25: ordering and issuing stop; no card can be ordered." in page
    assert " to 2024" not in page and "inclusive" not in page


def test_rules_page_shows_the_simulated_clock_to_the_minute(client, stop):
    page = page_of(client)
    text = " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert re.search(
        r"Tidpunkt: 2024-01-24 10:0\d – period Beställningsstopp \(2024-01-23 – 2024-01-24\)", text
    )
    assert not re.search(r"10:0\d:\d\d\.\d+", page)  # no stray microseconds anywhere


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("sv", "Det är inget datum som går att läsa. Skriv datumet som 2024-01-24"),
        ("en", "That is not a date that can be read. Write the date as 2024-01-24"),
    ],
)
def test_a_bad_date_is_answered_in_the_pages_language(client, settings, language, sentence):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = page_of(client, "?at=2024-02-30")
    assert sentence in page
    assert "T10:00" not in page  # no raw timestamp as the example
