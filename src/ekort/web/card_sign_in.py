"""Signing in with the card through the TLS-terminating proxy (E16; docs/operations.md,
"Signing in with the card").

nginx asks the browser for a client certificate, verifies it against ekort's CA chain and
passes it on in two request headers: `X-SSL-Client-Cert` (the PEM, URL-escaped:
`$ssl_client_escaped_cert`) and `X-SSL-Client-Verify` (`SUCCESS`, `FAILED:<why>` or `NONE`:
`$ssl_client_verify`). Anyone can send such headers, so they are believed only on a request
that comes from an address in EKORT_CLIENT_CERT_PROXIES (the proxy's, as this server sees it)
and are otherwise ignored as if absent; empty (the default) turns card sign-in off. The proxy
sets both headers on every request, so what a browser sends in them never reaches the portal.

- `CardSignInView` (`/logga-in/kort/`) signs in with the presented certificate, as
  `services.card_sign_in` decides, or shows why not with HTTP 403.
- `CardSessionMiddleware` checks every request of a session signed in with the card: the same
  certificate, still passing E16 (a card blocked meanwhile ends the session at its next
  request), and it limits the account's roles to those the certificate's assurance level gives
  (an assurance level 2 card opens a holder's pages, not an ID administrator's).
- `CardCertificateBackend` is the authentication backend such sessions are signed in with.
- `PasswordBackend` is Django's password sign-in, which in production
  (EKORT_STAFF_PASSWORD_SIGN_IN off) admits only accounts that hold no staff role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from ekort.domain.vocabulary import Role
from ekort.services import card_sign_in, clock
from ekort.services.roles import limit_roles, roles_of

from .signin import client_address, start_page_for

BACKEND = "ekort.web.card_sign_in.CardCertificateBackend"
CERT_HEADER = "HTTP_X_SSL_CLIENT_CERT"
VERIFY_HEADER = "HTTP_X_SSL_CLIENT_VERIFY"
# Kept in the session of a card sign-in: the certificate's SHA-256 and its assurance level.
FINGERPRINT = "ekort_card_fingerprint"
LEVEL = "ekort_card_level"


def from_proxy(request: HttpRequest) -> bool:
    """The request came from the proxy trusted with client certificates."""
    address = request.META.get("REMOTE_ADDR", "")
    return bool(address) and address in settings.EKORT_CLIENT_CERT_PROXIES


def presented(request: HttpRequest) -> tuple[str | None, str]:
    """The certificate the proxy passed on (PEM) and what its verification said; nothing on a
    request from anywhere else, whatever its headers say."""
    if not from_proxy(request):
        return None, "NONE"
    escaped = request.META.get(CERT_HEADER, "").strip()
    verify = request.META.get(VERIFY_HEADER, "NONE").strip()[:200]
    if not escaped or len(escaped) > 3 * card_sign_in.MAX_PEM_CHARACTERS:
        return None, verify
    return unquote(escaped), verify


def _refused(request: HttpRequest, result: card_sign_in.CardSignIn) -> HttpResponse:
    return render(
        request,
        "ekort/portal/card_refused.html",
        {"problem": result.decision, "password_offered": settings.EKORT_STAFF_PASSWORD_SIGN_IN},
        status=403,
    )


class CardSignInView(View):
    """GET `/logga-in/kort/`: sign in with the certificate the browser presented to the proxy
    (no form: the browser has chosen the card's certificate when the TLS connection was made).
    Refused, a page says why, in the page's language, with HTTP 403."""

    def get(self, request: HttpRequest) -> HttpResponse:
        pem, verify = presented(request)
        result = card_sign_in.sign_in(
            pem, verify, now=clock.now(), address=client_address(request) or ""
        )
        if not result.allowed or result.user is None or result.level is None:
            return _refused(request, result)
        user = result.user
        limit_roles(user, result.roles)
        login(request, user, backend=BACKEND)
        request.session[FINGERPRINT] = result.fingerprint
        request.session[LEVEL] = result.level.value
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = start_page_for(user)
        return redirect(target)


class CardSessionMiddleware:
    """Every request of a session signed in with the card: the same certificate, still passing
    E16, else the session ends and the page says why (403); the account's roles limited to
    those of the certificate's assurance level. Other sessions pass untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and FINGERPRINT in request.session:
            pem, verify = presented(request)
            result = card_sign_in.recheck(
                pem,
                verify,
                user=user,
                fingerprint=str(request.session[FINGERPRINT]),
                now=clock.now(),
                address=client_address(request) or "",
            )
            if not result.allowed:
                logout(request)
                return _refused(request, result)
            limit_roles(user, result.roles)
        return self.get_response(request)


class CardCertificateBackend(BaseBackend):
    """The backend of sessions signed in with the card (`CardSignInView` signs them in with
    `login(..., backend=BACKEND)`). It authenticates nothing by itself: no username or
    password gets past it."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None

    def get_user(self, user_id: Any) -> User | None:
        user = User.objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None


def password_allowed(user: Any) -> bool:
    """May `user` sign in with a password? In development, yes; in production
    (EKORT_STAFF_PASSWORD_SIGN_IN off) only an account that holds no staff role and is not
    Django staff: the staff sign in with the card."""
    if settings.EKORT_STAFF_PASSWORD_SIGN_IN:
        return True
    if user.is_staff or user.is_superuser:
        return False
    return roles_of(user) <= {Role.HOLDER}


class PasswordBackend(ModelBackend):
    """Django's username and password, for the accounts `password_allowed` lets use them;
    for any other the right password fails as a wrong one does (nothing tells an attacker
    that it was right)."""

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and password_allowed(user)
