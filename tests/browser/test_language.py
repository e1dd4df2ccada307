"""The language switch in the header flips the page's language, and back, on the same page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_language_switch(journey: Journey, w) -> None:
    page = journey.page
    journey.sign_in("erik")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "sv")
    journey.shot("svenska")

    page.get_by_role("button", name="In English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/mina-sidor/$"))  # the same page, now in English
    switch_back = page.get_by_role("button", name="På svenska")
    expect(switch_back).to_have_attribute("lang", "sv")  # the button speaks its own language
    journey.shot("in-english")

    switch_back.click()
    expect(html).to_have_attribute("lang", "sv")
    expect(page).to_have_url(re.compile(r"/mina-sidor/$"))
    expect(page.get_by_role("button", name="In English")).to_be_visible()
    journey.shot("pa-svenska-igen")
