"""Signing in and out, and the lockout after five wrong passwords (django-axes)."""

from __future__ import annotations

import pytest
from axes.utils import reset as reset_axes

from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password):
    return client.post("/logga-in/", {"username": username, "password": password})


def test_sign_in_page_has_labelled_fields(client):
    page = client.get("/logga-in/").content.decode()
    assert '<label for="id_username">Användarnamn</label>' in page
    assert '<label for="id_password">Lösenord</label>' in page


def test_holder_signs_in_to_mina_sidor_and_out_again(w, client):
    response = sign_in(client, "erik", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/mina-sidor/"
    assert "Mina sidor" in client.get("/mina-sidor/").content.decode()
    assert client.post("/logga-ut/").status_code == 302
    assert client.get("/mina-sidor/")["Location"].startswith("/logga-in/")


def test_sign_in_follows_next(w, client):
    response = client.post(
        "/logga-in/", {"username": "chef", "password": PASSWORD, "next": "/medarbetare/"}
    )
    assert response["Location"] == "/medarbetare/"


def test_wrong_password_says_so_in_swedish(w, client):
    response = sign_in(client, "erik", "fel")
    assert response.status_code == 200
    assert "Användarnamnet eller lösenordet är fel" in response.content.decode()


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(w, client):
    statuses = [sign_in(client, "erik", f"fel-{i}").status_code for i in range(5)]
    assert statuses[:4] == [200] * 4
    assert statuses[4] == 429
    locked = sign_in(client, "erik", PASSWORD)
    assert locked.status_code == 429
    assert "Inloggningen är tillfälligt spärrad" in locked.content.decode()
    assert client.get("/mina-sidor/").status_code == 302  # not signed in

    # Another account from the same computer is not locked (username + IP address).
    assert sign_in(client, "chef", PASSWORD).status_code == 302

    reset_axes(username="erik")
    assert sign_in(client, "erik", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_count(w, client):
    for i in range(4):
        sign_in(client, "erik", f"fel-{i}")
    assert sign_in(client, "erik", PASSWORD).status_code == 302
    client.post("/logga-ut/")
    for i in range(4):
        assert sign_in(client, "erik", f"fel-igen-{i}").status_code == 200
