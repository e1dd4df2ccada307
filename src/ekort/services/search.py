"""Finding persons by what a caller has in hand: an identity number, an HSA-id, a card number
or a name. The one lookup behind the ID administrator's "Hitta person", the support desk's
search and the API's persons/search.

Identifiers are parsed by the domain (a bad one raises InvalidInput naming what is wrong) and
matched exactly; a name matches persons whose given or family name starts with every word.
Callers pass `within` to limit the search to the persons the account may see.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.db.models import Q, QuerySet

from ekort.domain.card_numbers import SEQUENCE_DIGITS, parse_card_number
from ekort.domain.errors import InvalidInput
from ekort.domain.identifiers import parse_hsa_id, parse_identity_number
from ekort.domain.timekeeping import local_date, require_aware
from ekort.store.models import Person
from ekort.store.rosters import name_condition

MAX_RESULTS = 50
MIN_NAME_LENGTH = 2
_NUMBER_CHARACTERS = frozenset("0123456789-+ ")


class QueryKind(StrEnum):
    IDENTITY_NUMBER = "identity_number"
    HSA_ID = "hsa_id"
    CARD_NUMBER = "card_number"
    NAME = "name"


def kind_of(text: str) -> QueryKind:
    """What the text looks like. A name such as "Sebastian" also starts with "se", so an HSA-id
    is "SE" followed by a digit (the organisation number)."""
    cleaned = text.strip()
    if cleaned[:2].upper() == "SE" and cleaned[2:3].isdigit():
        return QueryKind.HSA_ID
    if cleaned and set(cleaned) <= _NUMBER_CHARACTERS:
        digits = sum(c.isdigit() for c in cleaned)
        card_digits = len(settings.EKORT_CARD_NUMBER_PREFIX) + SEQUENCE_DIGITS + 1
        return QueryKind.CARD_NUMBER if digits == card_digits else QueryKind.IDENTITY_NUMBER
    return QueryKind.NAME


def _by_identifier(kind: QueryKind, text: str, now: datetime) -> Q:
    if kind is QueryKind.IDENTITY_NUMBER:
        identity = parse_identity_number(text, today=local_date(now))
        return Q(identity_number=identity.digits)
    if kind is QueryKind.HSA_ID:
        return Q(hsa_id=str(parse_hsa_id(text)))
    if kind is QueryKind.CARD_NUMBER:
        number = parse_card_number(text, settings.EKORT_CARD_NUMBER_PREFIX)
        return Q(cards__number=number)
    return name_condition(require_name(text))


def require_name(text: str) -> str:
    """A name to search for, at least MIN_NAME_LENGTH letters; InvalidInput otherwise."""
    if len("".join(text.split())) < MIN_NAME_LENGTH:
        raise InvalidInput(f"Write at least {MIN_NAME_LENGTH} letters of the name.")
    return text


def persons_matching(
    text: object,
    *,
    now: datetime,
    kind: QueryKind | None = None,
    within: QuerySet[Person] | None = None,
) -> QuerySet[Person]:
    """The persons the text names, by family and given name, at most MAX_RESULTS.

    `kind` forces how the text is read (the API has one field per kind); without it the kind
    is guessed with `kind_of`. Raises InvalidInput for an identifier that is not valid."""
    require_aware(now)
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("Write an identity number, an HSA-id, a card number or a name.")
    cleaned = text.strip()[:100]
    condition = _by_identifier(kind or kind_of(cleaned), cleaned, now)
    persons = Person.objects.all() if within is None else within
    pks = persons.filter(condition).values("pk").distinct()
    return Person.objects.filter(pk__in=pks).order_by("family_name", "given_name", "pk")[
        :MAX_RESULTS
    ]


def find_persons(text: object, *, now: datetime) -> list[Person]:
    """Everyone the text names: an identifier names one person, a name perhaps several."""
    return list(persons_matching(text, now=now))


def find_person(text: object, *, now: datetime) -> Person | None:
    """The one person an identity number, HSA-id or card number belongs to; None if nobody's.
    A name is refused (InvalidInput): it is no identifier."""
    if isinstance(text, str) and kind_of(text) is QueryKind.NAME:
        raise InvalidInput("Write an identity number, an HSA-id or a card number.")
    return persons_matching(text, now=now).first()
