import pytest

from tests import factories


@pytest.fixture(autouse=True)
def pki_directories(settings, tmp_path_factory):
    """Keys and virtual cards of each test in folders of their own, and fresh backends."""
    from ekort.services.ca import backends

    base = tmp_path_factory.mktemp("pki")
    settings.EKORT_KEY_DIR = base / "keys"
    settings.EKORT_VIRTUAL_CARD_DIR = base / "cards"
    backends.reset()
    yield base
    backends.reset()


@pytest.fixture
def pki(db):
    """The CA hierarchy (root, LoA3 and LoA2 issuing CAs, OCSP signers) as of 2015, so that
    every named instant in the tests lies inside its validity."""
    from ekort.services.ca.authority import init_hierarchy
    from tests.instants import sthlm

    return init_hierarchy(now=sthlm(2015, 1, 1))


@pytest.fixture
def world(db, pki):
    return factories.world()
