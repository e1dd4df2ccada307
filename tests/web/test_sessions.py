"""How long a signed-in session lasts: staff 12 hours at most and 30 minutes idle, holders no
longer (settings EKORT_*_SESSION_*), judged on the process's clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings as django_settings

from ekort.domain.timekeeping import parse_instant
from ekort.web.sessions import SessionLimits, ended, limits
from tests.web.conftest import PASSWORD, PORTAL_NOW, simulate

pytestmark = pytest.mark.django_db

START = parse_instant(PORTAL_NOW)
STAFF_PAGE = "/kortkontor/arbete/"  # the ID administrator's start page
HOLDER_PAGE = "/mina-sidor/"


def at(settings, offset: timedelta) -> None:
    simulate(settings, (START + offset).isoformat())


def sign_in(client, username: str) -> None:
    response = client.post("/logga-in/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response


def signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/logga-in/")


def test_the_limits_in_settings():
    staff = limits(staff=True)
    assert staff == SessionLimits(absolute=timedelta(hours=12), idle=timedelta(minutes=30))
    holder = limits(staff=False)
    assert holder.absolute <= staff.absolute and holder.idle <= staff.idle
    # The cookie and the stored session never outlive the longest session either.
    assert django_settings.SESSION_COOKIE_AGE == 12 * 3600


def test_a_staff_session_ends_after_thirty_idle_minutes(w, client, settings):
    sign_in(client, "idadmin")
    at(settings, timedelta(minutes=29))
    assert client.get(STAFF_PAGE).status_code == 200
    at(settings, timedelta(minutes=58))  # 29 minutes after the last request
    assert client.get(STAFF_PAGE).status_code == 200
    at(settings, timedelta(minutes=58 + 31))
    response = client.get(STAFF_PAGE)
    assert signed_out(response)
    page = client.get(response["Location"]).content.decode()
    assert "Du har loggats ut efter 30 minuter utan aktivitet" in page
    # Signed out for good: the session is gone, not just this one request turned away.
    assert signed_out(client.get(STAFF_PAGE))


def test_a_staff_session_ends_after_twelve_hours_however_busy(w, client, settings):
    sign_in(client, "idadmin")
    minutes = 0
    while minutes + 25 < 12 * 60:
        minutes += 25
        at(settings, timedelta(minutes=minutes))
        assert client.get(STAFF_PAGE).status_code == 200, minutes
    at(settings, timedelta(hours=12, seconds=1))
    response = client.get(STAFF_PAGE)
    assert signed_out(response)
    page = client.get(response["Location"]).content.decode()
    assert "Du har loggats ut: en inloggning gäller i högst 12 timmar" in page


def test_a_holder_session_is_shorter(w, client, settings):
    holder = limits(staff=False)
    sign_in(client, "erik")
    at(settings, holder.idle - timedelta(minutes=1))
    assert client.get(HOLDER_PAGE).status_code == 200
    at(settings, 2 * holder.idle)
    assert signed_out(client.get(HOLDER_PAGE))


def test_a_holder_who_is_also_staff_gets_the_staff_limits(w, client, settings):
    """The orderer holds cards of her own too: hers is a staff session."""
    sign_in(client, "chef")
    at(settings, timedelta(minutes=29))
    assert client.get("/medarbetare/").status_code == 200


def test_a_session_signed_in_before_the_limits_existed_is_ended(w, client):
    sign_in(client, "idadmin")
    session = client.session
    for key in list(session.keys()):
        if key.startswith("ekort_"):
            del session[key]
    session.save()
    assert signed_out(client.get(STAFF_PAGE))


STAFF = SessionLimits(absolute=timedelta(hours=12), idle=timedelta(minutes=30))
SIGNED_IN = datetime(2024, 2, 6, 8, 0, tzinfo=START.tzinfo)


@pytest.mark.parametrize(
    ("last_seen", "now", "expected"),
    [
        (SIGNED_IN, SIGNED_IN + timedelta(minutes=30), None),
        (SIGNED_IN, SIGNED_IN + timedelta(minutes=30, seconds=1), "idle"),
        (SIGNED_IN + timedelta(hours=11, minutes=50), SIGNED_IN + timedelta(hours=12), None),
        (
            SIGNED_IN + timedelta(hours=11, minutes=50),
            SIGNED_IN + timedelta(hours=12, seconds=1),
            "absolute",
        ),
    ],
)
def test_ended(last_seen, now, expected):
    assert ended(SIGNED_IN, last_seen, STAFF, now=now) == expected
