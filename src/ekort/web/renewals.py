"""Kort som går ut: the cards whose validity or certificate ends within 90 or 30 days and that
have no renewal under way (E12), as a page and as a CSV file.

A manager sees her staff's cards, an ID administrator those activated at her card office,
support everyone's (`services.renewals`). The file carries no identity number.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from ekort.domain.access import SEE_EXPIRING
from ekort.domain.lifecycle import LIVE_STATES, CardState
from ekort.domain.renewal import WORKLIST_DAYS
from ekort.domain.timekeeping import local_date
from ekort.domain.vocabulary import CardType, Role
from ekort.services import clock, renewals
from ekort.services.roles import person_id_of, roles_of

from .labels import CARD_STATES, CARD_TYPES
from .lists import FilterForm, Listing, bound, listing
from .page_access import RoleRequiredMixin


class RenewalFilterForm(FilterForm):
    """The worklist's days (`dagar`, kept as the list is filtered) and its filters."""

    dagar = forms.TypedChoiceField(
        choices=[(str(d), str(d)) for d in WORKLIST_DAYS],
        coerce=int,
        empty_value=None,
        widget=forms.HiddenInput,
    )
    namn = forms.CharField(label=gettext_lazy("Kortinnehavarens namn"), max_length=100)
    typ = forms.ChoiceField(label=gettext_lazy("Korttyp"))
    status = forms.ChoiceField(label=gettext_lazy("Status"))

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["namn"].widget.attrs.update({"type": "search", "autocomplete": "off"})
        kinds, states = self.fields["typ"], self.fields["status"]
        assert isinstance(kinds, forms.ChoiceField)
        assert isinstance(states, forms.ChoiceField)
        kinds.choices = [("", _("Alla korttyper"))] + [(k.value, CARD_TYPES[k]) for k in CardType]
        states.choices = [("", _("Alla"))] + [
            (state.value, CARD_STATES[state]) for state in CardState if state in LIVE_STATES
        ]


class WorklistView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = frozenset(SEE_EXPIRING.roles)

    def days(self) -> int:
        """`?dagar=30` for the shorter list; anything else is the longer one."""
        wanted = self.request.GET.get("dagar", "")
        return next((d for d in WORKLIST_DAYS if str(d) == wanted), WORKLIST_DAYS[0])


@dataclass(frozen=True)
class WorklistSummary:
    total: int
    soon: int  # of them ending within the shortest list's days
    soon_days: int
    by_type: list[tuple[str, int]]


def _summary(rows: list[renewals.DueCard]) -> WorklistSummary:
    soon_days = WORKLIST_DAYS[-1]
    counts = Counter(row.card_type for row in rows)
    return WorklistSummary(
        total=len(rows),
        soon=sum(1 for row in rows if row.days_left <= soon_days),
        soon_days=soon_days,
        by_type=[(str(CARD_TYPES[k]), counts[k.value]) for k in CardType if counts[k.value]],
    )


class RenewalsView(WorklistView):
    def get(self, request: HttpRequest) -> HttpResponse:
        days = self.days()
        now = clock.now()
        form = bound(RenewalFilterForm, request.GET)
        everything = renewals.worklist(request.user, now, days)
        narrowed = {
            "name": form.value("namn") or "",
            "card_type": form.value("typ") or "",
            "state": form.value("status") or "",
        }
        rows = (
            renewals.worklist(request.user, now, days, **narrowed)
            if any(narrowed.values())
            else everything
        )
        page: Listing[renewals.DueCard] = listing(request, rows, form)
        context = {
            "listing": page,
            "rows": page.rows,
            "summary": _summary(everything),
            "days": days,
            "choices": WORKLIST_DAYS,
            "states": CARD_STATES,
            "types": CARD_TYPES,
            "may_order": Role.ORDERER in roles_of(request.user),
            "me": person_id_of(request.user),
        }
        return render(request, "ekort/portal/renewals/list.html", context)


class RenewalsCsvView(WorklistView):
    def get(self, request: HttpRequest) -> HttpResponse:
        days = self.days()
        now = clock.now()
        rows = renewals.worklist(request.user, now, days)
        name = f"kort-som-gar-ut-{days}-dagar-{local_date(now).isoformat()}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response.write("\ufeff")  # so that a spreadsheet reads the file as UTF-8
        writer = csv.writer(response, delimiter=";")
        writer.writerow(
            [
                _("Kortnummer"),
                _("Korttyp"),
                _("Status"),
                _("Kortinnehavare"),
                _("HSA-id"),
                _("Enhet"),
                _("Chef"),
                _("Kortet gäller till"),
                _("Certifikatet gäller till"),
                _("Sista dag"),
                _("Dagar kvar"),
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    row.number,
                    str(CARD_TYPES.get(row.card_type, row.card_type)),
                    str(CARD_STATES.get(row.state, row.state)),
                    _spreadsheet_safe(row.holder),
                    row.hsa_id,
                    _spreadsheet_safe(row.unit),
                    _spreadsheet_safe(row.manager),
                    row.valid_until.isoformat() if row.valid_until else "",
                    row.certificate_ends.isoformat() if row.certificate_ends else "",
                    row.ends_on.isoformat(),
                    row.days_left,
                ]
            )
        return response


def _spreadsheet_safe(text: str) -> str:
    """A name from the register as a spreadsheet reads it: never as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
