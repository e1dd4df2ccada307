"""Kortkontoret: the ID administrator's pages (find a person, photograph, hand out, activate,
unlock a PIN, block), and the second administrator's approval of a four-eyes hand-out or
activation (E11); the photo kept for the card bureau, for the ID administrators of the office
where it was taken.

Thin views: each parses its form, calls one service and renders. A refusal is shown next to the
form with the rule ID and its Swedish sentence; a success redirects to the card page. A photo
is first shown on the card's face, inline and not kept, and saved (kept encrypted until the
bureau has delivered the card) only when the ID administrator says so. Identity
numbers are only ever POSTed, never put in a URL, and a PIN is never rendered back.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.views import View

from ekort.domain.card_face import FaceField, card_face
from ekort.domain.errors import Decision, DomainError, InvalidInput, NotFound, Refused
from ekort.domain.four_eyes import FourEyesStep, decide_four_eyes
from ekort.domain.id_documents import DocumentKind
from ekort.domain.identifiers import mask_identity_number
from ekort.domain.lifecycle import CardAction, CardState, can
from ekort.domain.pins import CodeRequest
from ekort.domain.policy_calendar import PolicyAction
from ekort.domain.vocabulary import CardType, CheckPurpose, Generation, Role
from ekort.services import cards, clock, search
from ekort.services.cards import bureau
from ekort.services.cards.handover import needs_two, registration_of
from ekort.services.policy import current_calendar
from ekort.store.models import Card, FourEyesApproval, Person

from . import forms, reading
from .labels import staff_name
from .page_access import RoleRequiredMixin
from .reading import Problem
from .roster import CardFilterForm, Roster, roster
from .search_words import not_found_sentence, problem_sentence
from .templatetags.ekort_i18n import pick

FACE_LABELS: dict[FaceField, Promise] = {
    FaceField.HOLDER_NAME: gettext_lazy("Namn"),
    FaceField.PHOTO: gettext_lazy("Foto"),
    FaceField.REGION_LOGO: gettext_lazy("Regionens logotyp"),
    FaceField.IDENTITY_NUMBER: gettext_lazy("Personnummer"),
    FaceField.CARD_NUMBER: gettext_lazy("Kortnummer"),
    FaceField.SIS_MARK: gettext_lazy("SIS-märkning"),
    FaceField.VALID_UNTIL: gettext_lazy("Giltigt till"),
}


def now() -> Any:
    return clock.now()


class OfficeView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = frozenset({Role.ID_ADMIN})


# --- Hitta person ----------------------------------------------------------------------------


# Where a card waits while its registration does: a card that moved on meanwhile (blocked by
# the R3 or R8 sweep, say) has nothing left to approve.
_WAITING_IN = {
    CheckPurpose.HAND_OUT: CardState.AWAITING_PICKUP,
    CheckPurpose.ACTIVATION: CardState.SENT_INACTIVE,
}


def _pending_approvals() -> list[FourEyesApproval]:
    """Registered hand-outs and activations waiting for a second ID administrator (E11),
    oldest first."""
    waiting = Q()
    for purpose, card_state in _WAITING_IN.items():
        waiting |= Q(purpose=purpose.value, card__state=card_state.value)
    return list(
        FourEyesApproval.objects.filter(waiting, outcome="")
        .select_related(
            "card",
            "card__person",
            "registered_by__account__person",
            "registered_by__account__office",
            "identity_check",
        )
        .order_by("registered_at", "pk")
    )


def _counter_list(request: HttpRequest) -> Roster:
    """Everyone with where they stand with their cards, filtered by the query string (no
    name in it: a person is found by an identifier, POSTed); each row opens the card."""
    return roster(
        request,
        Person.objects.all(),
        now(),
        path=reverse("portal:office-find"),
        form_class=CardFilterForm,
    )


class FindPersonView(OfficeView):
    template_name = "ekort/portal/office/find.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        context = {
            "form": forms.FindPersonForm(),
            "pending_approvals": _pending_approvals(),
            "roster": _counter_list(request),
        }
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.FindPersonForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        query = form.cleaned_data["query"]
        try:
            person = search.find_person(query, now=now())
        except InvalidInput as exc:
            form.add_error("query", problem_sentence(exc, names_allowed=False))
            return render(request, self.template_name, {"form": form}, status=400)
        if person is None:
            # What was searched for is named, not repeated: the form comes back empty.
            context = {
                "form": forms.FindPersonForm(),
                "not_found": not_found_sentence(search.kind_of(query)),
            }
            return render(request, self.template_name, context, status=404)
        # A fresh, empty form: the identity number is not repeated in the page.
        context = {
            "form": forms.FindPersonForm(),
            "found": reading.person_row(request.user, person),
        }
        return render(request, self.template_name, context)


# --- Kortet ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceItem:
    field: str
    label: str
    text: str


@dataclass(frozen=True)
class FacePreview:
    orientation: str
    front: list[FaceItem]
    back: list[FaceItem]
    photo_url: str
    generation: str


def _face_preview(card: Card, photo: bytes) -> FacePreview:
    """The card as it will be printed (R5), with the uploaded photo shown once, inline."""
    now = clock.now()
    calendar = current_calendar()
    kind = CardType(card.card_type)
    generation = Generation(card.generation) if card.generation else calendar.generation_at(now)
    face = card_face(generation, kind, calendar.sis_marked(kind, now))
    person = card.person
    texts = {
        FaceField.HOLDER_NAME: person.full_name,
        FaceField.PHOTO: "",
        FaceField.REGION_LOGO: "Region Gävleborg",
        FaceField.IDENTITY_NUMBER: mask_identity_number(person.identity_number),
        FaceField.CARD_NUMBER: card.number or gettext("Tilldelas när kortet tillverkas"),
        FaceField.SIS_MARK: "SIS",
        FaceField.VALID_UNTIL: calendar.valid_until(kind, now).isoformat(),
    }

    def items(fields: tuple[FaceField, ...]) -> list[FaceItem]:
        return [FaceItem(f.value, str(FACE_LABELS[f]), texts[f]) for f in fields]

    mime = "image/png" if photo.startswith(b"\x89PNG") else "image/jpeg"
    return FacePreview(
        orientation=face.orientation.value,
        front=items(face.front),
        back=items(face.back),
        photo_url=f"data:{mime};base64,{base64.b64encode(photo).decode('ascii')}",
        generation=generation.value,
    )


FOUR_EYES_FORMS = ("approve", "approve_activation", "withdraw")


@dataclass(frozen=True)
class CounterStep:
    """One action of the counter, as the rules see this card now: not offered at all when the
    lifecycle does not let the card take it (its state and type, E1); offered with its form
    when the rules asked after that allow it too; otherwise shown with their refusal instead
    of a form that would only be refused (the calendar's R2-R8, the codes' R14-R16)."""

    lifecycle: bool
    rules: Decision | None = None  # None: nothing more to ask

    @property
    def offered(self) -> bool:
        return self.lifecycle and (self.rules is None or self.rules.allowed)

    @property
    def refusal(self) -> Decision | None:
        if self.lifecycle and self.rules is not None and not self.rules.allowed:
            return self.rules
        return None


def counter_steps(card: Card, row: reading.CardRow, now: datetime) -> dict[str, CounterStep]:
    """What the counter offers for the card, each action asked of the domain's decisions: the
    lifecycle (`decide_transition`), the policy calendar (`PolicyCalendar.decide`, with the
    card's own last day to collect or activate it) and the codes (`decide_codes`)."""
    state, kind = CardState(card.state), CardType(card.card_type)
    calendar = current_calendar()

    def calendar_step(
        action: CardAction, policy: PolicyAction, deadline: date | None
    ) -> CounterStep:
        if not can(state, action, kind):
            return CounterStep(False)
        return CounterStep(True, calendar.decide(policy, kind, now, deadline=deadline))

    unlock = can(state, CardAction.UNLOCK_PIN, kind)
    return {
        "photograph": calendar_step(CardAction.PHOTOGRAPH, PolicyAction.PHOTOGRAPH, None),
        "hand_out": calendar_step(CardAction.HAND_OUT, PolicyAction.HAND_OUT, card.pickup_deadline),
        "activate": calendar_step(
            CardAction.ACTIVATE, PolicyAction.ACTIVATE, card.activation_deadline
        ),
        "unlock": CounterStep(unlock, row.codes(CodeRequest.UNLOCK_AT_OFFICE) if unlock else None),
        # Never refused by the calendar: a block request is never lost (R4).
        "block": CounterStep(can(state, CardAction.BLOCK, kind)),
    }


def _activate_form(card: Card, data: Any = None) -> django_forms.Form:
    """A card that takes two administrators is registered with the document only: the holder
    types the PIN when the second one approves (E11)."""
    if needs_two(card):
        return forms.DocumentForm(data, prefix="aktivera")
    return forms.ActivateForm(data, prefix="aktivera")


def _render_card(
    request: HttpRequest,
    card: Card,
    *,
    problem: Problem | None = None,
    status: int = 200,
    **replaced: Any,
) -> HttpResponse:
    state = CardState(card.state)
    row = reading.CardRow(card)
    steps = counter_steps(card, row, now())
    pending, waiting = registration_of(card) if state in _WAITING_IN.values() else (None, None)
    # A card that takes two administrators is registered once (E11); one that takes one, any
    # time the lifecycle lets it be handed out or activated.
    may_register = not needs_two(card) or decide_four_eyes(FourEyesStep.REGISTER, waiting).allowed
    four_eyes = pending is not None and problem is not None and problem.form in FOUR_EYES_FORMS
    context: dict[str, Any] = {
        "row": row,
        "person": reading.person_row(request.user, card.person),
        # Refusals of the four-eyes forms are shown in the waiting registration's section, next to
        # its buttons; with nothing waiting, at the top like the others.
        "problem": None if four_eyes else problem,
        "four_eyes_problem": problem if four_eyes else None,
        "steps": steps,
        "may_hand_out": steps["hand_out"].offered and may_register,
        "may_activate": steps["activate"].offered and may_register,
        "needs_two": needs_two(card),
        "pending": None if pending is None else PendingApproval(pending),
        "withdraw_form": forms.WithdrawHandOutForm(prefix="aterkalla"),
        "photo_form": forms.PhotoForm(),
        "may_see_photo": bureau.may_see_photo(request.user, card.pk),
        "hand_out_form": forms.DocumentForm(prefix="lamna"),
        "activate_form": _activate_form(card),
        "approve_activation_form": forms.PinPairForm(prefix="godkann"),
        "unlock_form": forms.PinPairForm(prefix="lasupp"),
        **replaced,
    }
    return render(request, "ekort/portal/office/card.html", context, status=status)


def _input_problem(form: str, card: Card, exc: DomainError) -> Problem:
    return Problem(form, card.pk, gettext("Uppgifterna kunde inte användas: %s") % exc)


@dataclass(frozen=True)
class PendingApproval:
    """A registered hand-out or activation as the second ID administrator sees it (E11).

    The document number is shown in full: the second administrator's task is to compare the
    registration with the document the holder shows, character by character, and a masked
    number would let a typing error through. The page is for ID administrators only, and the
    number never goes into a URL or into the list of waiting registrations.
    """

    approval: FourEyesApproval

    @property
    def is_activation(self) -> bool:
        return self.approval.purpose == CheckPurpose.ACTIVATION

    @property
    def registered_by(self) -> str:
        return staff_name(self.approval.registered_by)

    @property
    def document_kind(self) -> str:
        kind = DocumentKind(self.approval.identity_check.document_kind)
        return pick(kind.label_sv, kind.label_en)


class CardActionView(OfficeView):
    """An action on one card: POST only; the card page shows its form."""

    def card(self, card_id: int) -> Card:
        return get_object_or_404(
            Card.objects.select_related("person", "order", "block"), pk=card_id
        )

    def done(self, card: Card, text: str) -> HttpResponse:
        messages.success(self.request, text)
        return HttpResponseRedirect(reverse("portal:office-card", args=[card.pk]))

    def refused(
        self, form_name: str, card: Card, call: Callable[[], object], **page: Any
    ) -> HttpResponse | None:
        """Carry out one service call. None when it went through; otherwise the card page with
        the refusal (409, its rule) or the unusable input (400) next to the form `form_name`,
        and the forms in `page` as they were filled in."""
        try:
            call()
        except Refused as exc:
            problem = Problem.refused(form_name, card.pk, exc)
            return _render_card(self.request, card, problem=problem, status=409, **page)
        except InvalidInput as exc:
            problem = _input_problem(form_name, card, exc)
            return _render_card(self.request, card, problem=problem, status=400, **page)
        return None


class CardView(CardActionView):
    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        return _render_card(request, self.card(card_id))


class PhotographView(CardActionView):
    """Two steps: the uploaded photo is shown on the card's face (R5) and nothing is kept; the
    ID administrator then saves it, or takes it again. Only the save calls the service."""

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        if "photo_data" in request.POST:
            return self.save(card)
        form = forms.PhotoForm(request.POST, request.FILES)
        if not form.is_valid():
            return _render_card(request, card, photo_form=form, status=400)
        photo: bytes = form.cleaned_data["photo"]
        kind = CardType(card.card_type)
        decision = current_calendar().decide(PolicyAction.PHOTOGRAPH, kind, now())
        if not decision.allowed:  # R2: say so now, not after the preview
            problem = Problem("photo", card.pk, decision.sv, decision.rule, decision.en)
            return _render_card(request, card, problem=problem, status=409)
        response = _render_card(
            request,
            card,
            preview=_face_preview(card, photo),
            photo_confirm_form=forms.PhotoConfirmForm.carrying(photo),
        )
        response["Cache-Control"] = "no-store"  # it carries the photo
        return response

    def save(self, card: Card) -> HttpResponse:
        form = forms.PhotoConfirmForm(self.request.POST)
        if not form.is_valid():
            text = " ".join(str(e) for e in form.errors.get("photo_data", []))
            return _render_card(
                self.request, card, problem=Problem("photo", card.pk, text), status=400
            )
        photo: bytes = form.cleaned_data["photo_data"]
        actor = self.request.user

        def photograph() -> object:
            return cards.photograph(actor=actor, now=now(), photos={card.pk: photo}).one()

        if refusal := self.refused("photo", card, photograph):
            return refusal
        return self.done(
            card,
            gettext(
                "Fotot är sparat. Kortet väntar nu på tillverkning; fotot raderas när kortbyrån "
                "har levererat kortet."
            ),
        )


class PhotoView(OfficeView):
    """The photo kept for a card until the bureau has delivered it, for the ID administrators
    of the office where it was taken; never cached. Anyone else, and a card with no kept photo,
    get 404."""

    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        try:
            photo = bureau.kept_photo(request.user, card_id)
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        response = HttpResponse(photo.picture, content_type=photo.media_type)
        response["Cache-Control"] = "no-store"
        response["Content-Disposition"] = f'inline; filename="foto-{card_id}"'
        return response


def _document(form: django_forms.Form) -> cards.DocumentShown:
    data = form.cleaned_data
    return cards.DocumentShown(
        kind=data["document_kind"],
        number=data["document_number"],
        expires_on=data["document_expires_on"],
    )


class HandOutView(CardActionView):
    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.DocumentForm(request.POST, prefix="lamna")
        if not form.is_valid():
            return _render_card(request, card, hand_out_form=form, status=400)

        def hand_out() -> object:
            return cards.hand_out(
                actor=request.user, now=now(), documents={card.pk: _document(form)}
            ).one()

        if refusal := self.refused("hand_out", card, hand_out, hand_out_form=form):
            return refusal
        card.refresh_from_db(fields=["state"])
        if card.state == CardState.AWAITING_PICKUP:  # E11: a second administrator approves
            return self.done(
                card,
                gettext(
                    "Utlämningen är registrerad. En annan id-administratör godkänner den innan "
                    "kortet lämnas ut."
                ),
            )
        return self.done(
            card, gettext("Kortet är utlämnat till %(name)s.") % {"name": card.person.full_name}
        )


class ApproveHandOutView(CardActionView):
    """The second ID administrator approves a registered hand-out (E11, E3)."""

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)

        def approve() -> object:
            return cards.approve_hand_out(actor=request.user, now=now(), card_ids=[card.pk]).one()

        if refusal := self.refused("approve", card, approve):
            return refusal
        return self.done(
            card,
            gettext("Utlämningen är godkänd och kortet är utlämnat till %(name)s.")
            % {"name": card.person.full_name},
        )


