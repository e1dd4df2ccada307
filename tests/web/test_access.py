"""Every portal page: anonymous → sign-in, wrong role → 403, right role → 200 with its content.
And CSRF: a form posted without its token is refused."""

from __future__ import annotations

import pytest
from django.test import Client

from ekort.store.models import Letter

pytestmark = pytest.mark.django_db

# (url, who may open it, who may not, text the page shows to the right role). The card offices
# (/kortkontor/) are public, for anyone (tests/web/test_every_page.py).
PAGES = [
    ("/mina-sidor/", "holder", "issuer", "Mina kort"),
    ("/mina-sidor/fragor-och-svar/", "holder", "issuer", "Frågor och svar"),
    ("/medarbetare/", "orderer", "holder", "Erik Eriksson"),
    ("/medarbetare/bestall-fran-fil/", "orderer", "holder", "Beställ kort från en fil"),
]


def account(w, stranger, who):
    return stranger if who == "stranger" else getattr(w, who)


@pytest.mark.parametrize(("url", "allowed", "denied", "text"), PAGES)
def test_anonymous_is_sent_to_sign_in(w, client, url, allowed, denied, text):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/logga-in/?next={url}"


@pytest.mark.parametrize(("url", "allowed", "denied", "text"), PAGES)
def test_wrong_role_is_refused(w, stranger, client, url, allowed, denied, text):
    client.force_login(account(w, stranger, denied))
    response = client.get(url)
    assert response.status_code == 403
    assert "Du har inte behörighet till sidan" in response.content.decode()


@pytest.mark.parametrize(("url", "allowed", "denied", "text"), PAGES)
def test_right_role_sees_the_page(w, stranger, client, url, allowed, denied, text):
    client.force_login(account(w, stranger, allowed))
    response = client.get(url)
    assert response.status_code == 200
    assert text in response.content.decode()


@pytest.mark.parametrize(
    ("url", "allowed", "denied"),
    [
        ("/mina-sidor/kort/{photo}/sparra/", "holder", "issuer"),
        ("/medarbetare/kort/{photo}/sparra/", "orderer", "holder"),
    ],
)
def test_block_pages(w, eriks_cards, client, url, allowed, denied):
    url = url.format(photo=eriks_cards.photo.pk)
    assert client.get(url).status_code == 302
    client.force_login(getattr(w, denied))
    assert client.get(url).status_code == 403
    client.force_login(getattr(w, allowed))
    page = client.get(url)
    assert page.status_code == 200
    assert "En spärr gäller direkt och kan inte hävas" in page.content.decode()


@pytest.mark.parametrize(
    ("url", "denied"),
    [
        ("/mina-sidor/kort/{photo}/pinbrev/", "issuer"),
        ("/medarbetare/{person}/bestall/", "holder"),
        ("/medarbetare/kort/{photo}/ersatt/", "holder"),
    ],
)
def test_posts_need_sign_in_and_role(w, eriks_cards, client, url, denied):
    url = url.format(photo=eriks_cards.photo.pk, person=w.employee.pk)
    assert client.post(url)["Location"].startswith("/logga-in/")
    client.force_login(getattr(w, denied))
    assert client.post(url).status_code == 403


def test_navigation_follows_the_roles(w, client):
    client.force_login(w.holder)
    holder_page = client.get("/mina-sidor/").content.decode()
    assert 'href="/mina-sidor/"' in holder_page and 'href="/medarbetare/"' not in holder_page
    client.force_login(w.orderer)
    orderer_page = client.get("/mina-sidor/").content.decode()
    assert 'href="/medarbetare/"' in orderer_page
    assert 'href="#innehall"' in orderer_page  # the skip link


def test_post_without_csrf_token_is_refused(w, eriks_cards):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(w.holder)
    response = strict.post(f"/mina-sidor/kort/{eriks_cards.photo.pk}/pinbrev/")
    assert response.status_code == 403
    assert not Letter.objects.filter(kind="pin_puk_letter").exists()


def test_sign_in_without_csrf_token_is_refused(w):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/logga-in/", {"username": "erik", "password": "x"})
    assert response.status_code == 403
