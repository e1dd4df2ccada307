"""The portal through Django's test client, at a simulated instant after the transition."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from axes.utils import reset as reset_axes

from ekort.services import clock
from ekort.store.models import Card
from tests import factories
from tests import instants as t
from tests.integration import journeys

PASSWORD = "Kortkontoret-2024!"
# A Tuesday in the new process (R6-R9): ordering is open, offices keep their usual hours.
PORTAL_NOW = "2024-02-06T10:00+01:00"
DURING_STOP = "2024-01-24T10:00+01:00"  # R4: the ordering and issuing stop


def simulate(settings, instant: str) -> None:
    settings.EKORT_SIMULATED_NOW = instant
    clock.reset()


@pytest.fixture(autouse=True)
def portal_clock(settings):
    simulate(settings, PORTAL_NOW)
    yield
    settings.EKORT_SIMULATED_NOW = ""
    clock.reset()


@pytest.fixture
def stop(settings):
    """The clock in the R4 stop, 2024-01-24."""
    simulate(settings, DURING_STOP)


@pytest.fixture
def w(world, db):
    """The world, with passwords and a clean slate of failed sign-ins."""
    reset_axes()
    for user in (world.holder, world.orderer, world.id_admin, world.support, world.issuer):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    yield world
    reset_axes()


@dataclass
class EriksCards:
    photo: Card
    reserve: Card


@pytest.fixture
def eriks_cards(w) -> EriksCards:
    """Erik holds an active new-generation photo card and an active reserve card."""
    photo = journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    reserve = journeys.activated(w, "reserve", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 11))
    return EriksCards(photo=photo, reserve=reserve)


@pytest.fixture
def colleagues_card(w) -> Card:
    """Karin, Erik's colleague under the same manager, holds an active photo card."""
    karin = factories.person(given="Karin", family="Kollega", manager=w.manager, unit=w.unit)
    return journeys.activated(w, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 12), person=karin)


@pytest.fixture
def stranger(db):
    """A signed-in account with no ekort role at all."""
    return factories.staff("besokare")
