"""Utfärdare: the issuer administrator's print queue (list, PDF, mark printed) and the page of
certificate authorities and their CRLs."""

from __future__ import annotations

import html
import re

import pytest

from ekort.domain.vocabulary import Role
from ekort.services import cards, clock, print_queue
from ekort.services.ca.secrets import unseal
from ekort.services.ca.status import build_crl
from ekort.store.models import AuditEntry, Card, Letter
from tests import factories
from tests import instants as t
from tests.integration import journeys

pytestmark = pytest.mark.django_db

QUEUE = "/utfardare/utskriftsko/"
AUTHORITIES = "/utfardare/utfardare-och-sparrlistor/"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def pdf_url(letter: Letter) -> str:
    return f"/utfardare/utskriftsko/brev/{letter.pk}/pdf/"


def waiting_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="brev" value="(\d+)"', page)]


def puk_of(card: Card) -> str:
    card.refresh_from_db()
    assert card.puk_ciphertext is not None
    return unseal(bytes(card.puk_ciphertext), card.pk)


@pytest.fixture
def queue(w):
    """Three letters waiting (a cover letter, a code envelope with the PUK, a PIN/PUK letter)
    and one printed already."""
    karin = factories.person(given="Karin", family="Kollega", manager=w.manager)
    olle = factories.person(given="Olle", family="Annan", manager=w.manager)
    cover_card = journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    envelope_card = journeys.sent(w, "reserve", t.NEW_PROCESS, t.NEW_PROCESS, person=karin)
    active = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=olle)
    printed = active.letters.get(kind="cover_letter")
    print_queue.mark_printed(actor=w.issuer, letter_ids=[printed.pk], now=t.sthlm(2024, 2, 5, 9))
    pin_letter = cards.order_pin_letter(
        actor=w.support, now=clock.now(), card_ids=[active.pk]
    ).one_made()
    return {
        "cover": cover_card.letters.get(),
        "envelope": envelope_card.letters.get(kind="code_envelope"),
        "pin": pin_letter,
        "printed": printed,
        "puk_cards": [envelope_card, active],
    }


def test_pages_are_for_the_issuer_admin_only(w, queue, client):
    urls = (QUEUE, AUTHORITIES, pdf_url(queue["cover"]))
    for url in urls:
        assert client.get(url)["Location"].startswith("/logga-in/")
        for denied in (w.holder, w.orderer, w.id_admin, w.support):
            client.force_login(denied)
            assert client.get(url).status_code == 403, url
        client.force_login(w.issuer)
        assert client.get(url).status_code == 200, url
        client.logout()
    client.force_login(w.support)
    assert client.post(QUEUE, {"brev": [queue["cover"].pk]}).status_code == 403
    assert Letter.objects.get(pk=queue["cover"].pk).printed_at is None
    assert not AuditEntry.objects.filter(action="letter_rendered", actor="support").exists()


def test_navigation_offers_the_issuer_pages_to_the_issuer_admin_only(w, client):
    client.force_login(w.issuer)
    page = client.get("/kortkontor/").content.decode()
    assert f'href="{QUEUE}"' in page and f'href="{AUTHORITIES}"' in page
    client.force_login(w.support)
    page = client.get("/kortkontor/").content.decode()
    assert QUEUE not in page and AUTHORITIES not in page


def test_queue_lists_exactly_the_unprinted_letters_oldest_first(w, queue, client):
    client.force_login(w.issuer)
    page = text_of(client.get(QUEUE))
    waiting = page[page.index('id="vantar"') : page.index('id="utskrivna"')]
    unprinted = Letter.objects.filter(printed_at__isnull=True).order_by("queued_at", "pk")
    expected = [letter.pk for letter in unprinted]
    assert waiting_ids(waiting) == expected and queue["printed"].pk not in expected
    assert {queue["cover"].pk, queue["envelope"].pk, queue["pin"].pk} <= set(expected)
    assert expected[-1] == queue["pin"].pk  # ordered today: the newest, last
    assert f"{len(expected)} brev väntar." in waiting
    for word in ("Följebrev", "Kodkuvert", "Pin/puk-brev", "Erik Eriksson", "Karin Kollega"):
        assert word in waiting
    assert queue["cover"].card.number in waiting and "Gävle" in waiting
    assert "2024-01-31" in waiting  # queued when the cards were sent
    assert f'href="{pdf_url(queue["cover"])}"' in waiting
    # The recently printed table is read only, and the printed PUK-free letter may be fetched.
    recent = page[page.index('id="utskrivna"') :]
    assert waiting_ids(recent) == [] and f'id="utskrivet-{queue["printed"].pk}"' in recent
    assert "2024-02-05 09:00" in recent


