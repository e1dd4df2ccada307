"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, never a downloaded
browser) against pytest-django's live server, at the portal's simulated instant.

Without Chromium the tests skip on a workstation but fail in CI (CI=true), so that CI never
passes by silently leaving them out (tests/tools.py). Screenshots of every step land in
test-artifacts/screenshots/<journey>/<nn-step>.png (see `journey.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axes.utils import reset as reset_axes
from playwright.sync_api import Browser, Page, sync_playwright

from ekort.store.models import Card, CardOffice, OpeningInterval, Person
from tests import factories, tools
from tests import instants as t
from tests.factories import World
from tests.integration import journeys
from tests.web.conftest import PASSWORD, PORTAL_NOW, simulate

from .journey import SCREENSHOTS, Journey, journey_for

CHROMIUM = str(tools.CHROMIUM.files[0])
_failed_call = pytest.StashKey[bool]()
_journeys_run: list[str] = []


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for all the browser tests, closed when they are done.

    Package-scoped rather than session-scoped on purpose: Playwright's sync API keeps an
    asyncio loop running in the test thread from start() to stop(), and the tests that come
    after these must not run with that loop (Django would refuse their ORM calls)."""
    tools.require(tools.CHROMIUM)
    with pytest.MonkeyPatch.context() as patch:
        # While Playwright's loop runs in this thread, Django's async-safety check sees "async
        # context" and refuses the ORM calls of the fixtures and the database assertions. They
        # are plain synchronous calls in the test thread (the live server answers from its own
        # thread), so the check is switched off exactly as long as the loop runs.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            yield chromium
            chromium.close()


@pytest.fixture(autouse=True)
def portal_clock(settings: Any) -> Iterator[None]:
    """The simulated instant; the live server runs in this process, so it reads it too."""
    simulate(settings, PORTAL_NOW)
    yield
    simulate(settings, "")


@pytest.fixture
def stop(settings: Any) -> None:
    """The clock in the R4 ordering and issuing stop, 2024-01-24."""
    simulate(settings, "2024-01-24T10:00+01:00")


@pytest.fixture
def w(world: World) -> Iterator[World]:
    """The world, with passwords to type into the sign-in form and no failed sign-ins."""
    reset_axes()
    for user in (world.holder, world.orderer, world.id_admin, world.support, world.issuer):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    yield world
    reset_axes()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed_call] = report.failed
    return report


@pytest.fixture
def journey(
    request: pytest.FixtureRequest, browser: Browser, live_server: Any, w: World
) -> Iterator[Journey]:
    """A fresh browser context (no cookies) on the live server, named after the test."""
    context = browser.new_context(
        base_url=live_server.url, locale="sv-SE", viewport={"width": 1100, "height": 900}
    )
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    trip = journey_for(request.node.name, page)
    _journeys_run.append(trip.name)
    yield trip
    if request.node.stash.get(_failed_call, False):
        trip.shot("failed")  # what the page showed when the assertion failed
    context.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _journeys_run:
        terminalreporter.write_sep("-", "browser journeys")
        terminalreporter.write_line(
            f"{len(_journeys_run)} journeys; screenshots in {SCREENSHOTS}/<journey>/"
        )


# --- The people and cards the journeys start from --------------------------------------------


@dataclass
class EriksCards:
    photo: Card  # sent home, waiting to be activated at a card office (R8)
    reserve: Card  # active


@pytest.fixture
def eriks_cards(w: World) -> EriksCards:
    reserve = journeys.activated(w, "reserve", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 11))
    photo = journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)  # activate by 30 April
    return EriksCards(photo=photo, reserve=reserve)


@pytest.fixture
def karin(w: World) -> Person:
    """Karin, Erik's colleague under the same manager."""
    return factories.person(
        given="Karin", family="Kollega", birth="19901122", manager=w.manager, unit=w.unit
    )


@pytest.fixture
def offices(db: None) -> list[CardOffice]:
    """Gävle open on weekdays 08-16; Ljusdal 13-15 (closed at the portal's 10:00)."""
    from datetime import time

    gavle = CardOffice.objects.create(
        name="Kortkontoret Gävle sjukhus",
        town="Gävle",
        street_address="Lasarettsvägen 1",
        postal_code="80187",
    )
    ljusdal = CardOffice.objects.create(
        name="Kortkontoret Ljusdal",
        town="Ljusdal",
        street_address="Riddarvägen 2",
        postal_code="82730",
    )
    for weekday in range(5):
        OpeningInterval.objects.create(
            office=gavle, weekday=weekday, opens=time(8), closes=time(16)
        )
        OpeningInterval.objects.create(
            office=ljusdal, weekday=weekday, opens=time(13), closes=time(15)
        )
    return [gavle, ljusdal]
