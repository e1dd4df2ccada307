"""Kortkontoret: the ID administrator's pages (find a person, photograph, hand out, activate,
unlock a PIN, block).

Thin views: each parses its form, calls one service and renders. A refusal is shown next to the
form with the rule ID and its Swedish sentence; a success redirects to the card page, except the
photograph, whose preview shows the uploaded picture once, inline, as it is not stored. Identity
numbers are only ever POSTed, never put in a URL, and a PIN is never rendered back.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View

from ekort.domain.card_face import FaceField, card_face
from ekort.domain.card_numbers import parse_card_number
from ekort.domain.errors import DomainError, InvalidInput, Refused
from ekort.domain.identifiers import mask_identity_number, parse_hsa_id, parse_identity_number
from ekort.domain.lifecycle import LIVE_STATES, CardAction, CardState, can
from ekort.domain.timekeeping import local_date
from ekort.domain.vocabulary import CardType, Generation, Role
from ekort.services import cards, clock
from ekort.services.policy import current_calendar
from ekort.store.models import Card, Person

from . import forms, reading
from .access import RoleRequiredMixin
from .reading import Problem

FACE_LABELS: dict[FaceField, str] = {
    FaceField.HOLDER_NAME: "Namn",
    FaceField.PHOTO: "Foto",
    FaceField.REGION_LOGO: "Regionens logotyp",
    FaceField.IDENTITY_NUMBER: "Personnummer",
    FaceField.CARD_NUMBER: "Kortnummer",
    FaceField.SIS_MARK: "SIS-märkning",
    FaceField.VALID_UNTIL: "Giltigt till",
}


def now() -> Any:
    return clock.now()


class OfficeView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = frozenset({Role.ID_ADMIN})


# --- Hitta person ----------------------------------------------------------------------------


def _find(query: str) -> Person | None:
    """The person an identity number, HSA-id or card number belongs to; None if nobody's."""
    text = query.strip()
    if text[:2].upper() == "SE":
        hsa = parse_hsa_id(text)
        return Person.objects.filter(hsa_id=hsa.value).first()
    try:
        identity = parse_identity_number(text, today=local_date(clock.now()))
    except InvalidInput:
        number = parse_card_number(text, settings.EKORT_CARD_NUMBER_PREFIX)
        card = Card.objects.filter(number=number).select_related("person").first()
        return card.person if card is not None else None
    return Person.objects.filter(identity_number=identity.digits).first()


class FindPersonView(OfficeView):
    template_name = "ekort/portal/office/find.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": forms.FindPersonForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.FindPersonForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        try:
            person = _find(form.cleaned_data["query"])
        except InvalidInput:
            form.add_error(
                "query",
                "Känns inte igen. Skriv ett personnummer (ÅÅÅÅMMDD-NNNN), ett HSA-id "
                "(SE…-…) eller kortnumret från kortets baksida.",
            )
            return render(request, self.template_name, {"form": form}, status=400)
        if person is None:
            context = {"form": forms.FindPersonForm(), "not_found": True}
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
        FaceField.CARD_NUMBER: card.number or "Tilldelas när kortet tillverkas",
        FaceField.SIS_MARK: "SIS",
        FaceField.VALID_UNTIL: calendar.valid_until(kind, now).isoformat(),
    }

    def items(fields: tuple[FaceField, ...]) -> list[FaceItem]:
        return [FaceItem(f.value, FACE_LABELS[f], texts[f]) for f in fields]

    mime = "image/png" if photo.startswith(b"\x89PNG") else "image/jpeg"
    return FacePreview(
        orientation=face.orientation.value,
        front=items(face.front),
        back=items(face.back),
        photo_url=f"data:{mime};base64,{base64.b64encode(photo).decode('ascii')}",
        generation=generation.value,
    )


def _render_card(
    request: HttpRequest,
    card: Card,
    *,
    problem: Problem | None = None,
    status: int = 200,
    **replaced: Any,
) -> HttpResponse:
    state = CardState(card.state)
    is_photo = card.card_type == CardType.PHOTO
    row = reading.CardRow(card)
    context: dict[str, Any] = {
        "row": row,
        "person": reading.person_row(request.user, card.person),
        "problem": problem,
        "may_photograph": is_photo and can(state, CardAction.PHOTOGRAPH),
        "may_hand_out": can(state, CardAction.HAND_OUT),
        "may_activate": can(state, CardAction.ACTIVATE),
        "may_unlock": can(state, CardAction.UNLOCK_PIN),
        "unlock_at_office": is_photo and card.generation == Generation.PORTRAIT_2024,
        "may_block": card.state in LIVE_STATES,
        "photo_form": forms.PhotoForm(),
        "hand_out_form": forms.DocumentForm(prefix="lamna"),
        "activate_form": forms.ActivateForm(prefix="aktivera"),
        "unlock_form": forms.PinPairForm(prefix="lasupp"),
        "block_form": forms.office_block_form(),
        **replaced,
    }
    return render(request, "ekort/portal/office/card.html", context, status=status)


