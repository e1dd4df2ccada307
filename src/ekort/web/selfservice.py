"""Mina sidor, the certificates on the holder's own card: download a signature certificate and
choose its code (R12); add, swap or remove the one additional certificate from another region
(R13).

Only the holder, only an active card of their own: any other card is 404 whatever its id. The
card's PIN goes to the chip, and the new signature code too; neither is rendered back, stored
or logged (`sensitive_post_parameters` keeps them out of error reports as well). A wrong PIN or
a code that is not accepted is shown next to its field; a rule that refuses, next to the form.
Which forms a page offers is asked of `ekort.domain.card_certificates`, the same functions the
services ask before they change the card (R12, R13).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters

from ekort.domain.card_certificates import (
    AdditionalChange,
    decide_additional_certificate,
    decide_signature_certificate,
)
from ekort.domain.errors import InvalidInput, Refused
from ekort.domain.lifecycle import CardState
from ekort.domain.vocabulary import Role
from ekort.services import clock
from ekort.services.ca import holder_certificates
from ekort.store.models import Card, Certificate

from . import reading
from .certificates import certificate_rows, live_certificate, live_certificates
from .page_access import RoleRequiredMixin, own_card
from .reading import Problem
from .selfservice_forms import AdditionalForm, RemoveAdditionalForm, SignatureForm

SECRETS = ("pin", "code", "code_repeat")
PEM, DER = "pem", "der"
# RFC 2585 names DER certificates application/pkix-cert; PEM has no registered type, and this
# is the one browsers and operating systems know.
CONTENT_TYPES = {PEM: "application/x-pem-file", DER: "application/pkix-cert"}


def wrong_pin(detail: str) -> str:
    """The chip's answer to the PIN (in English, from the card reader), in the page's words."""
    if detail.startswith("Wrong PIN"):
        return _("Pin-koden stämmer inte. Efter tre felaktiga försök i rad spärras pin-koden.")
    if "PIN is blocked" in detail:
        return _(
            "Pin-koden är spärrad efter tre felaktiga försök. Lås upp den med puk-koden från "
            "ditt pin/puk-brev eller hos en id-administratör."
        )
    if "locked for good" in detail:
        return _("Kortet är låst för gott. Din närmaste chef beställer ett nytt kort.")
    return _("Kortet godtog inte pin-koden. Försök igen, eller kontakta supporten.")


@method_decorator(sensitive_post_parameters(*SECRETS), name="dispatch")
class OwnCardView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = frozenset({Role.HOLDER})
    template_name = ""

    def card(self, card_id: int) -> Card:
        """The account's own card, if active: the chip can take new keys only then."""
        return own_card(self.request.user, card_id, state=CardState.ACTIVE)

    def page(
        self,
        card: Card,
        form: django_forms.Form,
        *,
        problem: Problem | None = None,
        status: int = 200,
    ) -> HttpResponse:
        signature = live_certificate(card, Certificate.Profile.SIGNATURE)
        additional = live_certificate(card, Certificate.Profile.ADDITIONAL)
        has_additional = additional is not None
        context = {
            "row": reading.CardRow(card),
            "form": form,
            "problem": problem,
            "certificates": certificate_rows(card),
            "signature": signature,
            "additional": additional,
            # The forms offered are the ones the rules allow now (R12, R13).
            "may_download": decide_signature_certificate(has_signature=signature is not None),
            "may_add": decide_additional_certificate(
                AdditionalChange.ADD, has_additional=has_additional
            ),
            "may_remove": decide_additional_certificate(
                AdditionalChange.REMOVE, has_additional=has_additional
            ),
        }
        return render(self.request, self.template_name, context, status=status)

    def refused(self, card: Card, form: django_forms.Form, exc: Refused) -> HttpResponse:
        return self.page(
            card, form, problem=Problem.refused("certificate", card.pk, exc), status=409
        )

    def done(self, card: Card, text: str, to: str) -> HttpResponse:
        messages.success(self.request, text)
        return HttpResponseRedirect(reverse(to, args=[card.pk]))


