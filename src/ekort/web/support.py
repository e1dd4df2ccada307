"""Kundtjänst: the support desk's and the issuer administrator's pages (search, a person's and a
card's full history from the audit trail, block, re-send a letter) and the overview of the
transition (cards by state, type and generation, deadlines coming up, the print queue).

Thin views: each parses its form, calls one service and renders. The search is POSTed so that
an identity number never reaches a URL; persons and cards are named by their database ids.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.domain.letter_rules import LetterStep, decide_cover_letter_again, decide_letter_approval
from ekort.domain.lifecycle import LIVE_STATES, CardAction, CardState, can
from ekort.domain.pins import CodeRequest, decide_codes
from ekort.domain.timekeeping import local_date
from ekort.domain.vocabulary import CardType, Generation, LetterKind, Role
from ekort.services import cards, clock, history, overview, print_queue, search, transition
from ekort.services.cards.locked_pin import pin_letter_waiting
from ekort.store.models import Card, Letter, Person
from ekort.store.rosters import name_condition

from . import charts, forms, reading, week_chart
from .history_words import GENERATIONS, LETTER_KINDS, history_rows
from .labels import CARD_STATES, CARD_TYPES
from .page_access import RoleRequiredMixin
from .reading import Problem
from .roster import PersonFilterForm, roster
from .search_words import not_found_sentence, problem_sentence

SUPPORT_ROLES = frozenset({Role.SUPPORT, Role.ISSUER_ADMIN})


class SupportView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = SUPPORT_ROLES


# --- Sök -------------------------------------------------------------------------------------


class SearchForm(django_forms.Form):
    query = django_forms.CharField(
        label=gettext_lazy("Personnummer, HSA-id, kortnummer eller namn"),
        max_length=100,
        error_messages={
            "required": gettext_lazy(
                "Skriv ett personnummer, ett HSA-id, ett kortnummer eller ett namn."
            )
        },
    )


class SearchView(SupportView):
    """One search box, POSTed (an identity number never reaches a URL). A name's hits are a
    list like every other (`roster`): paged, filtered, summed up; its pages are GET with the
    name in the query string (`?namn=`), which may carry a name and nothing else."""

    template_name = "ekort/portal/support/search.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not any(name in request.GET for name in PersonFilterForm.base_fields):
            return render(request, self.template_name, {"form": SearchForm()})
        name = request.GET.get("namn", "")
        if name.strip() and search.kind_of(name) is not search.QueryKind.NAME:
            # Not searched and not repeated (the page's own links would carry its URL): to the
            # bare search page, which says that identifiers are searched in the box, by POST.
            messages.error(
                request,
                _(
                    "Personnummer, HSA-id och kortnummer söks i sökrutan; de skickas aldrig "
                    "i adressfältet."
                ),
            )
            return HttpResponseRedirect(reverse("portal:support-find"))
        return self.hits(request, name)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SearchForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        query = form.cleaned_data["query"]
        kind = search.kind_of(query)
        if kind is search.QueryKind.NAME:
            return self.hits(request, query, data={"namn": query}, form=form)
        try:
            found = search.find_persons(query, now=clock.now())
        except InvalidInput as exc:
            form.add_error("query", problem_sentence(exc, names_allowed=True))
            return render(request, self.template_name, {"form": form}, status=400)
        # A fresh, empty form: an identity number typed in is not repeated in the page.
        persons = Person.objects.filter(pk__in=[person.pk for person in found])
        context = {
            "form": SearchForm(),
            "searched": True,
            "by_identifier": True,
            "not_found": not_found_sentence(kind),
            "roster": roster(request, persons, clock.now(), data={}, path=request.path),
        }
        return render(request, self.template_name, context)

    def hits(
        self,
        request: HttpRequest,
        name: str,
        *,
        data: dict[str, str] | None = None,
        form: SearchForm | None = None,
    ) -> HttpResponse:
        persons = Person.objects.all()
        if name.strip():
            try:
                persons = persons.filter(name_condition(search.require_name(name)))
            except InvalidInput as exc:
                form = form or SearchForm({"query": name})
                form.is_valid()
                form.add_error("query", problem_sentence(exc, names_allowed=True))
                return render(request, self.template_name, {"form": form}, status=400)
        context = {
            "form": SearchForm(),
            "searched": True,
            "not_found": not_found_sentence(search.QueryKind.NAME),
            "roster": roster(request, persons, clock.now(), data=data, path=request.path),
        }
        return render(request, self.template_name, context)


# --- Personen --------------------------------------------------------------------------------


class PersonView(SupportView):
    def get(self, request: HttpRequest, person_id: int) -> HttpResponse:
        person = get_object_or_404(Person.objects.select_related("unit", "manager"), pk=person_id)
        context = {
            "found": reading.person_row(request.user, person),
            "history": history_rows(history.person_history(person.pk)),
        }
        return render(request, "ekort/portal/support/person.html", context)


# --- Kortet ----------------------------------------------------------------------------------


def _card(card_id: int) -> Card:
    return get_object_or_404(Card.objects.select_related("person", "order", "block"), pk=card_id)


def _may_resend(letter: Letter, card: Card) -> bool:
    """Offer "skicka igen" only where the service would do it, by the same rules (R10,
    R14-R16); it asks them again anyway."""
    kind, state, waiting = LetterKind(letter.kind), CardState(card.state), letter.printed_at is None
    if kind is LetterKind.COVER_LETTER:
        return decide_cover_letter_again(state, waiting=waiting).allowed
    if not can(state, CardAction.ORDER_PIN_LETTER):  # E1: a code letter only for an active card
        return False
    if kind is LetterKind.PIN_PUK_LETTER:
        waiting = waiting or pin_letter_waiting(card.pk)
    return decide_codes(
        CodeRequest.SEND_LETTER,
        CardType(card.card_type),
        Generation(card.generation),
        letter=kind,
        waiting=waiting,
        has_address=card.person.has_registered_address,
    ).allowed


def _deadlines(card: Card, today: date) -> list[dict[str, Any]]:
    """The card's last days that still matter, with how many days are left (negative: passed,
    and the deadline job has not blocked the card yet)."""
    wanted = []
    if card.state == CardState.AWAITING_PICKUP and card.pickup_deadline:
        wanted.append(("R3", _("Sista dag att hämta ut kortet"), card.pickup_deadline))
    if card.state == CardState.SENT_INACTIVE and card.activation_deadline:
        wanted.append(("R8", _("Sista dag att aktivera kortet"), card.activation_deadline))
    if card.state in LIVE_STATES and card.valid_until:
        wanted.append(("", _("Sista giltighetsdag"), card.valid_until))
    return [
        {
            "rule": rule,
            "label": label,
            "day": day,
            "days_left": (day - today).days,
            "days_ago": (today - day).days,
        }
        for rule, label, day in wanted
    ]


def _letter_row(request: HttpRequest, letter: Letter, card: Card, problem: Problem | None) -> Any:
    approval = print_queue.approval_of(letter)
    awaiting = approval is not None and approval.awaiting
    return {
        "letter": letter,
        "kind": LETTER_KINDS.get(letter.kind, letter.kind),
        "may_resend": _may_resend(letter, card),
        "approval": approval,
        "awaits_approval": awaiting,
        # Offered to anyone but whoever sent it again, by the rule the service asks (E14).
        "may_approve": approval is not None
        and decide_letter_approval(
            LetterStep.APPROVE,
            awaiting=awaiting,
            resent_by=approval.resent_by_id,
            actor=request.user.pk,
        ).allowed,
        "problem": problem if problem and problem.target == letter.pk else None,
    }


def render_card(
    request: HttpRequest, card: Card, *, problem: Problem | None = None, status: int = 200
) -> HttpResponse:
    letters = card.letters.select_related("approval__resent_by", "approval__approved_by")
    letter_rows = [
        _letter_row(request, letter, card, problem)
        for letter in letters.order_by("-queued_at", "-pk")
    ]
    context = {
        "row": reading.CardRow(card),
        "person": reading.person_row(request.user, card.person),
        "generation": GENERATIONS.get(card.generation, card.generation),
        "letters": letter_rows,
        "history": history_rows(history.card_history(card.pk)),
        "deadlines": _deadlines(card, local_date(clock.now())),
    }
    return render(request, "ekort/portal/support/card.html", context, status=status)


class CardView(SupportView):
    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        return render_card(request, _card(card_id))


class BlockView(SupportView):
    """Block after a confirmation step: reason, who asked, and a tick that a block is final."""

    template_name = "ekort/portal/block_step.html"

    def page(self, card: Card, form: forms.OfficeBlockForm, **extra: Any) -> dict[str, Any]:
        return {
            "row": reading.CardRow(card),
            "form": form,
            "area": _("Kundtjänst"),
            "card_url": reverse("portal:support-card", args=[card.pk]),
            "block_url": reverse("portal:support-block", args=[card.pk]),
            **extra,
        }

    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = _card(card_id)
        return render(request, self.template_name, self.page(card, forms.office_block_form()))

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = _card(card_id)
        form = forms.office_block_form(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, self.page(card, form), status=400)
        data = form.cleaned_data
        try:
            cards.block(
                actor=request.user,
                reason=data["reason"],
                requested_by=data["requested_by"],
                note=data["note"],
                now=clock.now(),
                card_ids=[card.pk],
            ).one()
        except Refused as exc:
            problem = Problem.refused("block", card.pk, exc)
            page = self.page(card, form, problem=problem)
            return render(request, self.template_name, page, status=409)
        except InvalidInput as exc:
            problem = Problem("block", card.pk, _("Uppgifterna kunde inte användas: %s") % exc)
            page = self.page(card, form, problem=problem)
            return render(request, self.template_name, page, status=400)
        messages.success(request, _("Kortet är spärrat. Spärren kan inte hävas."))
        return HttpResponseRedirect(reverse("portal:support-card", args=[card.pk]))


class ResendLetterView(SupportView):
    """POST only: the card page shows a "skicka igen" button per letter."""

    def post(self, request: HttpRequest, letter_id: int) -> HttpResponse:
        letter = get_object_or_404(Letter.objects.select_related("card"), pk=letter_id)
        try:
            print_queue.resend_letter(actor=request.user, letter_id=letter.pk, now=clock.now())
        except Refused as exc:
            card = _card(letter.card_id)
            problem = Problem.refused("resend", letter.pk, exc)
            return render_card(request, card, problem=problem, status=409)
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        kind = LETTER_KINDS.get(letter.kind, letter.kind)
        messages.success(
            request,
            _("%(kind)s är lagt i utskriftskön igen, till den folkbokföringsadress som gäller nu.")
            % {"kind": kind},
        )
        return HttpResponseRedirect(reverse("portal:support-card", args=[letter.card_id]))


class ApproveLetterView(SupportView):
    """POST only: a second person approves a letter with the PUK that another sent again (E14);
    the card page shows the button to everyone of the desk but the one who sent it."""

    def post(self, request: HttpRequest, letter_id: int) -> HttpResponse:
        letter = get_object_or_404(Letter.objects.select_related("card"), pk=letter_id)
        try:
            print_queue.approve_letter(actor=request.user, letter_id=letter.pk, now=clock.now())
        except Refused as exc:
            problem = Problem.refused("approve", letter.pk, exc)
            return render_card(request, _card(letter.card_id), problem=problem, status=409)
        messages.success(request, _("Utskicket är godkänt. Brevet skrivs ut med nästa utskrift."))
        return HttpResponseRedirect(reverse("portal:support-card", args=[letter.card_id]))


# --- Översikt --------------------------------------------------------------------------------


def _rows(counts: dict[str, int], words: dict[str, Any]) -> list[tuple[str, int]]:
    """Every known value in the order of `words` (zeros too), then any unknown ones."""
    rows = [(str(label), counts.get(key, 0)) for key, label in words.items()]
    rows += [(key, n) for key, n in sorted(counts.items()) if key not in words]
    return rows


class OverviewView(SupportView):
    def get(self, request: HttpRequest) -> HttpResponse:
        now = clock.now()
        figures = overview.overview(now)
        weeks = transition.progress(now)
        generations = {k: v for k, v in GENERATIONS.items() if k}
        context = {
            "o": figures,
            "charts": [
                charts.bar_chart(
                    "per-status", _("Kort per status"), _rows(figures.by_state, CARD_STATES)
                ),
                charts.bar_chart(
                    "per-korttyp", _("Kort per korttyp"), _rows(figures.by_type, CARD_TYPES)
                ),
                charts.bar_chart(
                    "per-utforande",
                    _("Kort i bruk per utförande (övergången till nya kort)"),
                    _rows(figures.live_by_generation, generations),
                ),
                charts.bar_chart(
                    "aktiva-per-utforande",
                    _("Aktiva kort per utförande"),
                    _rows(figures.active_by_generation, generations),
                ),
                charts.bar_chart(
                    "utskriftskon",
                    _("Brev i utskriftskön"),
                    _rows(figures.print_queue, LETTER_KINDS),
                ),
            ],
            "week_chart": week_chart.week_chart(weeks),
            "weeks": [{"figures": w, "label": week_chart.week_label(w)} for w in weeks],
            "soon_days": overview.SOON_DAYS,
            "later_days": overview.LATER_DAYS,
        }
        return render(request, "ekort/portal/support/overview.html", context)
