"""The portal's pages for card holders ("Mina sidor") and managers ("Mina medarbetare").

Each view parses its form, calls one service and renders: a refusal is shown next to the form
with the rule ID and its Swedish sentence; a success redirects (post/redirect/get) with a
message. Cards and persons are looked up within what the account may see, so anything else is
404 whatever its id.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from ekort.domain.errors import Decision, DomainError, InvalidInput, NotFound, Refused
from ekort.domain.order_file import OrderFileRefused
from ekort.domain.rulebook import rule
from ekort.domain.vocabulary import ReplacementReason, Role
from ekort.services import cards, clock, renewals, visibility
from ekort.services.cards.order_import import import_orders
from ekort.store.models import Card, Person

from . import forms, reading
from .labels import REPLACED_AT_ACTIVATION, REPLACED_AT_ONCE, REPLACEMENT_REASONS, staff_name
from .page_access import (
    RoleRequiredMixin,
    managed_card,
    managed_person,
    may_see_address,
    my_person_id,
    own_card,
)
from .reading import Problem
from .roster import roster

SUPPORT_EMAIL = "ekortorder@regiongavleborg.se"
SUPPORT_PHONE = "(026-1) 53 000"


def _requester(request: HttpRequest) -> str:
    return staff_name(request.user)


def _input_problem(form: str, target: int, exc: DomainError) -> Problem:
    return Problem(form, target, _("Uppgifterna kunde inte användas: %s") % exc)


# --- Mina sidor (holder) ---------------------------------------------------------------------


class HolderView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = frozenset({Role.HOLDER})

    def my_card(self, card_id: int) -> Card:
        return own_card(self.request.user, card_id)


def render_mine(request: HttpRequest, problem: Problem | None = None, status: int = 200) -> Any:
    person = get_object_or_404(Person, pk=my_person_id(request.user))
    me = reading.person_row(request.user, person, problem)
    current, former = reading.live_first(me.cards)
    context = {
        "me": me,
        "current": current,
        "former": former,
        "show_address": may_see_address(request.user, person.protected_identity),
        "due": renewals.holders_own(person.pk, clock.now()),
    }
    return render(request, "ekort/portal/mine.html", context, status=status)


class MyCardsView(HolderView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render_mine(request)


class PinLetterView(HolderView):
    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.my_card(card_id)
        try:
            cards.order_pin_letter(actor=request.user, now=clock.now(), card_ids=[card.pk]).one()
        except Refused as exc:
            return render_mine(request, Problem.refused("pin", card.pk, exc), status=409)
        messages.success(
            request,
            _("Pin/puk-brevet är beställt. Det skickas till din folkbokföringsadress."),
        )
        return HttpResponseRedirect(reverse("portal:mine"))


class BlockView(RoleRequiredMixin, View):
    """Block a card after a confirmation step: choose a reason, confirm, submit."""

    template_name = "ekort/portal/block.html"
    back_to = "portal:mine"

    def card_for(self, card_id: int) -> Card:
        raise NotImplementedError

    def form(self, data: object = None) -> forms.BlockCardForm:
        raise NotImplementedError

    def back_url(self, card: Card) -> str:
        """Where the page leads back to, and where a block's result is shown."""
        return reverse(self.back_to)

    def page(self, card: Card, form: forms.BlockCardForm, **extra: Any) -> dict[str, Any]:
        return {
            "row": reading.CardRow(card),
            "form": form,
            "back_to": self.back_url(card),
            **extra,
        }

    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card_for(card_id)
        return render(request, self.template_name, self.page(card, self.form()))

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card_for(card_id)
        form = self.form(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, self.page(card, form), status=400)
        try:
            cards.block(
                actor=request.user,
                reason=form.cleaned_data["reason"],
                requested_by=_requester(request),
                now=clock.now(),
                card_ids=[card.pk],
            ).one()
        except Refused as exc:
            problem = Problem.refused("block", card.pk, exc)
            return render(
                request, self.template_name, self.page(card, form, problem=problem), status=409
            )
        messages.success(
            request,
            _(
                "Kortet %(number)s är spärrat. Spärren kan inte hävas; "
                "ett nytt kort beställs av närmaste chef."
            )
            % {"number": card.number or ""},
        )
        return HttpResponseRedirect(self.back_url(card))


class BlockMyCardView(BlockView):
    roles: ClassVar[frozenset[Role]] = frozenset({Role.HOLDER})

    def card_for(self, card_id: int) -> Card:
        return own_card(self.request.user, card_id)

    def form(self, data: object = None) -> forms.BlockCardForm:
        return forms.holder_block_form(data)


