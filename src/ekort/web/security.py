"""Säkerhet: the security officer's (säkerhetsansvarig) pages. Behörigheter: every account with
its roles, granting and withdrawing them, never on one's own account (E15); Granskning: the
audit trail, newest first, and a card's, a person's or an account's history from it. Nothing
else is changed here, and no other page is the security officer's.

Thin views over `ekort.services.role_grants` and `ekort.services.history`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.domain.role_grants import decide_role_change
from ekort.domain.vocabulary import Role
from ekort.services import clock, history, role_grants

from .history_words import ACTIONS, ROLE_NAMES, history_rows
from .page_access import RoleRequiredMixin
from .reading import Problem

SECURITY_ROLES = frozenset({Role.SECURITY_OFFICER})
PER_PAGE = 100
MAX_ID = 2**63 - 1


class SecurityView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = SECURITY_ROLES


def _named(held: tuple[Any, ...]) -> list[str]:
    return [str(ROLE_NAMES.get(e.value, e.value)) for e in held]


# --- Behörigheter ----------------------------------------------------------------------------


class AccountsView(SecurityView):
    """Every account and the roles it holds."""

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = [(row.user, _named(row.held)) for row in role_grants.accounts(actor=request.user)]
        return render(request, "ekort/portal/security/accounts.html", {"rows": rows})


class RoleForm(django_forms.Form):
    CHOICES = [(e.value, ROLE_NAMES.get(e.value, e.value)) for e in role_grants.ENTITLEMENTS]

    change = django_forms.ChoiceField(choices=[("grant", "grant"), ("withdraw", "withdraw")])
    role = django_forms.ChoiceField(
        label=gettext_lazy("Behörighet"),
        choices=CHOICES,
        error_messages={"invalid_choice": gettext_lazy("Välj en av behörigheterna i listan.")},
    )


def render_account(
    request: HttpRequest, user_id: int, *, problem: Problem | None = None, status: int = 200
) -> HttpResponse:
    try:
        found = role_grants.account(actor=request.user, user_id=user_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    held = {e.value for e in found.held}
    own = decide_role_change(own_account=found.user.pk == request.user.pk)
    context = {
        "account": found.user,
        "held": [(e.value, ROLE_NAMES.get(e.value, e.value)) for e in found.held],
        "grantable": [(v, label) for v, label in RoleForm.CHOICES if v not in held],
        "own": own,
        "problem": problem,
        "history": history_rows(role_grants.grant_history(actor=request.user, user_id=user_id)),
    }
    return render(request, "ekort/portal/security/account.html", context, status=status)


class AccountView(SecurityView):
    """GET: one account, its roles and their history. POST: grant or withdraw one (PRG)."""

    def get(self, request: HttpRequest, user_id: int) -> HttpResponse:
        return render_account(request, user_id)

    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        form = RoleForm(request.POST)
        if not form.is_valid():
            problem = Problem("role", user_id, _("Välj en av behörigheterna i listan."))
            return render_account(request, user_id, problem=problem, status=400)
        granting = form.cleaned_data["change"] == "grant"
        change = role_grants.grant_role if granting else role_grants.withdraw_role
        try:
            done = change(
                actor=request.user, user_id=user_id, role=form.cleaned_data["role"], now=clock.now()
            )
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except Refused as exc:
            return render_account(
                request, user_id, problem=Problem.refused("role", user_id, exc), status=409
            )
        except InvalidInput:
            problem = Problem("role", user_id, _("Välj en av behörigheterna i listan."))
            return render_account(request, user_id, problem=problem, status=400)
        name = ROLE_NAMES.get(form.cleaned_data["role"], form.cleaned_data["role"])
        if not done:
            messages.info(request, _("Inget ändrades: kontot stod redan så."))
        elif granting:
            messages.success(request, _("Behörigheten %(role)s är given.") % {"role": name})
        else:
            messages.success(request, _("Behörigheten %(role)s är tillbakatagen.") % {"role": name})
        return HttpResponseRedirect(reverse("portal:security-account", args=[user_id]))


# --- Granskning ------------------------------------------------------------------------------

# The histories the trail page shows, by the query parameter that names the object's id.
HISTORIES = {
    "kort": (history.card_history, gettext_lazy("Kortets historik (kort nr %(id)s)")),
    "person": (history.person_history, gettext_lazy("Personens historik (person nr %(id)s)")),
    "konto": (None, gettext_lazy("Kontots historik (konto nr %(id)s)")),
}


def _object_id(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


class AuditView(SecurityView):
    """The audit trail, newest first, a page at a time, or one action's or one actor's entries;
    with ?kort=, ?person= or ?konto= (database ids, never an identity number) one object's
    history."""

    def get(self, request: HttpRequest) -> HttpResponse:
        for key, (read, title) in HISTORIES.items():
            if key in request.GET:
                object_id = _object_id(request.GET.get(key))
                if object_id is None:
                    raise Http404("No such object.")
                entries = (
                    role_grants.grant_history(actor=request.user, user_id=object_id)
                    if read is None
                    else read(object_id)
                )
                context = {
                    "title": title % {"id": object_id},
                    "history": history_rows(entries),
                    "back": reverse("portal:security-audit"),
                }
                return render(request, "ekort/portal/security/history.html", context)
        action = request.GET.get("handling", "").strip()[:40]
        who = request.GET.get("vem", "").strip()[:150]
        page = Paginator(history.trail(action=action, actor=who), PER_PAGE).get_page(
            request.GET.get("sida", "1")
        )
        query = {k: v for k, v in (("handling", action), ("vem", who)) if v}

        def at(number: int) -> str:
            return "?" + urlencode({**query, "sida": str(number)})

        context = {
            "page": page,
            "rows": history_rows(list(page.object_list)),
            "action": action,
            "who": who,
            "actions": sorted((str(label), name) for name, label in ACTIONS.items()),
            "previous_url": at(page.previous_page_number()) if page.has_previous() else "",
            "next_url": at(page.next_page_number()) if page.has_next() else "",
        }
        return render(request, "ekort/portal/security/audit.html", context)
