"""The certificates on a card: listing them (whoever may see the card), and the holder's
self-service on their own active card, as on Mina sidor: the signature certificate with a code
of the holder's own (R12), and one additional certificate at a time from another region (R13).

The PIN and the signature code travel in the body only, go to the card's chip and nowhere else,
and are never echoed: a wrong PIN is a 422 that says so without repeating it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ekort.services import clock, visibility
from ekort.services.ca import holder_certificates
from ekort.store.models import Certificate

from . import shapes
from .schemas import ERRORS, AdditionalIn, CertificateOut, PathId, RemoveAdditionalIn, SignatureIn

router = Router()
ISSUED = {201: CertificateOut, **ERRORS}


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


@router.get("/cards/{card_id}/certificates", response={200: list[CertificateOut], **ERRORS})
def certificates(request: HttpRequest, card_id: PathId) -> Any:
    """Every certificate the card has had (R11-R13), oldest first, removed ones included."""
    card = visibility.card_for(_actor(request), card_id)
    found = Certificate.objects.filter(card=card).select_related("issuer").order_by("pk")
    return [shapes.certificate_out(c) for c in found]


@router.post("/cards/{card_id}/signature-certificate", response=ISSUED)
def signature_certificate(request: HttpRequest, card_id: PathId, body: SignatureIn) -> Any:
    """The holder downloads a signature certificate to their own active card and chooses its
    code (R12; the code follows the PIN's rules, E6). One per card."""
    record = holder_certificates.download_signature_certificate(
        actor=_actor(request),
        card_id=card_id,
        pin=body.pin.get_secret_value(),
        signature_code=body.signature_code.get_secret_value(),
        now=clock.now(),
    )
    return Status(201, shapes.certificate_out(record))


def _additional(request: HttpRequest, card_id: int, body: AdditionalIn, *, swap: bool) -> Any:
    record = holder_certificates.add_additional_certificate(
        actor=_actor(request),
        card_id=card_id,
        pin=body.pin.get_secret_value(),
        issuer_name=body.issuer,
        swap=swap,
        now=clock.now(),
    )
    return Status(201, shapes.certificate_out(record))


@router.post("/cards/{card_id}/additional-certificate", response=ISSUED)
def add_additional(request: HttpRequest, card_id: PathId, body: AdditionalIn) -> Any:
    """Put another region's certificate on the holder's own active card. A card holds at most
    one (R13): with one there already this is refused; swap or remove it instead."""
    return _additional(request, card_id, body, swap=False)


@router.post("/cards/{card_id}/additional-certificate/swap", response=ISSUED)
def swap_additional(request: HttpRequest, card_id: PathId, body: AdditionalIn) -> Any:
    """Replace the additional certificate on the card (revoked and removed) with a new one, in
    one step (R13)."""
    return _additional(request, card_id, body, swap=True)


@router.post(
    "/cards/{card_id}/additional-certificate/remove",
    response={200: CertificateOut, **ERRORS},
)
def remove_additional(request: HttpRequest, card_id: PathId, body: RemoveAdditionalIn) -> Any:
    """Remove the additional certificate from the card; it is revoked (R13). Returns it."""
    removed = holder_certificates.remove_additional_certificate(
        actor=_actor(request),
        card_id=card_id,
        pin=body.pin.get_secret_value(),
        now=clock.now(),
    )
    removed.refresh_from_db()
    return shapes.certificate_out(removed)