def _input_problem(form: str, card: Card, exc: DomainError) -> Problem:
    return Problem(form, card.pk, f"Uppgifterna kunde inte användas: {exc}")


class CardActionView(OfficeView):
    """An action on one card: POST only; the card page shows its form."""

    def card(self, card_id: int) -> Card:
        return get_object_or_404(
            Card.objects.select_related("person", "order", "block"), pk=card_id
        )

    def done(self, card: Card, text: str) -> HttpResponse:
        messages.success(self.request, text)
        return HttpResponseRedirect(reverse("portal:office-card", args=[card.pk]))


class CardView(CardActionView):
    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        return _render_card(request, self.card(card_id))


class PhotographView(CardActionView):
    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.PhotoForm(request.POST, request.FILES)
        if not form.is_valid():
            return _render_card(request, card, photo_form=form, status=400)
        photo: bytes = form.cleaned_data["photo"]
        try:
            card = cards.photograph(actor=request.user, card_id=card.pk, photo=photo, now=now())
        except Refused as exc:
            return _render_card(
                request, card, problem=Problem.refused("photo", card.pk, exc), status=409
            )
        except InvalidInput as exc:
            return _render_card(
                request, card, problem=_input_problem("photo", card, exc), status=400
            )
        card = self.card(card.pk)
        messages.success(request, "Fotot är taget. Kortet väntar nu på tillverkning.")
        return _render_card(request, card, preview=_face_preview(card, photo))


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
        try:
            cards.hand_out(actor=request.user, card_id=card.pk, document=_document(form), now=now())
        except Refused as exc:
            problem = Problem.refused("hand_out", card.pk, exc)
            return _render_card(request, card, problem=problem, hand_out_form=form, status=409)
        except InvalidInput as exc:
            problem = _input_problem("hand_out", card, exc)
            return _render_card(request, card, problem=problem, hand_out_form=form, status=400)
        return self.done(card, f"Kortet är utlämnat till {card.person.full_name}.")


class ActivateView(CardActionView):
    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.ActivateForm(request.POST, prefix="aktivera")
        if not form.is_valid():
            return _render_card(request, card, activate_form=form, status=400)
        try:
            cards.activate(
                actor=request.user,
                card_id=card.pk,
                document=_document(form),
                pin=form.cleaned_data["pin"],
                now=now(),
            )
        except Refused as exc:
            problem = Problem.refused("activate", card.pk, exc)
            return _render_card(request, card, problem=problem, activate_form=form, status=409)
        except InvalidInput as exc:
            problem = _input_problem("activate", card, exc)
            return _render_card(request, card, problem=problem, activate_form=form, status=400)
        return self.done(
            card, f"Kortet är aktiverat och säkerhetskoden är satt för {card.person.full_name}."
        )


class UnlockPinView(CardActionView):
    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.PinPairForm(request.POST, prefix="lasupp")
        if not form.is_valid():
            return _render_card(request, card, unlock_form=form, status=400)
        try:
            cards.unlock_pin(
                actor=request.user, card_id=card.pk, new_pin=form.cleaned_data["pin"], now=now()
            )
        except Refused as exc:
            problem = Problem.refused("unlock", card.pk, exc)
            return _render_card(request, card, problem=problem, status=409)
        except InvalidInput as exc:
            problem = _input_problem("unlock", card, exc)
            return _render_card(request, card, problem=problem, status=400)
        return self.done(card, "Pin-koden är upplåst och den nya säkerhetskoden är satt.")


class BlockView(CardActionView):
    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = forms.office_block_form(request.POST)
        if not form.is_valid():
            return _render_card(request, card, block_form=form, status=400)
        data = form.cleaned_data
        try:
            cards.block(
                actor=request.user,
                card_id=card.pk,
                reason=data["reason"],
                requested_by=data["requested_by"],
                note=data["note"],
                now=now(),
            )
        except Refused as exc:
            problem = Problem.refused("block", card.pk, exc)
            return _render_card(request, card, problem=problem, block_form=form, status=409)
        except InvalidInput as exc:
            problem = _input_problem("block", card, exc)
            return _render_card(request, card, problem=problem, block_form=form, status=400)
        return self.done(card, "Kortet är spärrat. Spärren kan inte hävas.")
