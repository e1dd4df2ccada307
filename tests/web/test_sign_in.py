"""Signing in and out; the lockout of an account after five wrong passwords from any address,
and of an address after wrong passwords across many accounts (django-axes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.utils import reset as reset_axes

from ekort.web.signin import address_failures
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, address="127.0.0.1"):
    return client.post(
        "/logga-in/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


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

    # Another account from the same computer is not locked: five failures are far from the
    # address's own limit.
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


def test_a_locked_account_stays_locked_from_every_other_address(w, client):
    addresses = ["10.0.0.1", "10.0.0.2", "192.0.2.7", "198.51.100.9", "203.0.113.4"]
    statuses = [sign_in(client, "erik", "fel", address).status_code for address in addresses]
    assert statuses == [200] * 4 + [429]
    # The right password from a sixth address is refused too, and nobody is signed in.
    locked = sign_in(client, "erik", PASSWORD, "10.9.9.9")
    assert locked.status_code == 429
    assert "Inloggningen är tillfälligt spärrad" in locked.content.decode()
    assert client.get("/mina-sidor/").status_code == 302
    # Other accounts sign in as usual.
    assert sign_in(client, "chef", PASSWORD, "10.9.9.9").status_code == 302


def test_an_address_failing_across_many_accounts_is_slowed(w, client, settings):
    """Four wrong passwords on each of twelve accounts never lock an account (five do), but
    the address that sent them is stopped after EKORT_SIGN_IN_ADDRESS_LIMIT failures."""
    limit = settings.EKORT_SIGN_IN_ADDRESS_LIMIT
    assert limit == 20
    statuses = [
        sign_in(client, f"konto-{account}", f"fel-{attempt}", "198.51.100.23").status_code
        for account in range(12)
        for attempt in range(4)
    ]
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert set(statuses[limit - 1 :]) == {429}
    # From that address not even a right password signs in while it is slowed ...
    assert sign_in(client, "erik", PASSWORD, "198.51.100.23").status_code == 429
    assert client.get("/mina-sidor/").status_code == 302
    # ... while the same account signs in from anywhere else.
    assert sign_in(client, "erik", PASSWORD, "198.51.100.24").status_code == 302


def test_the_lockout_page_names_both_causes_and_no_password_is_kept(w, client):
    for attempt in range(5):
        locked = sign_in(client, "erik", f"Hemligt-fel-{attempt}")
    page = locked.content.decode()
    assert (
        "för många misslyckade inloggningsförsök för det här kontot eller från den här adressen"
        in (" ".join(page.split()))
    )
    kept = " ".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert kept and "Hemligt" not in kept
    assert not AccessFailureLog.objects.filter(username__contains="Hemligt").exists()


def test_the_address_count_forgets_failures_after_the_cool_off(w, client, settings):
    for account in range(3):
        for attempt in range(2):
            sign_in(client, f"konto-{account}", f"fel-{attempt}", "198.51.100.23")
    sign_in(client, "konto-0", "fel", "198.51.100.99")
    latest = max(AccessAttempt.objects.values_list("attempt_time", flat=True))
    assert address_failures("198.51.100.23", now=latest) == 6
    assert address_failures("198.51.100.99", now=latest) == 1
    later = latest + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    assert address_failures("198.51.100.23", now=later) == 0


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(w, client, settings):
    """With EKORT_BEHIND_PROXY the address is the last one in X-Forwarded-For, which the
    proxy appends: a client cannot pick its own address by sending that header itself."""
    settings.EKORT_BEHIND_PROXY = True
    for attempt in range(5):
        client.post(
            "/logga-in/",
            {"username": "erik", "password": f"fel-{attempt}"},
            REMOTE_ADDR="10.0.0.1",  # the proxy
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}, 198.51.100.23",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.23"}
