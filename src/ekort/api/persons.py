"""Persons: search (identity numbers in the body only), read, register."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ekort.domain.errors import InvalidInput
from ekort.domain.vocabulary import Role
from ekort.services import clock, people, search, visibility
from ekort.services.roles import require_role

from . import shapes
from .schemas import ERRORS, CardOut, PathId, PersonIn, PersonOut, PersonSearchIn

router = Router()


@router.post("/search", response={200: list[PersonOut], **ERRORS})
def search_persons(request: HttpRequest, body: PersonSearchIn) -> Any:
    """Find a person by exactly one of identity number, HSA-id or card number. Only persons
    the caller may see are returned (an orderer: the persons they manage)."""
    actor = request.auth  # type: ignore[attr-defined]
    require_role(actor, Role.ORDERER, *visibility.STAFF)
    given = {k: v for k, v in body.dict().items() if v not in (None, "")}
    if len(given) != 1:
        raise InvalidInput("Search by exactly one of identity_number, hsa_id or card_number.")
    ((field, text),) = given.items()
    persons = search.persons_matching(
        text,
        now=clock.now(),
        kind=search.QueryKind(field),
        within=visibility.visible_persons(actor),
    )
    return [shapes.person_out(actor, person, listed=True) for person in persons[:10]]


@router.post("", response={201: PersonOut, **ERRORS})
def register_person(request: HttpRequest, body: PersonIn) -> Any:
    """Add a person to the register (issuer administrator or support)."""
    actor = request.auth  # type: ignore[attr-defined]
    person = people.register_person(
        actor=actor, details=people.PersonDetails(**body.dict()), now=clock.now()
    )
    return Status(201, shapes.person_out(actor, person))


@router.get("/{person_id}", response={200: PersonOut, **ERRORS})
def get_person(request: HttpRequest, person_id: PathId) -> Any:
    """A person the caller may see. The address of a person with protected identity is shown
    only to ID administrators, support and issuer administrators."""
    actor = request.auth  # type: ignore[attr-defined]
    return shapes.person_out(actor, visibility.person_for(actor, person_id))


@router.get("/{person_id}/cards", response={200: list[CardOut], **ERRORS})
def person_cards(request: HttpRequest, person_id: PathId) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    person = visibility.person_for(actor, person_id)
    cards = visibility.visible_cards(actor).filter(person=person).order_by("pk")
    return [shapes.card_out(card) for card in cards]