def test_queue_is_paginated(w, queue, client, settings, monkeypatch):
    from ekort.web import issuer

    monkeypatch.setattr(issuer, "PER_PAGE", 2)
    client.force_login(w.issuer)
    expected = [letter.pk for letter in print_queue.waiting_letters()]
    assert len(expected) == 4
    first = text_of(client.get(QUEUE))
    assert waiting_ids(first) == expected[:2]
    assert "Sida 1 av 2." in first and 'href="/utfardare/utskriftsko/?sida=2"' in first
    second = text_of(client.get(QUEUE + "?sida=2"))
    assert waiting_ids(second) == expected[2:]
    assert 'href="/utfardare/utskriftsko/" rel="prev"' in second
    assert waiting_ids(text_of(client.get(QUEUE + "?sida=x"))) == waiting_ids(first)


def test_queue_page_takes_a_fixed_number_of_queries(
    w, queue, client, django_assert_max_num_queries
):
    client.force_login(w.issuer)
    client.get(QUEUE)
    for i in range(5):
        person = factories.person(given=f"P{i}", family="Test", manager=w.manager)
        journeys.sent(w, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=person)
    with django_assert_max_num_queries(12):
        assert client.get(QUEUE).status_code == 200


def test_pdf_is_a_pdf_download_that_no_cache_keeps(w, queue, client):
    client.force_login(w.issuer)
    letter = queue["envelope"]
    response = client.get(pdf_url(letter))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == f'attachment; filename="brev-{letter.pk}.pdf"'
    assert "no-store" in response["Cache-Control"].split(", ")
    entry = AuditEntry.objects.filter(action="letter_rendered").latest("seq")
    assert (entry.actor, entry.object_id) == ("utgivare", str(letter.pk))
    assert client.get("/utfardare/utskriftsko/brev/987654/pdf/").status_code == 404


def test_a_printed_letter_with_the_puk_is_refused_with_its_rule_next_to_it(w, queue, client):
    client.force_login(w.issuer)
    pin = queue["pin"]
    print_queue.mark_printed(actor=w.issuer, letter_ids=[pin.pk], now=clock.now())
    page = text_of(client.get(QUEUE))
    recent = page[page.index('id="utskrivna"') :]
    row = recent[recent.index(f'id="utskrivet-{pin.pk}"') :].split("</tr>")[0]
    assert pdf_url(pin) not in row and "(regel R14)" in row
    refused = client.get(pdf_url(pin))  # an old page, or a typed URL
    assert refused.status_code == 409
    assert refused["Content-Type"].startswith("text/html")
    page = text_of(refused)
    row = page[page.index(f'id="utskrivet-{pin.pk}"') :].split("</tr>")[0]
    assert "(regel R14)" in row and 'class="problem"' in row
    # A printed letter without the PUK may be printed again.
    assert client.get(pdf_url(queue["printed"])).status_code == 200


def test_mark_printed_marks_the_chosen_ones_only_and_audits_them(w, queue, client):
    client.force_login(w.issuer)
    chosen = [queue["cover"].pk, queue["pin"].pk]
    response = client.post(QUEUE, {"brev": chosen})
    assert response.status_code == 302 and response["Location"] == QUEUE
    now = Letter.objects.get(pk=chosen[0]).printed_at
    assert now is not None and abs((clock.now() - now).total_seconds()) < 60
    assert Letter.objects.get(pk=chosen[1]).printed_at == now
    assert Letter.objects.get(pk=queue["envelope"].pk).printed_at is None
    entries = AuditEntry.objects.filter(action="letter_printed", actor="utgivare", at=now)
    assert sorted(int(e.object_id) for e in entries) == sorted(chosen)
    page = text_of(client.get(response["Location"]))
    assert "2 brev är markerade som utskrivna." in page
    assert queue["envelope"].pk in waiting_ids(page)
    assert not set(chosen) & set(waiting_ids(page))
    # Marked again: nothing changes, and the page says so.
    again = client.post(QUEUE + "?sida=1", {"brev": [queue["cover"].pk]}, follow=True)
    assert "de valda var redan utskrivna" in text_of(again)
    assert Letter.objects.get(pk=queue["cover"].pk).printed_at == now


def test_mark_printed_needs_a_choice_and_known_letters(w, queue, client):
    client.force_login(w.issuer)
    nothing = client.post(QUEUE, {})
    assert nothing.status_code == 400 and "Välj minst ett brev" in text_of(nothing)
    assert 'id="fel-brev"' in nothing.content.decode()
    bad = client.post(QUEUE, {"brev": ["x"]})
    assert bad.status_code == 400
    unknown = client.post(QUEUE, {"brev": [queue["cover"].pk, 987654]})
    assert unknown.status_code == 400 and "finns inte längre" in text_of(unknown)
    assert Letter.objects.get(pk=queue["cover"].pk).printed_at is None


