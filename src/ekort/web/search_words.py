"""What a search page says when the text typed in names nobody, or names nothing at all: which
part is wrong (the form, the date, the check digit) or that the number is unknown, in a sentence
of the page's language. The domain says what is wrong (`IdentifierProblem`); the sentence never
repeats what was typed, so no identity number is echoed into the page.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ekort.domain.card_numbers import SEQUENCE_DIGITS
from ekort.domain.errors import InvalidIdentifier, InvalidInput
from ekort.domain.identifiers import IdentifierProblem as P
from ekort.services.search import QueryKind

_PROBLEMS: dict[str, Promise] = {
    P.MISSING: _("Skriv ett personnummer, ett HSA-id eller ett kortnummer."),
    P.IDENTITY_FORM: _(
        "Det ser inte ut som ett personnummer. Skriv det som ÅÅÅÅMMDD-NNNN (12 siffror) eller "
        "ÅÅMMDD-NNNN."
    ),
    P.IDENTITY_PLUS: _(
        "Plustecknet hör bara till den korta formen ÅÅMMDD+NNNN, för den som fyllt 100 år. "
        "Skriv ÅÅÅÅMMDD-NNNN."
    ),
    P.IDENTITY_DATE: _(
        "Personnumrets födelsedatum finns inte (i ett samordningsnummer är dagen ökad med 60). "
        "Kontrollera datumet."
    ),
    P.IDENTITY_FUTURE: _("Personnumrets födelsedatum ligger i framtiden. Kontrollera årtalet."),
    P.IDENTITY_CHECK_DIGIT: _(
        "Personnumrets kontrollsiffra, den sista siffran, stämmer inte. Kontrollera att alla "
        "siffror är rätt skrivna."
    ),
    P.HSA_FORM: _(
        "Det ser inte ut som ett HSA-id. Ett HSA-id är SE, organisationsnumrets tio siffror, ett "
        "bindestreck och minst ett tecken till, till exempel SE2321000016-abc1."
    ),
    P.HSA_LENGTH: _("Ett HSA-id har högst 31 tecken."),
    P.HSA_CHARACTERS: _(
        "Efter bindestrecket får ett HSA-id bara innehålla A–Z, a–z och 0–9 (inte å, ä, ö, @ "
        "eller mellanslag)."
    ),
    P.CARD_CHECK_DIGIT: _(
        "Kortnumrets kontrollsiffra, den sista siffran, stämmer inte. Kontrollera att alla "
        "siffror är rätt skrivna."
    ),
}

_NOT_FOUND: dict[QueryKind, Promise] = {
    QueryKind.IDENTITY_NUMBER: _("Ingen person med det personnumret finns i ekort."),
    QueryKind.HSA_ID: _("Ingen person med det HSA-id:t finns i ekort."),
    QueryKind.CARD_NUMBER: _("Inget kort med det kortnumret finns i ekort."),
    QueryKind.NAME: _("Ingen person med det namnet finns i ekort."),
}


def problem_sentence(exc: InvalidInput, *, names_allowed: bool) -> str:
    """What is wrong with the text, in the page's language. `names_allowed`: the page also
    searches by name (Kundtjänst), so text that is no identifier may be a name too short."""
    problem = exc.problem if isinstance(exc, InvalidIdentifier) else ""
    if problem == P.CARD_FORM:
        digits = len(settings.EKORT_CARD_NUMBER_PREFIX) + SEQUENCE_DIGITS + 1
        return gettext(
            "Ett kortnummer har %(digits)d siffror. Kontrollera numret på kortets baksida."
        ) % {"digits": digits}
    if problem == P.CARD_PREFIX:
        return gettext(
            "Regionens kortnummer börjar med %(prefix)s. Kontrollera numret på kortets baksida."
        ) % {"prefix": settings.EKORT_CARD_NUMBER_PREFIX}
    if problem in _PROBLEMS:
        return str(_PROBLEMS[problem])
    if names_allowed:
        return gettext(
            "Skriv minst två bokstäver av ett namn, eller ett personnummer (ÅÅÅÅMMDD-NNNN), ett "
            "HSA-id (SE…-…) eller kortnumret från kortets baksida."
        )
    return gettext(
        "Här söks med personnummer (ÅÅÅÅMMDD-NNNN), HSA-id (SE…-…) eller kortnumret från "
        "kortets baksida, inte med namn."
    )


def not_found_sentence(kind: QueryKind) -> str:
    """Nobody has the (valid) identifier, or nobody the name."""
    return str(_NOT_FOUND[kind])
