"""Signing in with the card (E16) end to end through Debian's nginx, configured with
deploy/nginx/ekort.conf as it ships (ports and paths moved, tests/deploy/stack.py), in front of
the portal (pytest-django's live server): curl with a card's certificate and key, read from
its virtual chip, and Chromium through Playwright's client certificates. An active card signs
in; a blocked card, a card on hold and a certificate from another CA get the page that says
why, with HTTP 403; and headers a client sends itself never reach the portal."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from ekort.domain.vocabulary import Role
from ekort.services import cards, clock
from ekort.services.ca.authority import client_ca_chain, init_hierarchy
from ekort.store.models import AuditEntry
from ekort.web.signin import start_page_for
from tests import factories
from tests.card_keys import ClientCertificate, export_card, foreign_card
from tests.factories import World
from tests.integration import journeys
from tests.tools import CHROMIUM, needs

from .stack import CURL, NGINX, Nginx, Ports, free_port, new_directory, nginx

pytestmark = [pytest.mark.django_db(transaction=True), needs(NGINX, CURL)]
CHROMIUM_BINARY = "/usr/bin/chromium"


@dataclass
class Cards:
    world: World
    active: ClientCertificate  # Maria's: she manages staff (orderer) and holds cards
    blocked: ClientCertificate  # Erik's, blocked as lost
    on_hold: ClientCertificate  # Karin's, sent home and not activated yet
    foreign: ClientCertificate  # another region's CA, naming Maria's HSA-id


@pytest.fixture
def region(db, settings, tmp_path) -> Cards:
    """Cards issued an hour ago on the real clock, from a CA hierarchy made just before: nginx
    judges the certificates' validity on the real clock too."""
    settings.EKORT_SIMULATED_NOW = ""
    clock.reset()
    now = clock.now()
    init_hierarchy(now=now - timedelta(hours=2))
    world = factories.world()
    boss = factories.person(given="Dora", family="Direktör", birth="19600101", unit=world.unit)
    world.manager.manager = boss
    world.manager.save(update_fields=["manager"])
    above = dataclasses.replace(
        world, orderer=factories.staff("direktor", Role.ORDERER, person=boss)
    )
    sent, activated = now - timedelta(hours=1), now - timedelta(minutes=30)
    marias = journeys.activated(above, "photo", sent, activated, person=world.manager)
    eriks = journeys.activated(world, "photo", sent, activated)
    cards.block(
        actor=world.support,
        card_ids=[eriks.pk],
        reason="lost",
        requested_by="Erik",
        now=now - timedelta(minutes=10),
    ).one()
    karin = factories.person(given="Karin", family="Kollega", manager=world.manager)
    karins = journeys.sent(world, "photo", sent, sent, person=karin)
    keys = tmp_path / "keys"
    return Cards(
        world=world,
        active=export_card(marias, keys),
        blocked=export_card(eriks, keys),
        on_hold=export_card(karins, keys),
        foreign=foreign_card(world.manager.hsa_id or "", keys),
    )


@pytest.fixture
def proxy(region, live_server, settings) -> Iterator[Nginx]:
    """nginx in front of the live server; the portal believes nginx's headers (it connects
    from 127.0.0.1)."""
    settings.EKORT_CLIENT_CERT_PROXIES = frozenset({"127.0.0.1"})
    portal = int(live_server.url.rsplit(":", 1)[1])
    ports = Ports(free_port(), free_port(), portal, (free_port(), free_port()))
    with nginx(new_directory(), ports, client_ca=client_ca_chain()) as running:
        yield running