def test_the_puk_never_appears_in_a_page(w, queue, client):
    client.force_login(w.issuer)
    puks = [puk_of(card) for card in queue["puk_cards"]]
    pages = [
        client.get(QUEUE),
        client.get(AUTHORITIES),
        client.post(QUEUE, {"brev": [queue["envelope"].pk]}, follow=True),
        client.get(pdf_url(queue["envelope"])),  # refused now: printed, with the PUK
        client.get(f"/stod/kort/{queue['envelope'].card_id}/"),
        client.get(f"/stod/kort/{queue['pin'].card_id}/"),
    ]
    assert pages[3].status_code == 409
    for response in pages:
        body = response.content.decode()
        assert response["Content-Type"].startswith("text/html")
        for puk in puks:
            assert puk not in body


def test_authorities_page_shows_the_cas_their_crls_and_no_key(w, pki, client):
    build_crl(pki.issuing["3"], clock.now())
    client.force_login(w.issuer)
    page = text_of(client.get(AUTHORITIES))
    for ca in (pki.root, pki.issuing["3"], pki.issuing["2"]):
        assert f'<h2 id="ca-{ca.pk}">{ca.name}</h2>' in page
    assert pki.responders["3"].name in page  # shown with the CA it signs for
    assert "Rotutfärdare" in page and "Utfärdande CA" in page
    assert "ECDSA" in page or "RSA" in page
    issuing = pki.issuing["3"]
    section = page[page.index(f'id="ca-{issuing.pk}"') :].split("</section>")[0]
    assert "Senaste spärrlistan" in section and "Spärrade certifikat" in section
    assert 'href="/pki/crl/' in section and 'href="/pki/ca/' in section
    assert "/ocsp/" in section
    assert "Ingen spärrlista är publicerad än." in page  # the LoA2 CA has none yet
    for ca in (pki.root, issuing):
        assert ca.key_ref not in page
    assert "PRIVATE KEY" not in page
    crl = client.get(re.findall(r'href="(/pki/crl/[^"]+)"', section)[0])
    assert crl.status_code == 200 and crl["Content-Type"] == "application/pkix-crl"


# --- API-nycklar -----------------------------------------------------------------------------

TOKENS = "/utfardare/api-nycklar/"


def test_the_issuer_admin_lists_and_revokes_api_tokens(w, client):
    from datetime import timedelta

    from ekort.services import tokens
    from ekort.store.models import ApiToken

    now = clock.now()
    live = tokens.issue_token(actor=w.support, name="Kundtjänstens CRM", now=now)
    tokens.issue_token(actor=w.holder, name="Gammal app", now=now - timedelta(days=120))
    record = ApiToken.objects.get(name="Kundtjänstens CRM")
    client.force_login(w.support)
    assert client.get(TOKENS).status_code == 403
    client.force_login(w.issuer)
    page = text_of(client.get(TOKENS))
    assert "Kundtjänstens CRM" in page and "support" in page and "Gäller" in page
    assert "Gammal app" in page and "Utgången" in page
    assert record.expires_at.astimezone(t.STOCKHOLM).strftime("%Y-%m-%d") in page
    assert live not in page and record.digest not in page
    revoke = f"/utfardare/api-nycklar/{record.pk}/aterkalla/"
    assert f'action="{revoke}"' in page
    response = client.post(revoke, follow=True)
    assert "API-nyckeln är återkallad" in text_of(response)
    assert ApiToken.objects.get(pk=record.pk).revoked
    entry = AuditEntry.objects.get(action="revoke_api_token")
    assert (entry.actor, entry.after["user"]) == ("utgivare", "support")
    assert "Återkallad" in text_of(client.get(TOKENS))
    assert client.post("/utfardare/api-nycklar/987654/aterkalla/").status_code == 404


def test_whoever_ordered_a_pin_letter_sees_that_another_prints_it(w, queue, client):
    """Support, made an issuer administrator after ordering the PIN/PUK letter: the queue shows
    them why they cannot print it (E14) and offers neither the PDF nor the box to tick; another
    issuer administrator sees it as any other letter."""
    pin = queue["pin"]
    factories.staff_roles(w.support, Role.ISSUER_ADMIN)
    client.force_login(w.support)
    page = text_of(client.get(QUEUE))
    row = page[page.index(f'id="brev-{pin.pk}"') :].split("</tr>")[0]
    assert "Du beställde brevet till någon annans kort" in row and "regel E14" in row
    assert pdf_url(pin) not in row and pin.pk not in waiting_ids(page)
    assert client.get(pdf_url(pin)).status_code == 409
    client.force_login(w.issuer)
    page = text_of(client.get(QUEUE))
    assert pin.pk in waiting_ids(page) and pdf_url(pin) in page
