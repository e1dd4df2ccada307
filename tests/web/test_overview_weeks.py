"""Kundtjänst → Översikt: the transition week by week, as a chart drawn at its real size and
as a table with the same figures."""

from __future__ import annotations

import html
import re

import pytest

from ekort.services import cards, deadlines
from tests import factories
from tests import instants as t
from tests.integration import journeys
from tests.web.conftest import simulate

pytestmark = pytest.mark.django_db


def _weeks_section(client) -> str:
    response = client.get("/stod/oversikt/")
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    return page[page.index('<section aria-labelledby="veckor">') :].split("</section>")[0]


def _row(section: str, row_id: str) -> list[str]:
    row = section[section.index(f'id="{row_id}"') :].split("</tr>")[0]
    return re.findall(r"<td>(\d+)</td>", row)


def test_the_weeks_since_the_new_cards_in_a_chart_and_a_table(w, client):
    a, b, c = (factories.person(given=f"P{i}", family="Test", manager=w.manager) for i in range(3))
    journeys.sent(w, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY, person=a)  # collect by 01-22
    deadlines.run_all(t.STOP_START)  # R3: blocked by the sweep, week 4
    journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=b)
    waiting = journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=c)
    client.force_login(w.support)
    section = _weeks_section(client)  # the portal's clock: Tuesday 2024-02-06, week 6

    svgs = re.findall(r"<svg[^>]*>.*?</svg>", section, re.S)
    assert len(svgs) == 3  # activated, blocked by a deadline, still to activate
    for svg in svgs:
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
        # No text in the SVG, which stretches to the page: every word is HTML at its size.
        assert "<text" not in svg and 'width="100%"' in svg and 'viewBox="0 0 3 60"' in svg
    # Week 5's column, a decimal point in Swedish too; three weeks draw columns as thick as
    # half a year's would (0.7 of a week times 3/26), not a third of the page each.
    assert 'x="1.46" y="0.0" width="0.081"' in svgs[0]
    assert "Från v. 4 2024 till v. 6 2024: 1 kort aktiverade och 1 spärrade" in section
    assert "1 kort kvar att aktivera nu." in section
    assert "Kvar att aktivera: högst 1 på en vecka; v. 6 2024: 1." in svgs[2]

    assert "<details" in section and "Siffrorna vecka för vecka" in section
    assert "v. 4 2024" in section and "2024-01-22 – 2024-01-28" in section
    # Activated, blocked by a deadline, still to activate at the end of the week.
    assert _row(section, "vecka-2024-4") == ["0", "1", "0"]
    assert _row(section, "vecka-2024-5") == ["1", "0", "1"]
    assert _row(section, "vecka-2024-6") == ["0", "0", "1"]

    # A block the holder asked for is not the deadline's, and the card no longer waits.
    cards.block(
        actor=w.support,
        reason="not_activated",
        requested_by="Erik Eriksson",
        now=t.sthlm(2024, 2, 6, 9),
        card_ids=[waiting.pk],
    ).one()
    assert _row(_weeks_section(client), "vecka-2024-6") == ["0", "0", "0"]


def test_a_long_transition_fits_the_page_with_its_weeks_named_under_it(w, client, settings):
    journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 6, 9))
    simulate(settings, "2026-12-07T10:00+01:00")
    client.force_login(w.issuer)
    section = _weeks_section(client)
    assert section.count('<tr id="vecka-') == 151  # 2024 week 4 to 2026 week 50
    assert section.count('viewBox="0 0 151 60"') == 3
    assert '<rect x="2.15" y="0.0" width="0.7"' in section  # week 6 of 2024, a full column
    axis = re.search(r'<div class="week-axis"[^>]*>(.*?)</div>', section)
    assert axis is not None
    assert re.findall(r"<span>(.*?)</span>", axis.group(1)) == [
        "v. 4 2024",
        "v. 27 2025",
        "v. 50 2026",
    ]


def test_before_the_transition_the_page_says_so(w, client, settings):
    simulate(settings, "2024-01-10T10:00+01:00")
    client.force_login(w.support)
    section = _weeks_section(client)
    assert "<svg" not in section and "Övergången har inte börjat" in section
