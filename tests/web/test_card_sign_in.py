"""Signing in with the card (E16) as the portal sees it behind the proxy: the certificate in
X-SSL-Client-Cert and nginx's verdict in X-SSL-Client-Verify, believed only from the proxy's
address (EKORT_CLIENT_CERT_PROXIES). tests/deploy/ runs the same through a real nginx."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from ekort.domain.identifiers import IdentityKind
from ekort.domain.vocabulary import Role
from ekort.services import cards
from ekort.store.models import AuditEntry, Card, Certificate
from ekort.web.signin import start_page_for
from tests import factories
from tests import instants as t
from tests.card_keys import certificate_pem, foreign_card
from tests.integration import journeys
from tests.web.conftest import PASSWORD

PROXY = "10.0.0.7"
CARD_SIGN_IN = "/logga-in/kort/"


@pytest.fixture(autouse=True)
def behind_proxy(settings):
    settings.EKORT_CLIENT_CERT_PROXIES = frozenset({PROXY})


def headers(pem: str, verify: str = "SUCCESS", *, address: str = PROXY) -> dict[str, str]:
    from urllib.parse import quote

    return {
        "REMOTE_ADDR": address,
        "HTTP_X_SSL_CLIENT_CERT": quote(pem, safe=""),
        "HTTP_X_SSL_CLIENT_VERIFY": verify,
    }


@pytest.fixture
def marias_card(w) -> Card:
    """Maria, the manager (orderer and holder, account "chef"), holds an active LoA3 card,
    ordered by her own manager."""
    return journeys.activated(
        above(w), "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=w.manager
    )


def above(w):
    """The world with Maria's own manager as its orderer."""
    boss = factories.person(given="Dora", family="Direktör", birth="19600101", unit=w.unit)
    w.manager.manager = boss
    w.manager.save(update_fields=["manager"])
    return dataclasses.replace(w, orderer=factories.staff("direktor", Role.ORDERER, person=boss))


def refused_with(response, sentence: str) -> None:
    assert response.status_code == 403
    body = response.content.decode()
    assert "E16" in body and sentence in body, body


def test_an_active_card_signs_in_with_the_accounts_roles(client, w, marias_card):
    response = client.get(CARD_SIGN_IN, **headers(certificate_pem(marias_card)))
    assert response.status_code == 302
    assert response["Location"] == start_page_for(w.orderer)
    # The session is the account's, and every page checks the certificate again.
    page = client.get("/medarbetare/", **headers(certificate_pem(marias_card)))
    assert page.status_code == 200
    assert page.wsgi_request.user == w.orderer
    (entry,) = AuditEntry.objects.filter(action="card_sign_in")
    assert (entry.actor, entry.object_type, entry.object_id) == (
        "chef",
        "card",
        str(marias_card.pk),
    )
    assert entry.after["level"] == "3" and entry.after["address"] == PROXY
    assert sorted(entry.after["roles"]) == ["holder", "orderer"]


def test_headers_from_anyone_but_the_proxy_are_ignored(client, w, marias_card):
    response = client.get(CARD_SIGN_IN, **headers(certificate_pem(marias_card), address="10.0.0.8"))
    refused_with(response, "Webbläsaren skickade inget certifikat")
    assert "_auth_user_id" not in client.session


def test_card_sign_in_is_off_without_a_proxy(client, w, marias_card, settings):
    settings.EKORT_CLIENT_CERT_PROXIES = frozenset()
    response = client.get(CARD_SIGN_IN, **headers(certificate_pem(marias_card)))
    refused_with(response, "Webbläsaren skickade inget certifikat")


def test_a_certificate_the_proxy_did_not_verify_is_refused(client, w, marias_card):
    response = client.get(
        CARD_SIGN_IN, **headers(certificate_pem(marias_card), "FAILED:unable to verify")
    )
    refused_with(response, "Certifikatet kunde inte kontrolleras mot ekorts utfärdare")