class WithdrawHandOutView(CardActionView):
    """A wrong registration is withdrawn, by the registrar or another ID administrator."""

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.WithdrawHandOutForm(request.POST, prefix="aterkalla")
        if not form.is_valid():
            return _render_card(request, card, withdraw_form=form, status=400)

        def withdraw() -> object:
            return cards.withdraw_hand_out(
                actor=request.user, reason=form.cleaned_data["note"], now=now(), card_ids=[card.pk]
            ).one()

        if refusal := self.refused("withdraw", card, withdraw, withdraw_form=form):
            return refusal
        if card.state == CardState.SENT_INACTIVE:
            return self.done(
                card,
                gettext(
                    "Registreringen är återkallad. Kortet kan registreras för aktivering igen."
                ),
            )
        return self.done(
            card,
            gettext("Registreringen är återkallad. Kortet kan registreras för utlämning igen."),
        )


class ActivateView(CardActionView):
    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = _activate_form(card, request.POST)
        if not form.is_valid():
            return _render_card(request, card, activate_form=form, status=400)
        two = needs_two(card)

        def activate() -> object:
            return cards.activate(
                actor=request.user,
                now=now(),
                activations={
                    card.pk: cards.Activation(
                        _document(form), None if two else form.cleaned_data["pin"]
                    )
                },
            ).one()

        if refusal := self.refused("activate", card, activate, activate_form=form):
            return refusal
        if two:
            return self.done(
                card,
                gettext(
                    "Aktiveringen är registrerad. En annan id-administratör godkänner den medan "
                    "kortinnehavaren väljer säkerhetskod."
                ),
            )
        return self.done(
            card,
            gettext("Kortet är aktiverat och säkerhetskoden är satt för %(name)s.")
            % {"name": card.person.full_name},
        )