class CertificateFormView(OwnCardView):
    """A form that the holder confirms with the card's PIN, then one service call: the page
    again with the problem next to the form (a wrong PIN at its field, 400; a refusal with its
    rule, 409), or a message and the certificate page."""

    form_class: type[django_forms.Form]

    def carry_out(self, card: Card, data: dict[str, Any]) -> tuple[str, str]:
        """Call the service; return the message and the URL name to go to."""
        raise NotImplementedError

    def get(self, request: HttpRequest, card_id: int) -> HttpResponse:
        return self.page(self.card(card_id), self.form_class())

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = self.card(card_id)
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.page(card, form, status=400)
        try:
            text, to = self.carry_out(card, form.cleaned_data)
        except InvalidInput as exc:
            form.add_error("pin", wrong_pin(str(exc)))
            return self.page(card, form, status=400)
        except Refused as exc:
            return self.refused(card, form, exc)
        return self.done(card, text, to)


class SignatureView(CertificateFormView):
    """R12: the holder asks for a signature certificate and chooses its code, twice."""

    template_name = "ekort/portal/selfservice/signature.html"
    form_class = SignatureForm

    def carry_out(self, card: Card, data: dict[str, Any]) -> tuple[str, str]:
        holder_certificates.download_signature_certificate(
            actor=self.request.user,
            card_id=card.pk,
            pin=data["pin"],
            signature_code=data["code"],
            now=clock.now(),
        )
        text = _(
            "Underskriftscertifikatet finns nu på kortet. Du skriver under med den "
            "underskriftskod du valde."
        )
        return text, "portal:certificates-signature"


class AdditionalView(CertificateFormView):
    """R13: at most one additional certificate at a time; add one, or swap the one there."""

    template_name = "ekort/portal/selfservice/additional.html"
    form_class = AdditionalForm

    def carry_out(self, card: Card, data: dict[str, Any]) -> tuple[str, str]:
        swap = self.request.POST.get("action") == "swap"
        holder_certificates.add_additional_certificate(
            actor=self.request.user,
            card_id=card.pk,
            pin=data["pin"],
            issuer_name=data["issuer"],
            swap=swap,
            now=clock.now(),
        )
        text = (
            _("Tilläggscertifikatet är bytt. Det gamla är spärrat och borttaget från kortet.")
            if swap
            else _("Tilläggscertifikatet finns nu på kortet.")
        )
        return text, "portal:certificates-additional"


class RemoveAdditionalView(CertificateFormView):
    """R13: remove the additional certificate, after a confirmation."""

    template_name = "ekort/portal/selfservice/remove_additional.html"
    form_class = RemoveAdditionalForm

    def carry_out(self, card: Card, data: dict[str, Any]) -> tuple[str, str]:
        holder_certificates.remove_additional_certificate(
            actor=self.request.user, card_id=card.pk, pin=data["pin"], now=clock.now()
        )
        text = _("Tilläggscertifikatet är spärrat och borttaget från kortet.")
        return text, "portal:certificates-additional"


class DownloadView(OwnCardView):
    """A certificate that is on the card now, as PEM or DER (to install it, or to give it to a
    system that asks for it). Removed and replaced ones are not offered."""

    encoding = PEM

    def get(self, request: HttpRequest, card_id: int, certificate_id: int) -> HttpResponse:
        card = self.card(card_id)
        certificate = live_certificates(card).filter(pk=certificate_id).first()
        if certificate is None:
            raise Http404("The card holds no such certificate.")
        der = bytes(certificate.der)
        body = der if self.encoding == DER else _pem(der)
        response = HttpResponse(body, content_type=CONTENT_TYPES[self.encoding])
        extension = "cer" if self.encoding == DER else "pem"
        filename = f"{card.number or card.pk}-{certificate.profile}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _pem(der: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
