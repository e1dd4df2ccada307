"""A photo sent through the API as base64 in JSON: up to the photo service's limit it is taken;
above it, refused with a plain 422 or 413, never a server error (DATA_UPLOAD_MAX_MEMORY_SIZE)."""

from __future__ import annotations

import base64
import json

import pytest
from django.conf import settings as django_settings

from ekort.api.schemas import MAX_PHOTO_BASE64
from ekort.services import clock, tokens
from ekort.services.cards.production import MAX_PHOTO_BYTES
from tests import instants as t
from tests.integration import journeys

pytestmark = pytest.mark.django_db

JPEG_START = b"\xff\xd8\xff\xe0"


def body_of(photo: bytes) -> str:
    return json.dumps({"photo_base64": base64.b64encode(photo).decode()})


@pytest.fixture
def post_photo(client, world, settings):
    settings.EKORT_SIMULATED_NOW = t.NEW_PROCESS.isoformat()
    clock.reset()
    card = journeys.ordered(world, "photo", t.NEW_PROCESS)
    token = tokens.issue_token(actor=world.id_admin, name="kamera", now=t.NEW_PROCESS)
    client.raise_request_exception = False

    def post(body: str):
        return client.post(
            f"/api/v1/cards/{card.pk}/photograph",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    yield post
    settings.EKORT_SIMULATED_NOW = ""
    clock.reset()


def test_the_upload_limit_fits_the_largest_photo_in_json():
    largest = body_of(JPEG_START + b"\x00" * (MAX_PHOTO_BYTES - len(JPEG_START)))
    assert len(largest) - len(body_of(b"")) == MAX_PHOTO_BASE64
    assert len(largest.encode()) <= django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # ...and not much more: the limit is there to refuse what no photo needs.
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE < MAX_PHOTO_BASE64 * 1.05


def test_a_photo_at_the_limit_is_taken(post_photo):
    photo = JPEG_START + b"\x00" * (MAX_PHOTO_BYTES - len(JPEG_START))
    response = post_photo(body_of(photo))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["state"] == "photographed"


def test_a_photo_one_byte_above_the_limit_is_refused_plainly(post_photo):
    photo = JPEG_START + b"\x00" * (MAX_PHOTO_BYTES + 1 - len(JPEG_START))
    response = post_photo(body_of(photo))
    assert response.status_code == 422
    assert "larger than 5 MB" in response.json()["detail"]


def test_a_body_above_the_upload_limit_is_413_not_a_server_error(post_photo):
    photo = JPEG_START + b"\x00" * (MAX_PHOTO_BYTES * 2)
    response = post_photo(body_of(photo))
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
