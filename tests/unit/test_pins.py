"""PIN and PUK formats (E6) and the PIN unlock routes (R14-R16)."""

from __future__ import annotations

import pytest

from ekort.domain.errors import InvalidInput, Refused
from ekort.domain.pins import (
    UnlockRoute,
    decide_office_unlock,
    decide_pin_letter,
    unlock_routes,
    validate_pin,
    validate_puk,
)
from ekort.domain.vocabulary import CardType, Generation

# Around the length limits of E6: 6-8 digits for a PIN, exactly 8 for a PUK.
PIN_5 = "50713"
PIN_6 = "507139"
PIN_8 = "50713928"
PIN_9 = "507139284"

PHOTO, RESERVE = CardType.PHOTO, CardType.RESERVE
NEW, LEGACY = Generation.PORTRAIT_2024, Generation.LEGACY


@pytest.mark.parametrize("pin", [PIN_6, "5071392", PIN_8, "000001", "135790", "12345670"])
def test_well_formed_pins_are_returned_unchanged(pin: str) -> None:
    assert validate_pin(pin) == pin


@pytest.mark.parametrize(
    "pin",
    [
        PIN_5,
        PIN_9,
        "",
        "50713a",
        " 507139",
        "507139\n",  # a regex with $ would let the newline through
        "507 139",
        "５０７１３９",  # full-width digits: isdigit() says yes, the keypad says no
        "٥٠٧١٣٩",  # Arabic-Indic digits
        "-507139",
    ],
)
def test_malformed_pins_are_invalid_input(pin: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_pin(pin)
    assert not isinstance(raised.value, Refused)
    if pin.strip():
        assert pin.strip() not in str(raised.value)


@pytest.mark.parametrize("pin", [507139, None, b"507139", ["507139"]])
def test_a_pin_that_is_not_text_is_invalid_input(pin: object) -> None:
    with pytest.raises(InvalidInput):
        validate_pin(pin)


@pytest.mark.parametrize(
    "pin",
    ["000000", "99999999", "123456", "1234567", "12345678", "234567", "987654", "98765432"],
)
def test_too_simple_pins_are_refused_under_e6_without_echoing_the_pin(pin: str) -> None:
    with pytest.raises(Refused) as raised:
        validate_pin(pin)
    assert raised.value.rule == "E6"
    for text in (str(raised.value), raised.value.sv, raised.value.en):
        assert pin not in text


@pytest.mark.parametrize(
    "pin",
    [
        "123457",  # a run broken at the end
        "901234",  # no wrap-around: 9 then 0 is not a straight run
        "121212",
        "112233",
        "000001",
    ],
)
def test_near_runs_are_accepted(pin: str) -> None:
    assert validate_pin(pin) == pin


def test_malformed_pin_message_never_contains_the_pin() -> None:
    secret = "5071392845"  # ten digits: too long
    with pytest.raises(InvalidInput) as raised:
        validate_pin(secret)
    assert secret not in str(raised.value)
    assert "507139" not in str(raised.value)


@pytest.mark.parametrize("puk", [PIN_8, "00000000", "12345678"])
def test_eight_digit_puks_are_accepted(puk: str) -> None:
    assert validate_puk(puk) == puk


@pytest.mark.parametrize(
    "puk", ["5071392", PIN_9, "5071392a", "50713928\n", "５０７１３９２８", 50713928, None]
)
def test_other_puks_are_invalid_input(puk: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_puk(puk)
    if isinstance(puk, str) and puk.strip():
        assert puk.strip() not in str(raised.value)


@pytest.mark.parametrize(
    ("card_type", "generation", "routes"),
    [
        (PHOTO, NEW, {UnlockRoute.OFFICE, UnlockRoute.PUK_LETTER}),
        (PHOTO, LEGACY, {UnlockRoute.PUK_LETTER}),
        (RESERVE, NEW, {UnlockRoute.PUK_ENVELOPE}),
        (RESERVE, LEGACY, {UnlockRoute.PUK_ENVELOPE}),
    ],
)
def test_unlock_routes(
    card_type: CardType, generation: Generation, routes: set[UnlockRoute]
) -> None:
    assert unlock_routes(card_type, generation) == frozenset(routes)


@pytest.mark.parametrize(
    ("card_type", "generation", "allowed", "rule", "en_contains"),
    [
        (PHOTO, NEW, True, "R14", "ID administrator"),
        (PHOTO, LEGACY, False, "R15", "order a PIN/PUK letter"),
        (RESERVE, NEW, False, "R16", "envelope that came with the card"),
        (RESERVE, LEGACY, False, "R16", "manager must order a new card"),
    ],
)
def test_office_unlock(
    card_type: CardType, generation: Generation, allowed: bool, rule: str, en_contains: str
) -> None:
    decision = decide_office_unlock(card_type, generation)
    assert (decision.allowed, decision.rule) == (allowed, rule)
    assert en_contains in decision.en
    assert decision.sv


@pytest.mark.parametrize(
    ("card_type", "generation", "allowed", "rule"),
    [
        (PHOTO, NEW, True, "R14"),
        (PHOTO, LEGACY, True, "R15"),
        (RESERVE, NEW, False, "R16"),
        (RESERVE, LEGACY, False, "R16"),
    ],
)
def test_pin_letter(card_type: CardType, generation: Generation, allowed: bool, rule: str) -> None:
    decision = decide_pin_letter(card_type, generation)
    assert (decision.allowed, decision.rule) == (allowed, rule)
    assert decision.sv
    assert decision.en


def test_reserve_pin_letter_refusal_says_what_to_do() -> None:
    decision = decide_pin_letter(RESERVE, NEW)
    assert decision.en == (
        "No new code letter can be ordered for a reserve card; if the letter is lost the "
        "manager must order a new card."
    )
    assert "reservkort" in decision.sv
    assert "chef" in decision.sv


@pytest.mark.parametrize("card_type", list(CardType))
@pytest.mark.parametrize("generation", list(Generation))
def test_decisions_agree_with_the_routes(card_type: CardType, generation: Generation) -> None:
    routes = unlock_routes(card_type, generation)
    assert decide_office_unlock(card_type, generation).allowed == (UnlockRoute.OFFICE in routes)
    assert decide_pin_letter(card_type, generation).allowed == (UnlockRoute.PUK_LETTER in routes)
