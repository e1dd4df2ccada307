"""What is printed on a card, by generation (R5), type (E7) and SIS marking (R17)."""

from __future__ import annotations

import pytest

from ekort.domain.card_face import CardFace, FaceField, Orientation, card_face
from ekort.domain.errors import InvalidInput
from ekort.domain.vocabulary import CardType, Generation

PHOTO, RESERVE = CardType.PHOTO, CardType.RESERVE
NEW, LEGACY = Generation.PORTRAIT_2024, Generation.LEGACY

F = FaceField


@pytest.mark.parametrize(
    ("generation", "card_type", "sis_marked", "orientation", "front", "back"),
    [
        (NEW, PHOTO, False, "portrait", ("holder_name", "photo", "region_logo"), ("card_number",)),
        (NEW, RESERVE, False, "portrait", ("holder_name", "region_logo"), ("card_number",)),
        (
            LEGACY,
            PHOTO,
            True,
            "landscape",
            ("holder_name", "photo", "identity_number", "valid_until", "region_logo", "sis_mark"),
            ("card_number",),
        ),
        (
            LEGACY,
            PHOTO,
            False,
            "landscape",
            ("holder_name", "photo", "identity_number", "valid_until", "region_logo"),
            ("card_number",),
        ),
        (
            LEGACY,
            RESERVE,
            False,
            "landscape",
            ("holder_name", "identity_number", "valid_until", "region_logo"),
            ("card_number",),
        ),
    ],
)
def test_layouts(
    generation: Generation,
    card_type: CardType,
    sis_marked: bool,
    orientation: str,
    front: tuple[str, ...],
    back: tuple[str, ...],
) -> None:
    face = card_face(generation, card_type, sis_marked)
    assert face == CardFace(generation, Orientation(orientation), face.front, face.back)
    assert face.orientation == orientation
    assert face.front == front
    assert face.back == back


@pytest.mark.parametrize("card_type", list(CardType))
def test_new_generation_never_shows_the_identity_number(card_type: CardType) -> None:
    # R5: the personnummer is not shown anywhere on the card, front or back.
    assert F.IDENTITY_NUMBER not in card_face(NEW, card_type, sis_marked=False).fields


@pytest.mark.parametrize("generation", list(Generation))
def test_reserve_cards_have_no_photo(generation: Generation) -> None:
    assert F.PHOTO not in card_face(generation, RESERVE, sis_marked=False).fields  # E7


@pytest.mark.parametrize("generation", list(Generation))
@pytest.mark.parametrize("card_type", list(CardType))
def test_card_number_is_on_the_back(generation: Generation, card_type: CardType) -> None:
    face = card_face(generation, card_type, sis_marked=False)
    assert face.back == (F.CARD_NUMBER,)
    assert F.CARD_NUMBER not in face.front


@pytest.mark.parametrize(
    ("generation", "card_type"),
    [(NEW, PHOTO), (NEW, RESERVE), (LEGACY, RESERVE)],
)
def test_impossible_sis_marking_is_invalid_input(
    generation: Generation, card_type: CardType
) -> None:
    with pytest.raises(InvalidInput):
        card_face(generation, card_type, sis_marked=True)
