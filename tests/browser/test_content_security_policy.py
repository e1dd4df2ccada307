"""The Content-Security-Policy in a real browser: the pages' own styles apply (they carry the
response's nonce) and Chromium reports no violation on the way through the portal."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, expect

from .conftest import EriksCards
from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_styles_apply_and_nothing_is_blocked(journey: Journey, w, eriks_cards: EriksCards) -> None:
    page = journey.page
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", note)
    page.goto("/rules/")  # the timeline's own styles as well as the base page's
    header = page.locator("header.site")
    expect(header).to_have_css("background-color", "rgb(0, 87, 138)")
    expect(page.locator(".timeline ol")).to_have_css("list-style-type", "none")
    journey.sign_in("support")
    response = page.goto("/stod/oversikt/")  # the overview's own styles
    assert response is not None
    assert "no-store" in response.headers["cache-control"]
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("table.counts td").first).to_have_css("text-align", "right")
    journey.shot("oversikt")
    assert violations == []
