"""A letter with the PUK sent again waits for a second person (E14)."""

from __future__ import annotations

import pytest

from ekort.domain.letter_rules import (
    LetterStep,
    decide_letter_approval,
    needs_second_approval,
    order_needs_second_approval,
)
from ekort.domain.vocabulary import CardType, LetterKind


@pytest.mark.parametrize(
    ("kind", "card_type", "needed"),
    [
        (LetterKind.PIN_PUK_LETTER, CardType.PHOTO, True),
        (LetterKind.CODE_ENVELOPE, CardType.RESERVE, True),
        (LetterKind.CODE_ENVELOPE, CardType.PHOTO, False),
        (LetterKind.COVER_LETTER, CardType.PHOTO, False),
    ],
)
def test_only_a_letter_with_the_puk_needs_a_second_person(kind, card_type, needed):
    assert needs_second_approval(kind, card_type) is needed


@pytest.mark.parametrize(
    ("own_card", "orderer_prints", "needed"),
    [(False, True, True), (False, False, False), (True, True, False), (True, False, False)],
)
def test_an_ordered_letter_waits_when_who_ordered_it_for_another_also_prints(
    own_card, orderer_prints, needed
):
    assert (
        order_needs_second_approval(
            CardType.PHOTO, own_card=own_card, orderer_prints=orderer_prints
        )
        is needed
    )


def test_a_letter_awaiting_approval_is_not_printed():
    refused = decide_letter_approval(LetterStep.PRINT, awaiting=True)
    assert (refused.allowed, refused.rule) == (False, "E14")
    assert "godkänner" in refused.sv and "approves" in refused.en
    assert decide_letter_approval(LetterStep.PRINT, awaiting=False).allowed


def test_the_approver_is_not_who_sent_it_again():
    own = decide_letter_approval(LetterStep.APPROVE, awaiting=True, resent_by=7, actor=7)
    assert (own.allowed, own.rule) == (False, "E14") and "yourself" in own.en
    assert decide_letter_approval(LetterStep.APPROVE, awaiting=True, resent_by=7, actor=8).allowed
    nothing = decide_letter_approval(LetterStep.APPROVE, awaiting=False, resent_by=7, actor=8)
    assert not nothing.allowed and "no approval" in nothing.en


def test_who_ordered_a_letter_for_someone_else_does_not_print_it_unapproved():
    """Whatever roles they held when they ordered it: a role granted since changes nothing."""
    refused = decide_letter_approval(LetterStep.PRINT, awaiting=False, printer_ordered_it=True)
    assert (refused.allowed, refused.rule) == (False, "E14")
    assert "another issuer administrator" in refused.en and "annan utfärdare" in refused.sv
    assert decide_letter_approval(
        LetterStep.PRINT, awaiting=False, printer_ordered_it=False
    ).allowed
