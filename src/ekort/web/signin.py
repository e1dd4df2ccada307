"""Signing in and out. Failed sign-ins are rate-limited by django-axes (settings: AXES_*)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import views as auth_views
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


def start_page_for(user: Any) -> str:
    if has_role(user, Role.HOLDER):
        return reverse("portal:mine")
    if has_role(user, Role.ORDERER):
        return reverse("portal:staff")
    return reverse("home")


class SignInView(auth_views.LoginView):
    template_name = "ekort/portal/sign_in.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return start_page_for(self.request.user)


class SignOutView(auth_views.LogoutView):
    next_page = "portal:sign-in"