class ApproveActivationView(CardActionView):
    """The second ID administrator approves a registered activation while the holder types the
    PIN on the PIN pad (E11, E3, R9)."""

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.PinPairForm(request.POST, prefix="godkann")
        if not form.is_valid():
            return _render_card(request, card, approve_activation_form=form, status=400)

        def approve() -> object:
            return cards.approve_activation(
                actor=request.user, now=now(), pins={card.pk: form.cleaned_data["pin"]}
            ).one()

        if refusal := self.refused("approve_activation", card, approve):
            return refusal
        return self.done(
            card,
            gettext(
                "Aktiveringen är godkänd. Kortet är aktiverat och säkerhetskoden är satt för "
                "%(name)s."
            )
            % {"name": card.person.full_name},
        )


class UnlockPinView(CardActionView):
    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.PinPairForm(request.POST, prefix="lasupp")
        if not form.is_valid():
            return _render_card(request, card, unlock_form=form, status=400)

        def unlock() -> object:
            return cards.unlock_pin(
                actor=request.user, now=now(), new_pins={card.pk: form.cleaned_data["pin"]}
            ).one()

        if refusal := self.refused("unlock", card, unlock):
            return refusal
        return self.done(card, gettext("Pin-koden är upplåst och den nya säkerhetskoden är satt."))


