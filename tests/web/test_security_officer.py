"""Säkerhet: the security officer's pages. Behörigheter grants and withdraws roles through the
audited service (never one's own, E15); Granskning reads the audit trail and the histories in
it. No other page is theirs."""

from __future__ import annotations

import html
import re

import pytest

from ekort.domain.vocabulary import Role
from ekort.services import role_grants
from ekort.services.roles import roles_of
from ekort.store.models import AuditEntry
from tests import instants as t
from tests.integration import journeys

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def links_of(page: str) -> list[str]:
    return re.findall(r'(?:href|action)="([^"]*)"', page)


def test_the_security_officer_starts_on_behorigheter_and_sees_only_their_pages(w, client):
    client.force_login(w.security_officer)
    page = text_of(client.get("/sakerhet/"))
    links = links_of(page)
    assert "/sakerhet/" in links and "/sakerhet/granskning/" in links
    for elsewhere in ("/stod/", "/utfardare/utskriftsko/", "/kortkontor/arbete/", "/mina-sidor/"):
        assert elsewhere not in links
        assert client.get(elsewhere).status_code == 403
    assert "utgivare" in page and "Utfärdaradministratör (ansvarig utgivare)" in page
    client.logout()
    w.security_officer.set_password("pw-of-the-officer")
    w.security_officer.save()
    signed_in = client.post("/logga-in/", {"username": "sakerhet", "password": "pw-of-the-officer"})
    assert signed_in["Location"] == "/sakerhet/"


def test_grant_and_withdraw_a_role_on_the_account_page(w, client):
    client.force_login(w.security_officer)
    url = f"/sakerhet/konto/{w.holder.pk}/"
    page = text_of(client.get(url))
    assert '<option value="issuer_admin">' in page
    granted = client.post(url, {"change": "grant", "role": "issuer_admin"}, follow=True)
    assert "Behörigheten Utfärdaradministratör (ansvarig utgivare) är given." in text_of(granted)
    assert Role.ISSUER_ADMIN in roles_of(type(w.holder).objects.get(pk=w.holder.pk))
    assert "En behörighet gavs" in text_of(granted)  # the account's history
    client.post(url, {"change": "withdraw", "role": "issuer_admin"})
    assert roles_of(type(w.holder).objects.get(pk=w.holder.pk)) == {Role.HOLDER}
    assert [e.action for e in AuditEntry.objects.filter(object_type="account")] == [
        "grant_role",
        "withdraw_role",
    ]
    bad = client.post(url, {"change": "grant", "role": "king"})
    assert bad.status_code == 400
    assert (
        client.post("/sakerhet/konto/987654/", {"change": "grant", "role": "holder"}).status_code
        == 404
    )


def test_the_own_account_has_no_form_and_a_post_is_refused_with_e15(w, client):
    client.force_login(w.security_officer)
    url = f"/sakerhet/konto/{w.security_officer.pk}/"
    page = text_of(client.get(url))
    assert "regel E15" in page and 'name="change"' not in page
    refused = client.post(url, {"change": "grant", "role": "issuer_admin"})
    assert refused.status_code == 409 and "(regel E15)" in text_of(refused)
    assert roles_of(type(w.security_officer).objects.get(pk=w.security_officer.pk)) == {
        Role.SECURITY_OFFICER
    }


def test_granskning_lists_the_trail_and_opens_a_card_history(w, client):
    card = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    role_grants.grant_role(
        actor=w.security_officer, user_id=w.support.pk, role="id_admin", now=t.NEW_PROCESS
    )
    client.force_login(w.security_officer)
    page = text_of(client.get("/sakerhet/granskning/"))
    table = page.split("<table>")[1]  # the trail, below the filter's list of events
    assert "En behörighet gavs" in table and "Kortet aktiverades" in table
    assert f"?kort={card.pk}" in links_of(page) and f"?konto={w.support.pk}" in links_of(page)
    only = text_of(client.get("/sakerhet/granskning/", {"handling": "grant_role"}))
    only = only.split("<table>")[1]
    assert "En behörighet gavs" in only and "Kortet aktiverades" not in only
    history = text_of(client.get("/sakerhet/granskning/", {"kort": card.pk}))
    assert "Kortet beställdes" in history and "Kortet aktiverades" in history
    assert "En behörighet gavs" not in history
    account = text_of(client.get("/sakerhet/granskning/", {"konto": w.support.pk}))
    assert "Id-administratör" in account
    assert client.get("/sakerhet/granskning/", {"kort": "x"}).status_code == 404
