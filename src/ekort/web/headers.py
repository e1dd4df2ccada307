"""Security headers on every response (Django's SecurityMiddleware sends Referrer-Policy,
X-Content-Type-Options and Cross-Origin-Opener-Policy; X-Frame-Options comes from its own
middleware):

- Content-Security-Policy on every HTML page: only this origin's resources, no inline script
  at all, and inline `<style>` only with the response's nonce (`request.csp_nonce`, written
  into the template as `nonce="{{ request.csp_nonce }}"`); images also as data: URLs, for the
  card photo preview;
- Permissions-Policy: none of the browser's powerful features, which no page uses;
- Cache-Control: no-store on everything a signed-in account is shown and on every API
  response, so that no browser or proxy keeps a copy of a person's data.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'nonce-{nonce}'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
API_PREFIX = "/api/"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(nonce=nonce)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if request.path.startswith(API_PREFIX) or getattr(user, "is_authenticated", False):
            add_never_cache_headers(response)
        return response
