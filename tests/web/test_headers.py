"""The security headers: a strict Content-Security-Policy, Permissions-Policy and Referrer-Policy
on every page, and `Cache-Control: no-store` on every signed-in page and every API response."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from ekort.services import clock, tokens
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "ekort" / "web" / "templates"
PUBLIC_PAGES = ["/", "/rules/", "/logga-in/", "/finns-inte/"]
STAFF_PAGES = {
    "erik": ["/mina-sidor/", "/mina-sidor/fragor-och-svar/", "/kortkontor/"],
    "chef": ["/medarbetare/"],
    "idadmin": ["/kortkontor/arbete/"],
    "support": ["/stod/", "/stod/oversikt/"],
    "utgivare": ["/utfardare/utskriftsko/", "/utfardare/utfardare-och-sparrlistor/"],
}


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    parts = [part.strip().split(None, 1) for part in policy.split(";") if part.strip()]
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_strict_policy(response, url: str) -> None:
    found = directives(response)
    assert found["default-src"] == "'self'", url
    assert found["object-src"] == "'none'", url
    assert found["base-uri"] == "'none'", url
    assert found["frame-ancestors"] == "'none'", url
    assert found["form-action"] == "'self'", url
    assert found["img-src"] == "'self' data:", url  # the card photo preview is a data: URL
    # Inline styles only with this response's nonce; inline scripts never.
    nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{22,})'", found["style-src"])
    assert nonce, (url, found["style-src"])
    assert "unsafe" not in response["Content-Security-Policy"], url
    assert "script-src" not in found, url  # default-src 'self' governs scripts
    body = response.content.decode()
    for tag in re.findall(r"<style[^>]*>", body):
        assert f'nonce="{nonce.group(1)}"' in tag, (url, tag)
    # Scripts only as files of this origin (the print queue's select-all.js), never inline.
    for attributes, content in re.findall(r"<script\b([^>]*)>(.*?)</script>", body, re.S):
        assert re.search(r'\ssrc="/static/[^"]+\.js"', attributes), (url, attributes)
        assert not content.strip(), url
    assert body.count("<script") == len(re.findall(r"<script\b[^>]*>\s*</script>", body)), url


def assert_every_page_headers(response, url: str) -> None:
    assert response["Referrer-Policy"] == "same-origin", url
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions, (url, permissions)


def assert_not_stored(response, url: str) -> None:
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control, (url, cache_control)


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_every_public_page_has_the_policies(client, url):
    response = client.get(url)
    assert response["Content-Type"].startswith("text/html"), url
    assert_strict_policy(response, url)
    assert_every_page_headers(response, url)


def test_a_response_that_is_no_page_has_the_other_policies(client):
    response = client.get("/health/")
    assert response["Content-Type"] == "application/json"
    assert_every_page_headers(response, "/health/")


def test_each_response_has_a_nonce_of_its_own(client):
    first, second = (directives(client.get("/"))["style-src"] for _ in range(2))
    assert first != second


def test_every_signed_in_page_has_the_policies_and_is_not_stored(w, client):
    for username, urls in STAFF_PAGES.items():
        assert client.post("/logga-in/", {"username": username, "password": PASSWORD}).status_code
        for url in [*urls, "/", "/rules/"]:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_strict_policy(response, url)
            assert_every_page_headers(response, url)
            assert_not_stored(response, url)
        forbidden = client.get("/utfardare/utskriftsko/" if username != "utgivare" else "/stod/x")
        assert_not_stored(forbidden, "refused page")
        client.post("/logga-ut/")


def test_the_lockout_page_has_the_policy(w, client):
    for attempt in range(5):
        response = client.post("/logga-in/", {"username": "erik", "password": f"fel-{attempt}"})
    assert response.status_code == 429
    assert_strict_policy(response, "lockout")


def test_every_api_response_is_not_stored(w, client):
    token = tokens.issue_token(actor=w.support, name="headers", now=clock.now())
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for url, headers, status in [
        ("/api/v1/openapi.json", {}, 200),
        (f"/api/v1/persons/{w.employee.pk}", {}, 401),
        (f"/api/v1/persons/{w.employee.pk}", bearer, 200),
        ("/api/v1/persons/999999", bearer, 404),
    ]:
        response = client.get(url, **headers)
        assert response.status_code == status, (url, response.content[:200])
        assert_not_stored(response, url)
        assert_every_page_headers(response, url)


STATIC_SCRIPT = re.compile(r"""<script src="\{% static '[^']+\.js' %\}" defer></script>""")


def test_no_template_has_an_inline_script_or_an_unnonced_style():
    """The policy allows no inline script at all (a script is a static file of this origin), and
    an inline style only with the nonce."""
    problems = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        name = template.relative_to(TEMPLATES)
        for script in re.findall(r"<script\b[^>]*>.*?</script>|<script\b[^>]*>", text, re.S):
            # A file of this origin, empty between its tags: the policy's default-src 'self'.
            if not STATIC_SCRIPT.fullmatch(script):
                problems.append(f"{name}: <script> that is not a static file of this origin")
        if re.search(r"\son[a-z]+\s*=", text):
            problems.append(f"{name}: an inline event handler")
        if re.search(r"\sstyle\s*=", text):
            problems.append(f"{name}: a style attribute")
        for tag in re.findall(r"<style[^>]*>", text):
            if 'nonce="{{ request.csp_nonce }}"' not in tag:
                problems.append(f"{name}: {tag} without the nonce")
    assert not problems, problems


def test_referrer_policy_is_set_explicitly():
    assert django_settings.SECURE_REFERRER_POLICY == "same-origin"
