"""The letter queue, blocks, and the rules in force at a date."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.params.functions import Query

from ekort.domain.rules_report import rules_json
from ekort.domain.timekeeping import parse_instant
from ekort.domain.vocabulary import Role
from ekort.services import clock, print_queue, visibility
from ekort.services.policy import current_calendar
from ekort.services.roles import require_role
from ekort.store.models import Block, Letter

from . import shapes
from .schemas import (
    ERRORS,
    MAX_ID,
    BlockOut,
    DetailOut,
    LetterOut,
    MarkedOut,
    MarkPrintedIn,
    PathId,
)

router = Router()

# A day from 1900 to 2099 that exists (29 February in leap years only), then optionally a time
# and an offset: what `?at=` takes, as a pattern, so that no well-formed request is refused.
_DAY = (
    r"(19|20)[0-9]{2}-(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
    r"|(19|20)[0-9]{2}-(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    r"|(19|20)[0-9]{2}-02-(0[1-9]|1[0-9]|2[0-8])"
    r"|(19(0[48]|[2468][048]|[13579][26])|20([02468][048]|[13579][26]))-02-29"
)
_TIME = r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?"
INSTANT = f"^({_DAY})({_TIME})?$"


@router.get("/letters", response={200: list[LetterOut], **ERRORS})
def letters(
    request: HttpRequest,
    include_printed: bool = False,
    limit: Annotated[int, Query(100, ge=1, le=1000)] = 100,
) -> Any:
    """The letters queued for printing, oldest first (issuer administrator)."""
    require_role(request.auth, Role.ISSUER_ADMIN)  # type: ignore[attr-defined]
    queue = Letter.objects.select_related("person").order_by("queued_at", "pk")
    if not include_printed:
        queue = queue.filter(printed_at__isnull=True, withdrawn_at__isnull=True)
    return [shapes.letter_out(letter) for letter in queue[:limit]]


PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "The letter, ready to print.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get("/letters/{letter_id}/pdf", response=ERRORS, openapi_extra=PDF_RESPONSE)
def letter_pdf(request: HttpRequest, letter_id: PathId) -> Any:
    """The letter as a PDF (issuer administrator). A letter that carries the PUK (a PIN/PUK
    letter, a reserve card's code envelope) is rendered until it is marked printed, and then
    refused (R14, R16): a lost one is replaced by ordering anew."""
    pdf = print_queue.letter_pdf(
        actor=request.auth,  # type: ignore[attr-defined]
        letter_id=letter_id,
        now=clock.now(),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="brev-{letter_id}.pdf"'
    # It may hold a PUK: no copy in any cache on the way.
    response["Cache-Control"] = "no-store"
    return response


@router.post("/letters/mark-printed", response={200: MarkedOut, **ERRORS})
def mark_printed(request: HttpRequest, body: MarkPrintedIn) -> Any:
    """Mark letters printed (issuer administrator); those printed already keep their time. An
    unknown id refuses the whole call (404) and marks nothing."""
    marked = print_queue.mark_printed(
        actor=request.auth,  # type: ignore[attr-defined]
        letter_ids=body.letter_ids,
        now=clock.now(),
    )
    return {"marked": marked}


@router.get("/blocks", response={200: list[BlockOut], **ERRORS})
def blocks(
    request: HttpRequest,
    card_id: Annotated[int | None, Query(None, ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(100, ge=1, le=1000)] = 100,
) -> Any:
    """The block of one card the caller may see (`?card_id=`), or, for staff, the latest
    blocks, newest first."""
    actor = request.auth  # type: ignore[attr-defined]
    if card_id is not None:
        card = visibility.card_for(actor, card_id)
        found = Block.objects.select_related("registered_by").filter(card=card)
    else:
        require_role(actor, *visibility.STAFF)
        found = Block.objects.select_related("registered_by").order_by("-registered_at", "-pk")
    return [shapes.block_out(block) for block in found[:limit]]


@router.get("/rules", auth=None, response={200: dict[str, Any], 422: DetailOut})
def rules(
    request: HttpRequest,
    at: Annotated[str | None, Query(None, max_length=40, pattern=INSTANT)] = None,
) -> Any:
    """The rules in force at a date or instant (`?at=2024-01-24`; default now). Public."""
    instant = parse_instant(at) if at else clock.now()
    return rules_json(current_calendar(), instant)
