"""Identity documents and age at activation and hand-out (R7, R10, R17, E4, E5).

The ID administrator records which document was checked (kind, number, expiry); these
functions say whether that document, and the holder's age, are good enough.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from .errors import Decision, InvalidInput, decides
from .timekeeping import add_years
from .vocabulary import AssuranceLevel

if TYPE_CHECKING:
    from .policy_calendar import PolicyCalendar


class DocumentKind(StrEnum):
    # The cover letter asks for a valid *Swedish* identity document (R10); a foreign passport
    # is recorded as OTHER.
    PASSPORT = "passport"
    NATIONAL_ID_CARD = "national_id_card"
    DRIVING_LICENCE = "driving_licence"
    SIS_MARKED_CARD = "sis_marked_card"
    TAX_AGENCY_ID_CARD = "tax_agency_id_card"  # Skatteverkets id-kort
    COMPANY_CARD = "company_card"  # service ID without SIS marking (R17)
    OTHER = "other"

    @property
    def label_sv(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]


_LABELS: dict[DocumentKind, tuple[str, str]] = {
    DocumentKind.PASSPORT: ("Svenskt pass", "Swedish passport"),
    DocumentKind.NATIONAL_ID_CARD: ("Svenskt nationellt id-kort", "Swedish national ID card"),
    DocumentKind.DRIVING_LICENCE: ("Svenskt körkort", "Swedish driving licence"),
    DocumentKind.SIS_MARKED_CARD: ("SIS-märkt id- eller tjänstekort", "SIS-marked ID card"),
    DocumentKind.TAX_AGENCY_ID_CARD: ("Skatteverkets id-kort", "Swedish Tax Agency ID card"),
    DocumentKind.COMPANY_CARD: (
        "Företagskort (tjänstekort utan SIS-märkning)",
        "Company card (service ID without SIS marking)",
    ),
    DocumentKind.OTHER: ("Annan handling", "Other document"),
}

# The kinds that prove identity at assurance level 3 (docs/domain-notes.md, "Identity check at
# hand-out and activation").
ACCEPTED_KINDS: frozenset[DocumentKind] = frozenset(
    {
        DocumentKind.PASSPORT,
        DocumentKind.NATIONAL_ID_CARD,
        DocumentKind.DRIVING_LICENCE,
        DocumentKind.SIS_MARKED_CARD,
        DocumentKind.TAX_AGENCY_ID_CARD,
    }
)

_DOCUMENT_NUMBER = re.compile(r"[A-Za-z0-9]{4,20}")


def normalise_document_number(text: object) -> str:
    """The document number as recorded: spaces removed, letters in upper case.

    Numbers are often printed in groups ("AB 123 456"), so spaces are dropped; anything else
    outside A-Z and 0-9 is refused rather than guessed at. The number is not repeated in the
    message, since it identifies a person.
    """
    if not isinstance(text, str):
        raise InvalidInput("The document number must be given as text.")
    compact = "".join(text.split())
    # Checked before upper-casing: "ß".upper() is "SS", which would slip through.
    if _DOCUMENT_NUMBER.fullmatch(compact) is None:
        raise InvalidInput(
            "A document number is 4-20 letters (A-Z) and digits (0-9); spaces are ignored."
        )
    return compact.upper()


def sis_marked_on_issue(issued_on: date, calendar: PolicyCalendar) -> bool:
    """Whether a photo card issued on `issued_on` carries the SIS marking (R17).

    The last day SIS-marked cards were issued is the calendar's data (`sis_marked_photo_cards`
    per period), not a second date here.
    """
    return calendar.period_on(issued_on).sis_marked_photo_cards


@decides("E4", "R17")
def decide_identity_document(
    kind: DocumentKind, expires_on: date | None, checked_on: date, *, digital: bool = False
) -> Decision:
    """Does this document prove the holder's identity on `checked_on` (E4, R17)?

    A document is valid through its expiry date: `expires_on == checked_on` is accepted.
    R17 decides both ways for cards: a SIS-marked card is accepted by it, a company card
    refused by it; every other document is accepted or refused by E4.
    """
    if kind is DocumentKind.COMPANY_CARD:
        return Decision.refuse(
            "R17",
            "Ett kort utan SIS-märkning är bara en tjänstelegitimation, inte en id-handling.",
            "A card without SIS marking is only a service ID, not an identity document.",
        )
    if kind not in ACCEPTED_KINDS:
        return Decision.refuse(
            "E4",
            "Handlingen godtas inte. Godkända id-handlingar är svenskt pass, nationellt id-kort, "
            "körkort, SIS-märkt kort och Skatteverkets id-kort.",
            "This document is not accepted. Accepted identity documents are a Swedish passport, "
            "national ID card or driving licence, a SIS-marked card and the Swedish Tax "
            "Agency's ID card.",
        )
    if digital:
        return Decision.refuse(
            "E4",
            "Id-handlingen ska visas upp i fysisk form; digitala id-handlingar godtas inte.",
            "The identity document must be shown physically; a digital ID is not accepted.",
        )
    if expires_on is None:
        return Decision.refuse(
            "E4",
            "Ange id-handlingens sista giltighetsdag.",
            "The identity document's expiry date must be recorded.",
        )
    if expires_on < checked_on:
        return Decision.refuse(
            "E4",
            f"Id-handlingen gällde till och med {expires_on.isoformat()} och är inte längre "
            "giltig.",
            f"The identity document was valid until {expires_on.isoformat()} and has expired.",
        )
    if kind is DocumentKind.SIS_MARKED_CARD:
        return Decision.allow(
            "R17",
            f"{kind.label_sv} godtas: SIS-märkta kort är giltig legitimation.",
            f"{kind.label_en} is accepted: SIS-marked cards are valid identity documents.",
        )
    return Decision.allow(
        "E4",
        f"{kind.label_sv} godtas som id-handling.",
        f"{kind.label_en} is accepted as an identity document.",
    )


MINIMUM_AGE: dict[AssuranceLevel, int] = {AssuranceLevel.LOA3: 18, AssuranceLevel.LOA2: 15}


def birthday_of_age(birth_date: date, age: int) -> date:
    """The day a person born on `birth_date` completes `age` years.

    Someone born on 29 February completes a year on 28 February in a common year: ekort reads
    "N years" as calendar years clamped to the month's end, the same reading it uses for the
    three-month activation window (R8). So 2004-02-29 turns 18 on 2022-02-28, not 2022-03-01.
    """
    return add_years(birth_date, age)


@decides("E5")
def decide_holder_age(birth_date: date, on: date, level: AssuranceLevel) -> Decision:
    """Is the holder old enough on `on` for a card at `level` (E5: 18 for LoA3, 15 for LoA2)?"""
    if birth_date > on:
        raise InvalidInput(
            f"The birth date {birth_date.isoformat()} lies after {on.isoformat()}; check it."
        )
    age = MINIMUM_AGE[level]
    comes_of_age = birthday_of_age(birth_date, age)
    if on < comes_of_age:
        return Decision.refuse(
            "E5",
            f"Kortinnehavaren måste ha fyllt {age} år för tillitsnivå {level.value} och fyller "
            f"{age} först {comes_of_age.isoformat()}.",
            f"The holder must be at least {age} for assurance level {level.value} and turns "
            f"{age} on {comes_of_age.isoformat()}.",
        )
    return Decision.allow(
        "E5",
        f"Kortinnehavaren har fyllt {age} år.",
        f"The holder is {age} or older.",
    )
