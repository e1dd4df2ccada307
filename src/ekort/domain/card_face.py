"""What is printed on a card, by generation (R5, E7, R17).

Only the layout: which fields go on which side, in reading order. Filling in names and
numbers belongs to whoever renders the card or its audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import InvalidInput
from .vocabulary import CardType, Generation


class Orientation(StrEnum):
    LANDSCAPE = "landscape"
    PORTRAIT = "portrait"


class FaceField(StrEnum):
    """The printed fields a card can carry."""

    HOLDER_NAME = "holder_name"
    PHOTO = "photo"
    REGION_LOGO = "region_logo"
    IDENTITY_NUMBER = "identity_number"  # personnummer; legacy cards only (R5)
    CARD_NUMBER = "card_number"
    SIS_MARK = "sis_mark"  # makes the card a legal identity document (R17)
    VALID_UNTIL = "valid_until"


@dataclass(frozen=True)
class CardFace:
    generation: Generation
    orientation: Orientation
    front: tuple[FaceField, ...]
    back: tuple[FaceField, ...]

    @property
    def fields(self) -> frozenset[FaceField]:
        """Every field printed anywhere on the card."""
        return frozenset(self.front) | frozenset(self.back)


def card_face(generation: Generation, card_type: CardType, sis_marked: bool) -> CardFace:
    """The layout of a card of this generation and type.

    Raise `InvalidInput` for a SIS marking that cannot exist: SIS-marked cards were last issued
    on 2022-09-30 (R17), long before the 2024 generation, and an identity document without a
    photo would prove nothing, so a reserve card is never SIS-marked either.
    """
    if sis_marked and generation is Generation.PORTRAIT_2024:
        raise InvalidInput(
            "A card of the 2024 generation is never SIS-marked; SIS-marked cards were issued "
            "up to 2022-09-30 only."
        )
    if sis_marked and card_type is CardType.RESERVE:
        raise InvalidInput("A reserve card has no photo and so cannot be SIS-marked.")

    # E7: a reserve card carries no photo, in either generation.
    photo = (FaceField.PHOTO,) if card_type is CardType.PHOTO else ()

    if generation is Generation.PORTRAIT_2024:
        # R5: the face shows only name, photo and logo; the card number is on the back; the
        # identity number appears nowhere, so a lost card does not give away a personnummer.
        return CardFace(
            generation=generation,
            orientation=Orientation.PORTRAIT,
            front=(FaceField.HOLDER_NAME, *photo, FaceField.REGION_LOGO),
            back=(FaceField.CARD_NUMBER,),
        )
    sis = (FaceField.SIS_MARK,) if sis_marked else ()
    return CardFace(
        generation=generation,
        orientation=Orientation.LANDSCAPE,
        front=(
            FaceField.HOLDER_NAME,
            *photo,
            FaceField.IDENTITY_NUMBER,
            FaceField.VALID_UNTIL,
            FaceField.REGION_LOGO,
            *sis,
        ),
        back=(FaceField.CARD_NUMBER,),
    )