class BlockView(CardActionView):
    """Blocking is a step of its own: the card page links here, where the reason, who asked and
    a tick that a block is final are asked for before anything is blocked."""

    template_name = "ekort/portal/block_step.html"

    def page(
        self,
        card: Card,
        form: forms.OfficeBlockForm,
        *,
        problem: Problem | None = None,
        status: int = 200,
    ) -> HttpResponse:
        context = {
            "row": reading.CardRow(card),
            "form": form,
            "problem": problem,
            "area": gettext("Id-administration"),
            "card_url": reverse("portal:office-card", args=[card.pk]),
            "block_url": reverse("portal:office-block", args=[card.pk]),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        if not can(CardState(card.state), CardAction.BLOCK, CardType(card.card_type)):
            # Nothing to block (E1, E9): the card page says what the card is.
            return HttpResponseRedirect(reverse("portal:office-card", args=[card.pk]))
        return self.page(card, forms.office_block_form())

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.office_block_form(request.POST)
        if not form.is_valid():
            return self.page(card, form, status=400)
        data = form.cleaned_data
        try:
            cards.block(
                actor=request.user,
                reason=data["reason"],
                requested_by=data["requested_by"],
                note=data["note"],
                now=now(),
                card_ids=[card.pk],
            ).one()
        except Refused as exc:
            return self.page(card, form, problem=Problem.refused("block", card.pk, exc), status=409)
        except InvalidInput as exc:
            return self.page(card, form, problem=_input_problem("block", card, exc), status=400)
        return self.done(card, gettext("Kortet är spärrat. Spärren kan inte hävas."))
