"""PIN and PUK formats (E6) and the questions about a card's codes (R14-R16)."""

from __future__ import annotations

import pytest

from ekort.domain.errors import InvalidInput, Refused
from ekort.domain.pins import CodeRequest, decide_codes, decide_pin, validate_pin, validate_puk
from ekort.domain.vocabulary import CardType, Generation, LetterKind

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


def test_decide_pin_allows_a_pin_hard_to_guess() -> None:
    decision = decide_pin(PIN_6)
    assert (decision.allowed, decision.rule) == (True, "E6")


def test_decide_pin_refuses_a_pin_easy_to_guess_with_the_sentences_validate_pin_raises() -> None:
    decision = decide_pin("123456")
    assert (decision.allowed, decision.rule) == (False, "E6")
    with pytest.raises(Refused) as raised:
        validate_pin("123456")
    assert (raised.value.sv, raised.value.en) == (decision.sv, decision.en)


UNLOCK = CodeRequest.UNLOCK_AT_OFFICE
SEND = CodeRequest.SEND_LETTER
PRINT = CodeRequest.PRINT_LETTER
PIN_LETTER = LetterKind.PIN_PUK_LETTER
ENVELOPE = LetterKind.CODE_ENVELOPE
COVER = LetterKind.COVER_LETTER


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
    decision = decide_codes(UNLOCK, card_type, generation)
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
    decision = decide_codes(SEND, card_type, generation)
    assert (decision.allowed, decision.rule) == (allowed, rule)
    assert decision.sv
    assert decision.en


def test_reserve_pin_letter_refusal_says_what_to_do() -> None:
    decision = decide_codes(SEND, RESERVE, NEW)
    assert decision.en == (
        "No new code letter can be ordered for a reserve card; if the letter is lost the "
        "manager must order a new card."
    )
    assert "reservkort" in decision.sv
    assert "chef" in decision.sv


@pytest.mark.parametrize(("generation", "rule"), [(NEW, "R14"), (LEGACY, "R15")])
def test_a_pin_letter_needs_a_registered_address_under_the_cards_route(
    generation: Generation, rule: str
) -> None:
    decision = decide_codes(SEND, PHOTO, generation, has_address=False)
    assert (decision.allowed, decision.rule) == (False, rule)
    assert decision.en.endswith("The person has no registered address recorded in ekort.")
    assert decision.sv.endswith("Personen saknar registrerad folkbokföringsadress i ekort.")
    # A reserve card is refused by R16 before its address matters.
    assert decide_codes(SEND, RESERVE, generation, has_address=False).rule == "R16"


@pytest.mark.parametrize(("generation", "rule"), [(NEW, "R14"), (LEGACY, "R15")])
def test_a_pin_letter_still_in_the_queue_is_not_sent_again(
    generation: Generation, rule: str
) -> None:
    decision = decide_codes(SEND, PHOTO, generation, waiting=True)
    assert (decision.allowed, decision.rule) == (False, rule)
    assert decision.sv == "Brevet ligger redan i utskriftskön och har inte skrivits ut än."
    assert decide_codes(SEND, RESERVE, generation, waiting=True).rule == "R16"


@pytest.mark.parametrize("card_type", list(CardType))
@pytest.mark.parametrize("waiting", [True, False])
def test_a_code_envelope_is_never_sent_again(card_type: CardType, waiting: bool) -> None:
    decision = decide_codes(SEND, card_type, NEW, letter=ENVELOPE, waiting=waiting)
    assert (decision.allowed, decision.rule) == (False, "R16")
    assert "nytt kort" in decision.sv and "never sent again" in decision.en


def test_a_cover_letter_is_not_a_code_question() -> None:
    with pytest.raises(ValueError, match="letter_rules"):
        decide_codes(SEND, PHOTO, NEW, letter=COVER)


@pytest.mark.parametrize(
    ("letter", "card_type", "waiting", "allowed", "rule"),
    [
        (PIN_LETTER, PHOTO, True, True, "R14"),
        (PIN_LETTER, PHOTO, False, False, "R14"),
        (ENVELOPE, RESERVE, True, True, "R16"),
        (ENVELOPE, RESERVE, False, False, "R16"),
        (ENVELOPE, PHOTO, False, True, "R16"),  # a photo card's envelope carries no PUK
    ],
)
def test_a_printed_letter_with_the_puk_is_not_printed_again(
    letter: LetterKind, card_type: CardType, waiting: bool, allowed: bool, rule: str
) -> None:
    decision = decide_codes(PRINT, card_type, NEW, letter=letter, waiting=waiting)
    assert (decision.allowed, decision.rule) == (allowed, rule)


@pytest.mark.parametrize("card_type", list(CardType))
@pytest.mark.parametrize("generation", list(Generation))
def test_a_printed_cover_letter_may_be_printed_again(
    card_type: CardType, generation: Generation
) -> None:
    assert decide_codes(PRINT, card_type, generation, letter=COVER).allowed


@pytest.mark.parametrize("card_type", list(CardType))
@pytest.mark.parametrize("generation", list(Generation))
def test_a_pin_letter_is_ordered_where_the_office_cannot_unlock_except_for_reserve_cards(
    card_type: CardType, generation: Generation
) -> None:
    """R14 allows both routes, R15 only the letter, R16 neither: the envelope's PUK."""
    office = decide_codes(UNLOCK, card_type, generation)
    letter = decide_codes(SEND, card_type, generation)
    assert (office.allowed, letter.allowed) == {
        "R14": (True, True),
        "R15": (False, True),
        "R16": (False, False),
    }[office.rule]
    assert letter.rule == office.rule
