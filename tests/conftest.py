import pytest

from tests import factories


@pytest.fixture
def world(db):
    return factories.world()
