"""Simulated time: the clock starts at the configured instant, pages say so, production refuses."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from ekort.services import clock
from tests import instants as t

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulated(settings):
    settings.EKORT_SIMULATED_NOW = "2024-01-24T10:00+01:00"
    clock.reset()
    yield
    clock.reset()


def test_real_clock_is_not_simulated(settings, client):
    settings.EKORT_SIMULATED_NOW = ""
    clock.reset()
    assert not clock.is_simulated()
    assert "Simulerad tid" not in client.get("/").content.decode()


def test_simulated_clock_starts_at_the_instant_and_runs_on(simulated):
    first = clock.now()
    assert timedelta(0) <= first - t.DURING_FREEZE < timedelta(seconds=5)
    assert clock.now() >= first
    assert clock.is_simulated()


def test_every_page_shows_the_simulated_time_banner(simulated, client):
    for url in ("/", "/rules/"):
        page = client.get(url).content.decode()
        assert "Simulerad tid" in page and "2024-01-24 10:0" in page, url
    assert client.get("/health/").json()["simulated_time"] is True


def test_rules_page_at_a_chosen_date(client):
    page = client.get("/rules/", {"at": "2024-01-24"}).content.decode()
    assert "Beställningsstopp" in page and "R4" in page
    bad = client.get("/rules/", {"at": "den tjugofjärde"}).content.decode()
    assert "Det är inget datum som går att läsa" in bad


def test_production_settings_refuse_simulated_time():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='ekort.settings'; django.setup()"
    )
    env = {
        "EKORT_ENV": "production",
        "EKORT_SIMULATED_NOW": "2024-01-24T10:00+01:00",
        "DJANGO_SECRET_KEY": "x" * 50,
        "EKORT_AUDIT_KEY": "y" * 50,
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "simulated time is refused in production" in result.stderr