def test_a_certificate_of_another_ca_is_refused_and_recorded(client, w, tmp_path):
    foreign = foreign_card(w.manager.hsa_id or "", tmp_path)
    # Even if a proxy said SUCCESS, ekort finds no such certificate among its own.
    response = client.get(CARD_SIGN_IN, **headers(foreign.pem))
    refused_with(response, "Certifikatet är inte utfärdat av ekort")
    (entry,) = AuditEntry.objects.filter(action="card_sign_in_refused")
    assert entry.object_type == "certificate" and entry.actor.startswith("certificate:")
    assert "Someone Else" in entry.after["subject"]


def test_a_certificate_with_an_ekort_serial_but_another_key_is_refused(client, w, marias_card):
    """Same issuer name and serial as Maria's, signed by someone else: not hers, byte for
    byte, so not ekort's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    real = x509.load_pem_x509_certificate(certificate_pem(marias_card).encode())
    key = ec.generate_private_key(ec.SECP256R1())
    forged = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(real.serial_number)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
        .sign(key, hashes.SHA256())
    )
    pem = forged.public_bytes(serialization.Encoding.PEM).decode()
    refused_with(client.get(CARD_SIGN_IN, **headers(pem)), "Certifikatet är inte utfärdat av ekort")


def test_rubbish_in_the_header_is_refused_as_no_certificate_of_ekort(client, w):
    response = client.get(CARD_SIGN_IN, **headers("-----BEGIN CERTIFICATE-----\nxx\n"))
    refused_with(response, "Certifikatet är inte utfärdat av ekort")


def test_a_blocked_card_is_refused_in_swedish_and_english(client, w, marias_card):
    cards.block(
        actor=w.support,
        card_ids=[marias_card.pk],
        reason="lost",
        requested_by="Maria",
        now=t.sthlm(2024, 2, 3, 10),
    ).one()
    pem = certificate_pem(marias_card)
    refused_with(client.get(CARD_SIGN_IN, **headers(pem)), "Kortet är spärrat")
    client.post("/sprak/", {"language": "en", "next": "/"})
    english = client.get(CARD_SIGN_IN, **headers(pem))
    assert english.status_code == 403
    assert "The card is blocked and cannot be used to sign in." in english.content.decode()
    refusals = AuditEntry.objects.filter(action="card_sign_in_refused")
    assert refusals.count() == 2
    assert {(e.actor, e.object_id) for e in refusals} == {("chef", str(marias_card.pk))}


def test_a_card_on_hold_is_refused(client, w):
    card = journeys.sent(above(w), "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=w.manager)
    assert Certificate.objects.get(card=card, profile="auth").status == "on_hold"
    refused_with(
        client.get(CARD_SIGN_IN, **headers(certificate_pem(card))), "Kortet är inte aktiverat än"
    )


def test_a_holder_without_an_account_is_refused(client, w):
    olle = factories.person(given="Olle", family="Utan", manager=w.manager, unit=w.unit)
    card = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10), person=olle)
    refused_with(
        client.get(CARD_SIGN_IN, **headers(certificate_pem(card))),
        "Kortets innehavare har inget aktivt konto i ekort",
    )


def test_a_block_ends_the_session_at_its_next_request(client, w, marias_card):
    pem = certificate_pem(marias_card)
    assert client.get(CARD_SIGN_IN, **headers(pem)).status_code == 302
    cards.block(
        actor=w.support,
        card_ids=[marias_card.pk],
        reason="stolen",
        requested_by="Maria",
        now=t.sthlm(2024, 2, 3, 10),
    ).one()
    refused_with(client.get("/mina-sidor/", **headers(pem)), "Kortet är spärrat")
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="card_session_ended", actor="chef").count() == 1


def test_a_session_signed_in_with_the_card_needs_the_same_certificate(client, w, marias_card):
    pem = certificate_pem(marias_card)
    assert client.get(CARD_SIGN_IN, **headers(pem)).status_code == 302
    # The same session, but the request does not come through the proxy with the card.
    refused_with(
        client.get("/mina-sidor/", REMOTE_ADDR="10.0.0.9"), "Webbläsaren skickade inget certifikat"
    )
    assert "_auth_user_id" not in client.session


def test_a_card_at_level_2_opens_the_holders_pages_but_not_the_id_administrators(client, w):
    """Erik is a holder and an ID administrator; his card is at assurance level 2 (he is
    registered with a samordningsnummer), so signing in with it gives him his own pages only."""
    erik = w.employee
    erik.identity_kind = IdentityKind.SAMORDNINGSNUMMER.value
    erik.save(update_fields=["identity_kind"])
    card = journeys.activated(w, "reserve", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    assert card.assurance_level == "2"
    from django.contrib.auth.models import Group

    w.holder.groups.add(Group.objects.get_or_create(name=Role.ID_ADMIN.value)[0])
    pem = certificate_pem(card)
    assert client.get(CARD_SIGN_IN, **headers(pem)).status_code == 302
    assert client.get("/mina-sidor/", **headers(pem)).status_code == 200
    refused = client.get("/kortkontor/arbete/", **headers(pem))
    assert refused.status_code == 403
    assert "kräver inloggning med ett kort på tillitsnivå 3 (regel E16)" in refused.content.decode()
    (entry,) = AuditEntry.objects.filter(action="card_sign_in")
    assert (entry.after["level"], entry.after["roles"]) == ("2", ["holder"])


def test_an_id_administrator_with_only_a_level_2_card_is_refused(client, w):
    erik = w.employee
    erik.identity_kind = IdentityKind.SAMORDNINGSNUMMER.value
    erik.save(update_fields=["identity_kind"])
    card = journeys.activated(w, "reserve", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    from django.contrib.auth.models import Group

    w.holder.groups.set([Group.objects.get_or_create(name=Role.ID_ADMIN.value)[0]])
    refused_with(
        client.get(CARD_SIGN_IN, **headers(certificate_pem(card))),
        "Dina behörigheter kräver ett kort på tillitsnivå 3",
    )


def test_the_signature_certificate_does_not_sign_in(client, w, marias_card):
    from ekort.services.ca import holder_certificates

    holder_certificates.download_signature_certificate(
        actor=w.orderer,
        card_id=marias_card.pk,
        pin=journeys.PIN,
        signature_code="615243",
        now=t.sthlm(2024, 2, 2, 10),
    )
    refused_with(
        client.get(CARD_SIGN_IN, **headers(certificate_pem(marias_card, "signature"))),
        "Det är inte kortets legitimeringscertifikat",
    )


# --- Passwords in production -----------------------------------------------------------------


def _password(client, user: User):
    return client.post("/logga-in/", {"username": user.username, "password": PASSWORD})


def test_production_turns_staff_passwords_off(client, w, settings):
    settings.EKORT_STAFF_PASSWORD_SIGN_IN = False
    refused = _password(client, w.id_admin)
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    assert "Användarnamnet eller lösenordet är fel" in refused.content.decode()
    # A holder with no other role keeps the password.
    assert _password(client, w.holder).status_code == 302
    page = client.get("/logga-in/")
    assert page.status_code == 302  # signed in: sent on


def test_the_sign_in_page_offers_the_card(client, w, settings):
    settings.EKORT_STAFF_PASSWORD_SIGN_IN = False
    body = client.get("/logga-in/").content.decode()
    assert 'href="/logga-in/kort/"' in body
    assert "Id-administratörer, utfärdare och annan personal loggar in med kortet." in body


def test_development_keeps_staff_passwords(client, w, settings):
    settings.EKORT_STAFF_PASSWORD_SIGN_IN = True
    assert _password(client, w.id_admin).status_code == 302


def test_the_certificate_must_be_valid_now(client, w, marias_card, settings):
    from tests.web.conftest import simulate

    record = Certificate.objects.get(card=marias_card, profile="auth")
    after = record.not_after + timedelta(seconds=1)
    simulate(settings, after.isoformat())
    Card.objects.filter(pk=marias_card.pk).update(valid_until=None)
    response = client.get(CARD_SIGN_IN, **headers(certificate_pem(marias_card)))
    refused_with(response, "Certifikatet är inte giltigt nu")