class QuestionsView(HolderView):
    def get(self, request: HttpRequest) -> HttpResponse:
        sentences = {key: rule(key).sv for key in ("R12", "R14", "R15", "R16", "R17", "R18")}
        context = {"rules": sentences, "email": SUPPORT_EMAIL, "phone": SUPPORT_PHONE}
        return render(request, "ekort/portal/questions.html", context)


class OfficesView(View):
    """Public, as the README says: anyone may look up where to bring a card, and when."""

    def get(self, request: HttpRequest) -> HttpResponse:
        now = clock.now()
        context = {"offices": reading.office_rows(now), "now": now, "phone": SUPPORT_PHONE}
        return render(request, "ekort/portal/offices.html", context)


# --- Mina medarbetare (orderer) --------------------------------------------------------------


class OrdererView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = frozenset({Role.ORDERER})

    def my_report(self, person_id: int) -> Person:
        return managed_person(self.request.user, person_id)

    def reports_card(self, card_id: int) -> Card:
        return managed_card(self.request.user, card_id)


def _replace_groups() -> list[tuple[str, list[tuple[str, Any]]]]:
    return [
        (_("Spärras direkt"), [(r, REPLACEMENT_REASONS[r]) for r in REPLACED_AT_ONCE]),
        (
            _("Fungerar tills det nya kortet aktiveras"),
            [(r, REPLACEMENT_REASONS[r]) for r in REPLACED_AT_ACTIVATION],
        ),
    ]


def render_staff(request: HttpRequest) -> Any:
    """The compact list: one row a person, searched and filtered, a summary on top, and
    why no card can be ordered now when the calendar says so (R4 during the stop)."""
    my_person_id(request.user)
    now = clock.now()
    offers = reading.order_offers([], now)  # no cards: only the calendar can refuse
    context = {
        "roster": roster(request, visibility.managed_persons(request.user), now),
        "not_orderable": [offer for offer in offers if offer.refusal is not None],
    }
    return render(request, "ekort/portal/staff.html", context)


def render_staff_person(
    request: HttpRequest, person: Person, problem: Problem | None = None, status: int = 200
) -> Any:
    """One of the manager's staff: the cards with what may be done to each now, and the order
    form with only the card types the rules allow now (the others said why). A refusal is
    shown at the top of the page (`result_problem`), where focus goes."""
    now = clock.now()
    row = reading.person_row(request.user, person)
    reading.attach_ordering(row.cards, now)
    offers = reading.order_offers(row.cards, now)
    context = {
        "p": row,
        "offered": [offer for offer in offers if offer.refusal is None],
        "refused": [offer for offer in offers if offer.refusal is not None],
        "replace_groups": _replace_groups(),
        "result_problem": problem,
    }
    return render(request, "ekort/portal/staff_person.html", context, status=status)


def _person_page(person_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("portal:staff-person", args=[person_id]))


