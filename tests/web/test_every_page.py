"""Every URL of the project, for every role: allowed or denied, as declared.

Generated: the pages are walked from the URL resolver, the API operations from the OpenAPI
document. A URL or an operation with no row in the tables below fails the test, naming it, so
that a page added later cannot slip in without a decision about who may see it.

Pages (GET): public pages are 200 for everyone; a role page sends the anonymous visitor to the
sign-in page (302), refuses a signed-in account without one of the view's declared `roles`
(403) and shows the page (200) to the others; a page that only takes POST answers 405 once the
role gate is passed, and is also POSTed (empty form) by the refused roles only, which change
nothing. API (bearer tokens): anonymous is 401 on every protected operation (GET and POST);
reads are GET with the rules of `ekort.services.visibility`: staff see everyone, an orderer the
persons they manage and their cards, a holder themselves; anything else that exists is 403
(E10), an unknown id 404.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern

from ekort.domain.vocabulary import Role
from ekort.services import clock, tokens
from tests.web import page_walk
from tests.web.page_walk import (
    HELD,
    ROLES,
    every_route,
    expand,
    fill,
)

objects = page_walk.objects  # the world, a fixture

SIGN_IN = "/logga-in/"
API = "/api/v1"

# --- The expected table of pages -------------------------------------------------------------
# PUBLIC: 200 for everyone. A set of roles: the view's declared `roles` (checked against the
# view, so the table and the code cannot drift apart). Other strings: special cases.
PUBLIC = "public"
SIGN_IN_PAGE = "sign-in"  # anonymous 200; a signed-in account is sent on to its start page
POST_ONLY_PUBLIC = "post-only"  # GET is 405 for everyone (Django's LogoutView)
REDIRECT = "redirect"  # GET is 302 for everyone (Django's set_language, which acts on POST)
# Sign-in with the card (E16): 403 for everyone here, since no request of the test client
# comes from the proxy trusted with client certificates (tests/web/test_card_sign_in.py).
CARD_SIGN_IN = "card sign-in"

PAGES: dict[str, object] = {
    "home": PUBLIC,
    "rules": PUBLIC,
    "set-language": REDIRECT,
    "pki-crl": PUBLIC,
    "pki-ca-der": PUBLIC,
    "pki-ca-pem": PUBLIC,
    "portal:sign-in": SIGN_IN_PAGE,
    "portal:sign-out": POST_ONLY_PUBLIC,
    "portal:card-sign-in": CARD_SIGN_IN,
    "portal:mine": frozenset({Role.HOLDER}),
    "portal:pin": frozenset({Role.HOLDER}),
    "portal:block-mine": frozenset({Role.HOLDER}),
    "portal:certificates-signature": frozenset({Role.HOLDER}),
    "portal:certificates-additional": frozenset({Role.HOLDER}),
    "portal:certificates-remove-additional": frozenset({Role.HOLDER}),
    "portal:certificates-pem": frozenset({Role.HOLDER}),
    "portal:certificates-der": frozenset({Role.HOLDER}),
    "portal:questions": frozenset({Role.HOLDER}),
    "portal:offices": PUBLIC,
    "portal:accessibility": PUBLIC,
    "portal:office-find": frozenset({Role.ID_ADMIN}),
    "portal:office-card": frozenset({Role.ID_ADMIN}),
    "portal:office-photograph": frozenset({Role.ID_ADMIN}),
    "portal:office-photo": frozenset({Role.ID_ADMIN}),
    "portal:office-hand-out": frozenset({Role.ID_ADMIN}),
    "portal:office-approve-hand-out": frozenset({Role.ID_ADMIN}),
    "portal:office-withdraw-hand-out": frozenset({Role.ID_ADMIN}),
    "portal:office-activate": frozenset({Role.ID_ADMIN}),
    "portal:office-approve-activation": frozenset({Role.ID_ADMIN}),
    "portal:office-unlock": frozenset({Role.ID_ADMIN}),
    "portal:office-block": frozenset({Role.ID_ADMIN}),
    "portal:staff": frozenset({Role.ORDERER}),
    "portal:staff-person": frozenset({Role.ORDERER}),
    "portal:order": frozenset({Role.ORDERER}),
    "portal:order-file": frozenset({Role.ORDERER}),
    "portal:replace": frozenset({Role.ORDERER}),
    "portal:block-staff": frozenset({Role.ORDERER}),
    "portal:renewals": frozenset({Role.ORDERER, Role.ID_ADMIN, Role.SUPPORT}),
    "portal:renewals-csv": frozenset({Role.ORDERER, Role.ID_ADMIN, Role.SUPPORT}),
    "portal:support-find": frozenset({Role.SUPPORT, Role.ISSUER_ADMIN}),
    "portal:support-overview": frozenset({Role.SUPPORT, Role.ISSUER_ADMIN}),
    "portal:support-person": frozenset({Role.SUPPORT, Role.ISSUER_ADMIN}),
    "portal:support-card": frozenset({Role.SUPPORT, Role.ISSUER_ADMIN}),
    "portal:support-block": frozenset({Role.SUPPORT, Role.ISSUER_ADMIN}),
    "portal:support-resend": frozenset({Role.SUPPORT, Role.ISSUER_ADMIN}),
    "portal:support-approve-letter": frozenset({Role.SUPPORT, Role.ISSUER_ADMIN}),
    "portal:issuer-queue": frozenset({Role.ISSUER_ADMIN}),
    "portal:issuer-letter-pdf": frozenset({Role.ISSUER_ADMIN}),
    "portal:issuer-authorities": frozenset({Role.ISSUER_ADMIN}),
    "portal:security-accounts": frozenset({Role.SECURITY_OFFICER}),
    "portal:security-account": frozenset({Role.SECURITY_OFFICER}),
    "portal:security-audit": frozenset({Role.SECURITY_OFFICER}),
    "portal:issuer-tokens": frozenset({Role.ISSUER_ADMIN}),
    "portal:issuer-token-revoke": frozenset({Role.ISSUER_ADMIN}),
}

API_PREFIX = "api/v1/"
# The API's own URLs that are no operation: walked as pages, the same for everyone (no token).
API_PAGES = {
    "api-v1:openapi-json": 200,  # the OpenAPI document is public
    "api-v1:api-root": 404,  # ninja's home page, which only points to the docs: turned off
}

# --- The expected table of API operations ----------------------------------------------------
# GET: who reads what. "public": 200 for everyone, no token needed. A set of roles: 200 for
# them, 403 (E10) for the other roles. "scoped": the rules of `ekort.services.visibility`, walked
# for three targets (see SCOPED). POST: only the anonymous 401 is asserted.
STAFF = frozenset({Role.ID_ADMIN, Role.SUPPORT, Role.ISSUER_ADMIN})
SCOPED = "scoped"
POST = "post"
OPERATIONS: dict[str, object] = {
    "GET /api/v1/rules": "public",
    "GET /api/v1/letters": frozenset({Role.ISSUER_ADMIN}),
    "GET /api/v1/letters/{letter_id}/pdf": frozenset({Role.ISSUER_ADMIN}),
    "POST /api/v1/letters/mark-printed": POST,
    "GET /api/v1/cards/{card_id}/certificates": SCOPED,
    "POST /api/v1/cards/{card_id}/signature-certificate": POST,
    "POST /api/v1/cards/{card_id}/additional-certificate": POST,
    "POST /api/v1/cards/{card_id}/additional-certificate/swap": POST,
    "POST /api/v1/cards/{card_id}/additional-certificate/remove": POST,
    "GET /api/v1/blocks": STAFF,  # the latest blocks; with ?card_id= scoped, walked as well
    "GET /api/v1/persons/{person_id}": SCOPED,
    "GET /api/v1/persons/{person_id}/cards": SCOPED,
    "GET /api/v1/cards/{card_id}": SCOPED,
    "POST /api/v1/persons/search": POST,
    "POST /api/v1/persons": POST,
    "POST /api/v1/orders": POST,
    "POST /api/v1/cards/{card_id}/cancel": POST,
    "POST /api/v1/cards/{card_id}/replace": POST,
    "GET /api/v1/renewals": frozenset({Role.ORDERER, Role.ID_ADMIN, Role.SUPPORT}),
    "POST /api/v1/cards/{card_id}/photograph": POST,
    "POST /api/v1/cards/{card_id}/produce": POST,
    "POST /api/v1/cards/{card_id}/send": POST,
    "POST /api/v1/cards/{card_id}/hand-out": POST,
    "POST /api/v1/cards/{card_id}/approve-hand-out": POST,
    "POST /api/v1/cards/{card_id}/withdraw-hand-out": POST,
    "POST /api/v1/cards/{card_id}/activate": POST,
    "POST /api/v1/cards/{card_id}/approve-activation": POST,
    "POST /api/v1/cards/{card_id}/block": POST,
    "POST /api/v1/cards/{card_id}/pin-letter": POST,
    "POST /api/v1/cards/{card_id}/unlock-pin": POST,
}
# Scoped reads, per target: Erik (the holder, managed by the orderer), Olle (nobody's here:
# neither the holder nor managed by the orderer) and an id that does not exist.
SCOPED_EXPECTED = {
    # The security officer sees no person or card: the roles and the audit trail only.
    "erik": {
        "holder": 200,
        "orderer": 200,
        "id_admin": 200,
        "support": 200,
        "issuer_admin": 200,
        "security_officer": 403,
    },
    "olle": {
        "holder": 403,
        "orderer": 403,
        "id_admin": 200,
        "support": 200,
        "issuer_admin": 200,
        "security_officer": 403,
    },
    "missing": {r: 404 for r in ROLES if r != "anonymous"},
}
MISSING_ID = 987654


def declared_roles(pattern: URLPattern) -> frozenset[Role] | None:
    view = getattr(pattern.callback, "view_class", None)
    roles = getattr(view, "roles", None)
    return None if roles is None else frozenset(roles)


def only_posts(pattern: URLPattern) -> bool:
    view = getattr(pattern.callback, "view_class", None)
    return view is not None and not hasattr(view, "get") and hasattr(view, "post")


def as_openapi(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).rstrip("/")


# --- Pages -----------------------------------------------------------------------------------


def test_every_url_has_an_expectation():
    """Each page has a row in PAGES, matching its view's declared roles; each API URL is an
    operation of the OpenAPI document (or the document itself)."""
    lacking, drifted = [], []
    for r in every_route():
        if r.route.startswith(API_PREFIX):
            continue
        if r.name not in PAGES:
            lacking.append(f"/{r.route} ({r.name or 'no name'})")
            continue
        expected, declared = PAGES[r.name], declared_roles(r.pattern)
        if isinstance(expected, frozenset) and expected != declared:
            drifted.append(f"/{r.route}: table {sorted(expected)}, view {sorted(declared or [])}")
        if not isinstance(expected, frozenset) and declared is not None:
            drifted.append(f"/{r.route}: table says {expected}, the view declares roles")
    assert not lacking, f"These URLs lack an expectation in PAGES: {lacking}"
    assert not drifted, f"The table and the views' declared roles differ: {drifted}"


def test_every_api_url_is_in_the_openapi_document(client):
    document = client.get(f"{API}/openapi.json").json()
    documented = {path.rstrip("/") for path in document["paths"]}
    undocumented = [
        f"/{r.route}"
        for r in every_route()
        if r.route.startswith(API_PREFIX)
        and r.name not in API_PAGES
        and as_openapi(r.route) not in documented
    ]
    assert not undocumented, f"API URLs missing from the OpenAPI document: {undocumented}"


@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role(client, objects, role):
    user = objects.accounts[role]
    if user is not None:
        client.force_login(user)
    held = HELD[role]
    seen, wrong = 0, []
    for r in every_route():
        if r.name in API_PAGES:
            got = client.get(f"/{r.route}").status_code
            if got != API_PAGES[r.name]:
                wrong.append(f"GET /{r.route}: expected {API_PAGES[r.name]}, got {got}")
            continue
        if r.route.startswith(API_PREFIX):
            continue
        assert r.name in PAGES, f"URL /{r.route} ({r.name}) lacks an expectation in PAGES"
        url = expand(r.route, fill(objects, role, r.name, r.route))
        expected = PAGES[r.name]
        response = client.get(url)
        seen += 1
        if expected == PUBLIC:
            want, to = 200, None
        elif expected == SIGN_IN_PAGE:
            want, to = (200, None) if user is None else (302, "")
        elif expected == POST_ONLY_PUBLIC:
            want, to = 405, None
        elif expected == REDIRECT:
            want, to = 302, "/"
        elif expected == CARD_SIGN_IN:
            want, to = 403, None
        elif user is None:
            want, to = 302, SIGN_IN
        elif held & expected:  # type: ignore[operator]
            want, to = (405 if only_posts(r.pattern) else 200), None
        else:
            want, to = 403, None
        got = response.status_code
        if got != want or (to and not response["Location"].startswith(to)):
            wrong.append(f"GET {url}: expected {want}{' → ' + to if to else ''}, got {got}")
        # A refused POST changes nothing: the gate stands before the form.
        if isinstance(expected, frozenset) and not held & expected and only_posts(r.pattern):
            got = client.post(url, {}).status_code
            if got != want:
                wrong.append(f"POST {url}: expected {want}, got {got}")
    assert seen >= len(PAGES)
    assert not wrong, f"{role}: " + "; ".join(wrong)


# --- API -------------------------------------------------------------------------------------


def _operations(client) -> list[tuple[str, str]]:
    document = client.get(f"{API}/openapi.json").json()
    return [
        (method.upper(), path)
        for path, methods in document["paths"].items()
        for method in methods
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_the_openapi_document_is_public(client):
    assert client.get(f"{API}/openapi.json").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_every_api_operation_for_every_role(client, objects, role):
    user = objects.accounts[role]
    headers = {}
    if user is not None:
        token = tokens.issue_token(actor=user, name="every page", now=clock.now())
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    held = HELD[role]
    eriks_letter = objects.eriks_card.letters.get(kind="cover_letter").pk
    olles_letter = objects.olles_card.letters.get(kind="cover_letter").pk
    targets = {
        "erik": {"person_id": objects.erik.pk, "card_id": objects.eriks_card.pk},
        "olle": {"person_id": objects.olle.pk, "card_id": objects.olles_card.pk},
        "missing": {"person_id": MISSING_ID, "card_id": MISSING_ID},
    }
    for target, letter in (("erik", eriks_letter), ("olle", olles_letter), ("missing", MISSING_ID)):
        targets[target]["letter_id"] = letter
    wrong: list[str] = []

    def check(method: str, url: str, want: int) -> None:
        if method == "GET":
            response = client.get(url, **headers)
        else:
            response = client.post(url, "{}", content_type="application/json", **headers)
        if response.status_code != want:
            wrong.append(f"{method} {url}: expected {want}, got {response.status_code}")

    operations = _operations(client)
    lacking = [f"{m} {p}" for m, p in operations if f"{m} {p}" not in OPERATIONS]
    assert not lacking, f"These API operations lack an expectation in OPERATIONS: {lacking}"
    for method, path in operations:
        expected = OPERATIONS[f"{method} {path}"]
        if expected == POST:
            if user is None:  # an authenticated POST would act: only the 401 is walked
                check(method, expand_api(path, targets["erik"]), 401)
            continue
        if expected == "public":
            check(method, path, 200)
        elif user is None:
            check(method, expand_api(path, targets["erik"]), 401)
        elif expected == SCOPED:
            for target, statuses in SCOPED_EXPECTED.items():
                check(method, expand_api(path, targets[target]), statuses[role])
        else:
            want = 200 if held & expected else 403  # type: ignore[operator]
            check(method, expand_api(path, targets["erik"]), want)
    # The block of one card, by ?card_id=: scoped like the card itself.
    if user is None:
        check("GET", f"{API}/blocks?card_id={objects.eriks_card.pk}", 401)
    else:
        for target, statuses in SCOPED_EXPECTED.items():
            check("GET", f"{API}/blocks?card_id={targets[target]['card_id']}", statuses[role])
    assert not wrong, f"{role}: " + "; ".join(wrong)


def expand_api(path: str, values: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def test_the_security_officer_changes_nothing_over_the_api(client, objects):
    """Every operation that acts, POSTed by a security officer: refused (or not even read),
    and the audit trail is as it was."""
    from ekort.store.models import AuditEntry

    officer = objects.accounts["security_officer"]
    token = tokens.issue_token(actor=officer, name="every page", now=clock.now())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    targets = {"person_id": objects.erik.pk, "card_id": objects.eriks_card.pk, "letter_id": 1}
    before = AuditEntry.objects.count()
    wrong = []
    for method, path in _operations(client):
        if method != "POST":
            continue
        url = expand_api(path, targets)
        got = client.post(url, "{}", content_type="application/json", **headers).status_code
        if got not in (403, 404, 422):
            wrong.append(f"POST {url}: {got}")
    assert not wrong, wrong
    assert AuditEntry.objects.count() == before
