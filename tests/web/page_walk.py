"""The pages of the portal as every role walks them: every URL of the resolver, with its ids
filled in from a small world in which each role has something to look at.

Shared by the role x page matrix (test_every_page.py) and the words check (test_page_words.py),
so that a page added once is walked by both.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from ekort.domain.vocabulary import Role
from ekort.services import clock, tokens
from ekort.services.ca.authority import slug
from ekort.services.ca.status import build_crl
from ekort.services.roles import roles_of
from ekort.store.models import ApiToken
from tests import factories
from tests import instants as t
from tests.integration import journeys

ROLES = (
    "anonymous",
    "holder",
    "orderer",
    "id_admin",
    "support",
    "issuer_admin",
    "security_officer",
)
# The roles each account of the world holds (the orderer is also a holder of her own cards).
HELD = {
    "anonymous": frozenset(),
    "holder": frozenset({Role.HOLDER}),
    "orderer": frozenset({Role.ORDERER, Role.HOLDER}),
    "id_admin": frozenset({Role.ID_ADMIN}),
    "support": frozenset({Role.SUPPORT}),
    "issuer_admin": frozenset({Role.ISSUER_ADMIN}),
    "security_officer": frozenset({Role.SECURITY_OFFICER}),
}
# How the arguments of each page with arguments are filled, per signed-in account: a holder's
# page gets the account's own card, an orderer's page a card or person she manages, an ID
# administrator's page (Kortkontor) any card.
OWN_CARD, REPORTS_CARD, REPORT, PUBLISHED_CA = "own card", "report's card", "report", "CA slug"
ANY_CARD = "any card"
PHOTOGRAPHED_CARD = "a card whose photo the ID administrator took"  # kept for the bureau
ANY_PERSON, ANY_LETTER = "any person", "any letter"  # Kundtjänst: anyone's
ANY_TOKEN = "any token"  # Utfärdare: an API token of the support account's
ANY_ACCOUNT = "any account"  # Säkerhet: the holder's account
OWN_CERTIFICATE = "own certificate"  # the SITHS eID on the own card (R11)
ARGUMENTS: dict[str, dict[str, str]] = {
    "portal:pin": {"card_id": OWN_CARD},
    "portal:block-mine": {"card_id": OWN_CARD},
    "portal:certificates-signature": {"card_id": OWN_CARD},
    "portal:certificates-additional": {"card_id": OWN_CARD},
    "portal:certificates-remove-additional": {"card_id": OWN_CARD},
    "portal:certificates-pem": {"card_id": OWN_CARD, "certificate_id": OWN_CERTIFICATE},
    "portal:certificates-der": {"card_id": OWN_CARD, "certificate_id": OWN_CERTIFICATE},
    "portal:order": {"person_id": REPORT},
    "portal:staff-person": {"person_id": REPORT},
    "portal:replace": {"card_id": REPORTS_CARD},
    "portal:block-staff": {"card_id": REPORTS_CARD},
    "portal:office-card": {"card_id": ANY_CARD},
    "portal:support-person": {"person_id": ANY_PERSON},
    "portal:support-card": {"card_id": ANY_CARD},
    "portal:support-block": {"card_id": ANY_CARD},
    "portal:support-resend": {"letter_id": ANY_LETTER},
    "portal:support-approve-letter": {"letter_id": ANY_LETTER},
    "portal:issuer-letter-pdf": {"letter_id": ANY_LETTER},
    "portal:issuer-token-revoke": {"token_id": ANY_TOKEN},
    "portal:security-account": {"user_id": ANY_ACCOUNT},
    "portal:office-photograph": {"card_id": ANY_CARD},
    "portal:office-photo": {"card_id": PHOTOGRAPHED_CARD},
    "portal:office-hand-out": {"card_id": ANY_CARD},
    "portal:office-approve-hand-out": {"card_id": ANY_CARD},
    "portal:office-withdraw-hand-out": {"card_id": ANY_CARD},
    "portal:office-activate": {"card_id": ANY_CARD},
    "portal:office-approve-activation": {"card_id": ANY_CARD},
    "portal:office-unlock": {"card_id": ANY_CARD},
    "portal:office-block": {"card_id": ANY_CARD},
    "pki-crl": {"name": PUBLISHED_CA},
    "pki-ca-der": {"name": PUBLISHED_CA},
    "pki-ca-pem": {"name": PUBLISHED_CA},
}
# Not walked as pages: the Django admin (its own staff login) and the static files.
SKIPPED_PREFIXES = ("admin/", "static/")

# --- Walking ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    route: str  # as written in the URLconfs, e.g. "mina-sidor/kort/<int:card_id>/pinbrev/"
    name: str  # "namespace:name"
    pattern: URLPattern


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith(SKIPPED_PREFIXES):
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, route, inner)
        elif not route.startswith(SKIPPED_PREFIXES):
            yield Route(route, f"{namespace}{entry.name}" if entry.name else "", entry)


def every_route() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


def arguments_of(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route)


# --- The world -------------------------------------------------------------------------------


@dataclasses.dataclass
class Objects:
    accounts: dict[str, Any]
    erik: Any
    olle: Any
    eriks_card: Any
    marias_card: Any
    olles_card: Any
    ca_slug: str
    photographed_card: Any


@pytest.fixture
def objects(w, pki) -> Objects:
    # Maria (the orderer) holds a card too, ordered by her own manager Bo.
    bo = factories.person(given="Bo", family="Direktör", birth="19600101", unit=w.unit)
    w.manager.manager = bo
    w.manager.save(update_fields=["manager"])
    bos_world = dataclasses.replace(w, orderer=factories.staff("bo", Role.ORDERER, person=bo))
    sent, active = t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10)
    marias_card = journeys.activated(bos_world, "reserve", sent, active, person=w.manager)
    eriks_card = journeys.activated(w, "reserve", sent, active)
    # Olle: under Bo, not Maria; nobody in the world's accounts but staff may see him.
    olle = factories.person(given="Olle", family="Annan", manager=bo, unit=w.unit)
    olles_card = journeys.activated(bos_world, "reserve", sent, active, person=olle)
    build_crl(pki.root, clock.now())
    accounts = {
        "anonymous": None,
        "holder": w.holder,
        "orderer": w.orderer,
        "id_admin": w.id_admin,
        "support": w.support,
        "issuer_admin": w.issuer,
        "security_officer": w.security_officer,
    }
    for role, user in accounts.items():
        if user is not None:
            assert roles_of(user) == HELD[role], role
    photographed = journeys.photographed(w, t.NEW_PROCESS, t.NEW_PROCESS)  # by w.id_admin
    return Objects(
        accounts,
        w.employee,
        olle,
        eriks_card,
        marias_card,
        olles_card,
        slug(pki.root),
        photographed,
    )


def fill(objects: Objects, role: str, name: str, route: str) -> dict[str, Any]:
    wanted = arguments_of(route)
    how = ARGUMENTS.get(name, {})
    missing = [a for a in wanted if a not in how]
    assert not missing, f"URL {route!r} ({name}) has arguments {missing} with no entry in ARGUMENTS"
    own = objects.marias_card if role == "orderer" else objects.eriks_card
    values = {
        OWN_CARD: own.pk,
        REPORTS_CARD: objects.eriks_card.pk,
        ANY_CARD: objects.olles_card.pk,
        PHOTOGRAPHED_CARD: objects.photographed_card.pk,
        REPORT: objects.erik.pk,
        ANY_PERSON: objects.olle.pk,
        ANY_LETTER: objects.olles_card.letters.get(kind="cover_letter").pk,  # R10
        ANY_TOKEN: a_token(objects),
        ANY_ACCOUNT: objects.accounts["holder"].pk,
        PUBLISHED_CA: objects.ca_slug,
        OWN_CERTIFICATE: own.certificates.get(profile="auth").pk,
    }
    return {a: values[how[a]] for a in wanted}


def a_token(objects: Objects) -> int:
    """The id of an API token of the support account, issued the first time it is asked for."""
    owner = objects.accounts["support"]
    found = ApiToken.objects.filter(user=owner, name="a token").first()
    if found is None:
        tokens.issue_token(actor=owner, name="a token", now=clock.now())
        found = ApiToken.objects.get(user=owner, name="a token")
    return int(found.pk)


def expand(route: str, kwargs: dict[str, Any]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)