class StaffView(OrdererView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render_staff(request)


class StaffPersonView(OrdererView):
    def get(self, request: HttpRequest, person_id: int) -> HttpResponse:
        return render_staff_person(request, self.my_report(person_id))


class OrderCardView(OrdererView):
    def post(self, request: HttpRequest, person_id: int) -> HttpResponse:
        person = self.my_report(person_id)
        form = forms.OrderCardForm(request.POST)
        if not form.is_valid():
            errors = " ".join(str(e) for e in form.errors.get("card_type", []))
            return render_staff_person(request, person, Problem("order", person.pk, errors), 400)
        try:
            card = cards.order_cards(
                actor=request.user,
                now=clock.now(),
                orders=[
                    cards.NewOrder(
                        person.pk, form.cleaned_data["card_type"], form.cleaned_data["note"]
                    )
                ],
            ).one()
        except Refused as exc:
            return render_staff_person(
                request, person, Problem.refused("order", person.pk, exc), 409
            )
        except InvalidInput as exc:
            return render_staff_person(
                request, person, _input_problem("order", person.pk, exc), 400
            )
        kind = reading.CardRow(card).card_type.lower()
        messages.success(
            request,
            _("Ett %(kind)s är beställt åt %(name)s.") % {"kind": kind, "name": person.full_name},
        )
        return _person_page(person.pk)


class OrderFileView(OrdererView):
    """Orders from a file: upload a CSV, see what each row would give (the order service, in a
    dry run), then order. The confirm step carries the very file that was previewed; it is
    read again, and the service asked again, so a row is only ever ordered by the rules as they
    stand when it is confirmed."""

    template_name = "ekort/portal/order_file.html"

    def page(self, status: int = 200, **context: Any) -> HttpResponse:
        context.setdefault("form", forms.OrderFileForm())
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page()

    def post(self, request: HttpRequest) -> HttpResponse:
        confirming = "content" in request.POST
        if confirming:
            confirm = forms.OrderFileConfirmForm(request.POST)
            if not confirm.is_valid():
                problem = Problem(
                    "file", 0, " ".join(str(e) for e in confirm.errors.get("content", []))
                )
                return self.page(400, problem=problem)
            data: bytes = confirm.cleaned_data["content"]
        else:
            upload = forms.OrderFileForm(request.POST, request.FILES)
            if not upload.is_valid():
                return self.page(400, form=upload)
            data = upload.cleaned_data["file"]
        try:
            report = import_orders(
                actor=request.user, data=data, now=clock.now(), dry_run=not confirming
            )
        except OrderFileRefused as refused:
            return self.page(400, file_problems=refused.problems)
        except InvalidInput as exc:
            return self.page(400, problem=_input_problem("file", 0, exc))
        context: dict[str, Any] = {"report": report}
        if not confirming and report.ordered:
            context["confirm_form"] = forms.OrderFileConfirmForm.carrying(data)
        return self.page(**context)


class ReplaceCardView(OrdererView):
    """Order a replacement in two steps: choose the reason, then read what becomes of the old
    card (blocked now, or when the new card is activated: the rules' sentence, E12) and
    confirm. Nothing is ordered or blocked before the confirmation."""

    template_name = "ekort/portal/replace.html"

    def page(
        self,
        card: Card,
        form: forms.ReplaceCardForm,
        *,
        decision: Decision | None = None,
        problem: Problem | None = None,
        status: int = 200,
    ) -> HttpResponse:
        reason = form.data.get("reason") if form.is_bound else form.initial.get("reason")
        context = {
            "row": reading.CardRow(card),
            "form": form,
            "reason": reason,
            "reason_label": REPLACEMENT_REASONS.get(str(reason), ""),
            "at_once": [(r, REPLACEMENT_REASONS[r]) for r in REPLACED_AT_ONCE],
            "at_activation": [(r, REPLACEMENT_REASONS[r]) for r in REPLACED_AT_ACTIVATION],
            "decision": decision,
            "blocks_at_once": reason in REPLACED_AT_ONCE,
            "problem": problem,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        old = self.reports_card(card_id)
        wanted = request.GET.get("reason", "")
        initial = {"reason": wanted} if wanted in REPLACEMENT_REASONS else {}
        return self.page(old, forms.ReplaceCardForm(initial=initial))

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        old = self.reports_card(card_id)
        form = forms.ReplaceCardForm(request.POST)
        if not form.is_valid():
            return self.page(old, form, status=400)
        reason = ReplacementReason(form.cleaned_data["reason"])
        now = clock.now()
        decision = renewals.replacement_decision(old, reason, now)
        if not decision.allowed:
            refused = Problem("replace", old.pk, decision.sv, decision.rule, decision.en)
            return self.page(old, form, problem=refused, status=409)
        if not form.cleaned_data["confirm"]:
            if request.POST.get("step") != "confirm":
                return self.page(old, form, decision=decision)  # the second step
            form.add_error(
                "confirm", _("Bekräfta att du har läst vad som händer med det gamla kortet.")
            )
            return self.page(old, form, decision=decision, status=400)
        try:
            cards.replace_card(actor=request.user, reason=reason, now=now, card_ids=[old.pk]).one()
        except Refused as exc:
            problem = Problem.refused("replace", old.pk, exc)
            return self.page(old, form, decision=decision, problem=problem, status=409)
        except InvalidInput as exc:
            problem = _input_problem("replace", old.pk, exc)
            return self.page(old, form, decision=decision, problem=problem, status=400)
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        if reason in REPLACED_AT_ONCE:
            text = _(
                "Ett ersättningskort är beställt åt %(name)s. Det gamla kortet %(number)s är "
                "spärrat."
            )
        else:
            text = _(
                "Ett ersättningskort är beställt åt %(name)s. Det gamla kortet %(number)s "
                "fungerar tills det nya kortet har aktiverats."
            )
        messages.success(request, text % {"name": old.person.full_name, "number": old.number})
        return _person_page(old.person_id)


class BlockStaffCardView(BlockView):
    roles: ClassVar[frozenset[Role]] = frozenset({Role.ORDERER})
    back_to = "portal:staff"

    def back_url(self, card: Card) -> str:
        return reverse("portal:staff-person", args=[card.person_id])

    def card_for(self, card_id: int) -> Card:
        return managed_card(self.request.user, card_id)

    def form(self, data: object = None) -> forms.BlockCardForm:
        return forms.orderer_block_form(data)
