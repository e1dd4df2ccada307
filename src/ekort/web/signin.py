"""Signing in and out. Failed sign-ins are rate-limited by django-axes (settings: AXES_*):
an account is locked after AXES_FAILURE_LIMIT failures from any address, and an address is
stopped after EKORT_SIGN_IN_ADDRESS_LIMIT failures across any accounts, each for
AXES_COOLOFF_TIME."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db.models import Sum
from django.http import HttpRequest
from django.urls import reverse

from ekort.domain.vocabulary import Role

from .page_access import has_role


class SignInRateLimit(AxesStandaloneBackend):
    """Axes' lockout check for sign-ins through a web request. Without a request (the
    command line, scripts) there is no client to rate-limit, so it stands aside."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in came from. Behind the TLS-terminating proxy (EKORT_BEHIND_PROXY)
    every request comes from the proxy, which appends the client's address to
    X-Forwarded-For: the last entry is the one it saw; earlier ones are whatever the client
    sent, so they are never believed."""
    if settings.EKORT_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    address: str | None = request.META.get("REMOTE_ADDR")
    return address


def address_failures(address: str | None, *, now: datetime) -> int:
    """Failed sign-ins from `address`, across all accounts, within the cool-off before `now`.
    Axes keeps one row per account, address and browser, with its count and latest failure."""
    if not address:
        return 0
    recent = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gt=now - settings.AXES_COOLOFF_TIME
    )
    return int(recent.aggregate(failures=Sum("failures_since_start"))["failures"] or 0)


def _address_is_slowed(request: HttpRequest) -> bool:
    now = getattr(request, "axes_attempt_time", None)
    address = getattr(request, "axes_ip_address", None)
    if now is None:
        return False
    return address_failures(address, now=now) >= settings.EKORT_SIGN_IN_ADDRESS_LIMIT


class AccountAndAddressLockout(AxesDatabaseHandler):
    """Axes' database handler, counting per account (AXES_LOCKOUT_PARAMETERS = ["username"]),
    with a second, higher limit per address across accounts: someone trying a few passwords
    on each of many accounts from one address is stopped too. The limit is higher because
    many people share an office's address, and a forgotten password should not stop them."""

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        return super().is_locked(request, credentials) or _address_is_slowed(request)

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if _address_is_slowed(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=credentials.get("username"),
                ip_address=request.axes_ip_address,
            )


# Where each role starts its day, in the order an account with several roles is placed: the
# staff roles' own work first, Mina sidor last (most staff are card holders too).
START_PAGES = (
    (Role.ISSUER_ADMIN, "portal:issuer-queue"),
    (Role.SECURITY_OFFICER, "portal:security-accounts"),
    (Role.ID_ADMIN, "portal:office-find"),
    (Role.SUPPORT, "portal:support-find"),
    (Role.ORDERER, "portal:staff"),
    (Role.HOLDER, "portal:mine"),
)


def start_page_for(user: Any) -> str:
    """The page an account lands on when it signs in: its first role's in `START_PAGES`, or
    the home page for an account with no role."""
    for role, page in START_PAGES:
        if has_role(user, role):
            return reverse(page)
    return reverse("home")


class SignInView(auth_views.LoginView):
    template_name = "ekort/portal/sign_in.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return start_page_for(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Card sign-in (ekort.web.card_sign_in) is offered behind a proxy trusted with client
        # certificates; staff passwords are off in production unless a setting turns them on.
        context["card_sign_in"] = bool(settings.EKORT_CLIENT_CERT_PROXIES)
        context["staff_password"] = settings.EKORT_STAFF_PASSWORD_SIGN_IN
        return context


class SignOutView(auth_views.LogoutView):
    next_page = "portal:sign-in"
