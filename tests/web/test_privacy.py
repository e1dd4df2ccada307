"""No page carries a full identity number: not in the HTML, not in a URL."""

from __future__ import annotations

import pytest

from ekort.store.models import Person

pytestmark = pytest.mark.django_db

PAGES = (
    "/",
    "/rules/",
    "/mina-sidor/",
    "/mina-sidor/fragor-och-svar/",
    "/kortkontor/",
    "/medarbetare/",
    "/logga-in/",
)


def test_no_page_shows_a_full_identity_number(w, eriks_cards, colleagues_card, client):
    numbers = list(Person.objects.values_list("identity_number", flat=True))
    assert len(numbers) >= 3 and all(len(n) == 12 for n in numbers)
    pages = {}
    for user in (None, w.holder, w.orderer):
        if user is not None:
            client.force_login(user)
        for url in PAGES:
            pages[(user, url)] = client.get(url).content.decode()
        pages[(user, "block")] = client.get(
            f"/medarbetare/kort/{eriks_cards.photo.pk}/sparra/"
        ).content.decode()
        pages[(user, "refusal")] = client.post(
            f"/mina-sidor/kort/{eriks_cards.reserve.pk}/pinbrev/"
        ).content.decode()
    for where, page in pages.items():
        for number in numbers:
            assert number not in page, where
            assert f"{number[:8]}-{number[8:]}" not in page, where
            assert f"{number[2:8]}-{number[8:]}" not in page, where


def test_portal_routes_name_cards_and_persons_by_id_only():
    import re

    from ekort.web.urls import urlpatterns

    for pattern in urlpatterns:
        for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", str(pattern.pattern)):
            allowed = {
                ("int", "card_id"),
                ("int", "person_id"),
                ("int", "letter_id"),
                ("int", "certificate_id"),
                # A staff account's own number (the security officer's page for its roles):
                # no identity number, no card number.
                ("int", "user_id"),
                ("int", "token_id"),  # an API key's own number
            }
            assert (converter, name) in allowed, pattern
