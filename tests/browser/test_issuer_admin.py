"""The issuer administrator: the overview of cards, deadlines and the print queue (/stod/
oversikt/), which support sees too; then the print run on the administrator's own pages
(/utfardare/): the queue, a letter's PDF, marking it printed, and the CAs with their CRLs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from ekort.services import clock
from ekort.services.ca.status import build_crl
from ekort.store.models import AuditEntry, Letter

from .conftest import EriksCards
from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_issuer_admin_overview(journey: Journey, w, eriks_cards: EriksCards, pki: Any) -> None:
    build_crl(pki.issuing["3"], clock.now())
    cover = eriks_cards.photo.letters.get(kind="cover_letter")
    page = journey.page
    journey.sign_in("utgivare")
    page.get_by_role("navigation").get_by_role("link", name="Översikt").click()
    expect(page.get_by_role("heading", name="Översikt", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Läget 2024-02-06: 2 kort totalt.")
    expect(journey.section("Tidsgränser som närmar sig")).to_contain_text(
        "Aktiveras senast (regel R8)"
    )
    expect(journey.section("Utskriftskön")).to_contain_text("brev väntar på utskrift")
    journey.shot("oversikt")

    # The print queue: Erik's cover letter waits, oldest first.
    page.get_by_role("navigation").get_by_role("link", name="Utskriftskö").click()
    expect(page.get_by_role("heading", name="Utskriftskö", level=1)).to_be_visible()
    waiting = journey.section("Väntar på utskrift")
    row = waiting.locator(f"#brev-{cover.pk}")
    expect(row).to_contain_text("Följebrev")
    expect(row).to_contain_text("Erik Eriksson")
    journey.shot("utskriftsko")

    with page.expect_download() as download_info:
        row.get_by_role("link", name="PDF för Följebrev").click()
    download = download_info.value
    assert download.suggested_filename == f"brev-{cover.pk}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # Only cover letters: the filter, in the URL; then every one on the page ticked at once
    # (select-all.js, a file of this origin: the CSP allows no inline script).
    page.get_by_label("Brevtyp").select_option(label="Följebrev")
    page.get_by_role("button", name="Visa breven").click()
    expect(page).to_have_url(re.compile(r"\?namn=&typ=cover_letter&kontor=$"))
    select_all = page.get_by_role("button", name="Välj alla på sidan").first
    select_all.click()
    expect(row.get_by_role("checkbox")).to_be_checked()
    expect(page.get_by_role("button", name="Avmarkera alla på sidan")).to_have_count(2)
    journey.shot("valt-brev")
    # A button above the table and one below it.
    expect(page.get_by_role("button", name="Markera valda som utskrivna")).to_have_count(2)
    covers = Letter.objects.filter(kind="cover_letter", printed_at__isnull=True).count()
    assert covers == 2  # Erik's photo card's and reserve card's
    page.get_by_role("button", name="Markera valda som utskrivna").first.click()
    expect(page.get_by_role("status")).to_have_text("2 brev är markerade som utskrivna.")
    expect(journey.section("Väntar på utskrift").locator(f"#brev-{cover.pk}")).to_have_count(0)
    expect(page.locator(f"#utskrivet-{cover.pk}")).to_contain_text("Följebrev")
    journey.shot("utskrivet")
    assert Letter.objects.get(pk=cover.pk).printed_at is not None
    assert AuditEntry.objects.filter(action="letter_printed", object_id=str(cover.pk)).exists()

    # The CAs and their CRLs, read only.
    page.get_by_role("navigation").get_by_role("link", name="Utfärdare och spärrlistor").click()
    expect(page.get_by_role("heading", name="Utfärdare och spärrlistor", level=1)).to_be_visible()
    issuing = journey.section(pki.issuing["3"].name)
    expect(issuing).to_contain_text("Senaste spärrlistan")
    expect(issuing).to_contain_text("OCSP-tjänst")
    journey.shot("utfardare")