def curl(proxy: Nginx, path: str, card: ClientCertificate | None = None, *extra: str) -> Any:
    """GET through nginx; the status, the Location and the body."""
    command = ["curl", "-sS", "-k", "-o", "-", "-w", "\n%{http_code} %{redirect_url}"]
    if card is not None:
        command += ["--cert", str(card.cert), "--key", str(card.key)]
    command += [*extra, f"{proxy.portal}{path}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    body, _, last = done.stdout.rpartition("\n")
    status, _, location = last.partition(" ")
    return int(status), location, body


def test_curl_with_each_card(proxy: Nginx, region: Cards) -> None:
    status, location, _ = curl(proxy, "/logga-in/kort/", region.active)
    start = f"{proxy.portal}{start_page_for(region.world.orderer)}"
    assert (status, location) == (302, start), proxy.log()
    (signed_in,) = AuditEntry.objects.filter(action="card_sign_in")
    assert signed_in.actor == "chef" and signed_in.after["level"] == "3"

    expected = {
        "blocked": "Kortet är spärrat och kan inte användas för att logga in.",
        "on_hold": "Kortet är inte aktiverat än.",
        "foreign": "Certifikatet är inte utfärdat av ekort.",
    }
    for name, sentence in expected.items():
        status, _, body = curl(proxy, "/logga-in/kort/", getattr(region, name))
        assert status == 403, (name, body)
        assert sentence in body and "E16" in body, (name, body)
    refused = AuditEntry.objects.filter(action="card_sign_in_refused").order_by("seq")
    assert [entry.after["proxy"] for entry in refused][:2] == ["SUCCESS", "SUCCESS"]
    assert refused[2].after["proxy"].startswith("FAILED:")  # nginx did not verify it
    assert refused[0].actor == "erik"

    # In English, by the language cookie.
    status, _, body = curl(proxy, "/logga-in/kort/", region.blocked, "-b", "django_language=en")
    assert status == 403 and "The card is blocked and cannot be used to sign in." in body


def test_headers_a_client_sends_itself_never_reach_the_portal(proxy: Nginx, region) -> None:
    forged = [
        "-H",
        f"X-SSL-Client-Cert: {region.active.escaped}",
        "-H",
        "X-SSL-Client-Verify: SUCCESS",
    ]
    status, _, body = curl(proxy, "/logga-in/kort/", None, *forged)
    assert status == 403 and "Webbläsaren skickade inget certifikat" in body
    # Nor over plain HTTP, where no certificate is asked for.
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            *forged,
            f"{proxy.public}/logga-in/kort/",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout == "301"  # to HTTPS


def test_a_session_signed_in_with_the_card_ends_when_the_card_is_blocked(proxy, region):
    world = region.world
    jar = str(proxy.directory / "cookies.txt")
    status, _, _ = curl(proxy, "/logga-in/kort/", region.active, "-c", jar)
    assert status == 302
    status, _, body = curl(proxy, "/medarbetare/", region.active, "-b", jar, "-c", jar)
    assert status == 200 and "Erik" in body
    marias = world.manager.cards.get()
    cards.block(
        actor=world.support,
        card_ids=[marias.pk],
        reason="stolen",
        requested_by="Maria",
        now=clock.now(),
    ).one()
    status, _, body = curl(proxy, "/medarbetare/", region.active, "-b", jar, "-c", jar)
    assert status == 403 and "Kortet är spärrat" in body


@pytest.fixture
def chromium(monkeypatch) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from tests.tools import require

    require(CHROMIUM)
    # While Playwright's loop runs in this thread, Django's async-safety check would refuse
    # the ORM calls of the test's own assertions (as tests/browser/conftest.py explains).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_BINARY, headless=True)
        yield browser
        browser.close()
        # The test's queries while Playwright's loop ran opened connections of that context
        # (asgiref's locals follow it); closed here, they do not outlive the test database.
        connections.close_all()


def _visit(browser: Any, proxy: Nginx, card: ClientCertificate, shots: Path, name: str):
    context = browser.new_context(
        ignore_https_errors=True,  # the test's own server certificate
        locale="sv-SE",
        client_certificates=[
            {"origin": proxy.portal, "certPath": str(card.cert), "keyPath": str(card.key)}
        ],
    )
    try:
        page = context.new_page()
        response = page.goto(f"{proxy.portal}/logga-in/")
        assert response is not None and response.status == 200
        page.click("#logga-in-med-kort")
        page.wait_for_load_state()
        page.screenshot(path=shots / f"{name}.png", full_page=True)
        return page.url, page.inner_text("main") if page.query_selector("main") else page.content()
    finally:
        context.close()


def test_chromium_signs_in_with_each_card(proxy: Nginx, region: Cards, chromium) -> None:
    shots = (
        Path(
            os.environ.get("EKORT_TEST_SCREENSHOTS")
            or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
        )
        / "card-sign-in-through-nginx"
    )
    shots.mkdir(parents=True, exist_ok=True)
    url, text = _visit(chromium, proxy, region.active, shots, "01-active")
    assert url == f"{proxy.portal}{start_page_for(region.world.orderer)}", text
    assert "Inloggningen med kortet nekades" not in text, text
    for step, (name, sentence) in enumerate(
        [
            ("blocked", "Kortet är spärrat"),
            ("on_hold", "Kortet är inte aktiverat än"),
            ("foreign", "Certifikatet är inte utfärdat av ekort"),
        ],
        start=2,
    ):
        url, text = _visit(chromium, proxy, getattr(region, name), shots, f"0{step}-{name}")
        assert url.endswith("/logga-in/kort/"), (name, url)
        assert sentence in text and "Inloggningen med kortet nekades" in text, (name, text)
    assert AuditEntry.objects.filter(action="card_sign_in").count() == 1
    assert AuditEntry.objects.filter(action="card_sign_in_refused").count() == 3
