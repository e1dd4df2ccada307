"""The card lifecycle table, pair by pair (E1, E8, E9), and its generated documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from ekort.domain import card_words
from ekort.domain.errors import Refused
from ekort.domain.lifecycle import (
    FINAL_STATES,
    INITIAL_STATE,
    LIVE_STATES,
    OCCUPYING_STATES,
    CardAction,
    CardState,
    allowed_actions,
    can,
    next_state,
    render_markdown,
)
from ekort.domain.vocabulary import CardType

S, A = CardState, CardAction

# The columns of EXPECTED, in this order.
ACTIONS = (
    A.PHOTOGRAPH,
    A.PRODUCE,
    A.SEND_CODE_ENVELOPE,
    A.SEND_HOME,
    A.HAND_OUT,
    A.ACTIVATE,
    A.ORDER_PIN_LETTER,
    A.UNLOCK_PIN,
    A.MANAGE_CERTIFICATES,
    A.BLOCK,
    A.REPLACE,
    A.EXPIRE,
    A.CANCEL,
)
__ = None  # refused (E1)
ORD, PHO, PRO = S.ORDERED, S.PHOTOGRAPHED, S.PRODUCED
PICK, SENT, ACT = S.AWAITING_PICKUP, S.SENT_INACTIVE, S.ACTIVE
BLK, EXP, CAN = S.BLOCKED, S.EXPIRED, S.CANCELLED

# Written out by hand from the rules, not derived from the code: the state each action leads to.
# Columns: photograph, produce, send_code_envelope, send_home, hand_out, activate,
# order_pin_letter, unlock_pin, manage_certificates_on, block, replace, expire, cancel.
# fmt: off
EXPECTED: dict[CardState, tuple[CardState | None, ...]] = {
    #      photo produce envel. home  hand  activ letter unlock certs block repl. expire cancel
    ORD:  (PHO,  PRO,    __,    __,   __,   __,   __,    __,    __,   __,   __,   __,    CAN),
    PHO:  (__,   PRO,    __,    __,   __,   __,   __,    __,    __,   __,   __,   __,    CAN),
    PRO:  (__,   __,     PICK,  SENT, __,   __,   __,    __,    __,   BLK,  BLK,  EXP,   __),
    PICK: (__,   __,     __,    __,   ACT,  __,   __,    __,    __,   BLK,  BLK,  EXP,   __),
    SENT: (__,   __,     __,    __,   __,   ACT,  __,    __,    __,   BLK,  BLK,  EXP,   __),
    ACT:  (__,   __,     __,    __,   __,   __,   ACT,   ACT,   ACT,  BLK,  BLK,  EXP,   __),
    BLK:  (__,   __,     __,    __,   __,   __,   __,    __,    __,   __,   BLK,  __,    __),
    EXP:  (__,   __,     __,    __,   __,   __,   __,    __,    __,   __,   EXP,  __,    __),
    CAN:  (__,   __,     __,    __,   __,   __,   __,    __,    __,   __,   __,   __,    __),
}
# fmt: on

PAIRS = [(state, action) for state in EXPECTED for action in ACTIONS]


def expected(state: CardState, action: CardAction) -> CardState | None:
    return EXPECTED[state][ACTIONS.index(action)]


def expected_allowed(state: CardState) -> set[CardAction]:
    return {action for action in ACTIONS if expected(state, action) is not None}


def test_the_expected_table_covers_every_state_and_action():
    assert sorted(ACTIONS) == sorted(CardAction)
    assert len(ACTIONS) == len(CardAction)
    assert set(EXPECTED) == set(CardState)
    assert all(len(row) == len(ACTIONS) for row in EXPECTED.values())


# Two transitions are for one card type: a photo card is photographed, a reserve card goes
# from ordered to produced without (test_a_photo_card_is_photographed_before_it_is_produced).
# Elsewhere either type takes the table's transitions.
RESERVE, PHOTO = CardType.RESERVE, CardType.PHOTO


def kind(state: CardState, action: CardAction) -> CardType:
    return PHOTO if action is A.PHOTOGRAPH else RESERVE


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_state_action_pair(state: CardState, action: CardAction):
    target = expected(state, action)
    if target is not None:
        assert next_state(state, action, kind(state, action)) is target
        assert can(state, action, kind(state, action))
        return
    assert not can(state, action, kind(state, action))
    with pytest.raises(Refused) as refused:
        next_state(state, action, kind(state, action))
    error = refused.value
    if (state, action) == (S.BLOCKED, A.BLOCK):
        assert error.rule == "E9"  # a block is final
        assert error.en.endswith("The card is already blocked.")
        return
    assert error.rule == "E1"
    assert str(error).startswith("E1: ")
    assert error.sv.startswith("Åtgärden är inte tillåten")
    # In words, both languages: no state or action by its code name (issue 15).
    state_sv, state_en = card_words.STATES[state]
    assert state_sv in error.sv and "_" not in error.sv + error.en and "'" not in error.sv
    # "Already" when the action leads to this very state elsewhere in the table: the usual
    # loser of a race (two administrators activating the same card) reads "already active".
    already = any(expected(source, action) is state for source in EXPECTED)
    lead = (
        f"The card is already {state_en}."
        if already
        else f"Cannot {card_words.ACTIONS[action][1]} a card that is {state_en}."
    )
    assert error.en.startswith(lead + " Allowed in this state: ")
    listed = error.en.split("Allowed in this state: ", 1)[1].removesuffix(".")
    allowed = expected_allowed(state)
    if allowed:
        assert set(listed.split(", ")) == {card_words.ACTIONS[a][1] for a in allowed}
        assert error.sv.endswith(
            "Det som går nu: "
            + ", ".join(card_words.ACTIONS[a][0] for a in allowed_actions(state))
            + "."
        )
    else:
        assert listed == "nothing (the state is final)"
        assert error.sv.endswith("Inget mer går att göra med kortet.")


@pytest.mark.parametrize(
    ("state", "action", "en"),
    [
        (
            S.ACTIVE,
            A.ACTIVATE,
            "The card is already active. Allowed in this state: order a PIN/PUK letter, "
            "unlock the PIN, change the certificates, block, replace, let expire.",
        ),
        (
            S.ORDERED,
            A.BLOCK,
            "Cannot block a card that is ordered. Allowed in this state: "
            "photograph, produce, cancel the order.",
        ),
        (
            S.CANCELLED,
            A.CANCEL,
            "The card is already cancelled. Allowed in this state: nothing (the state is final).",
        ),
    ],
)
def test_refusal_messages_in_full(state: CardState, action: CardAction, en: str):
    with pytest.raises(Refused) as refused:
        next_state(state, action)
    assert refused.value.en == en


@pytest.mark.parametrize("state", list(EXPECTED))
def test_allowed_actions_match_the_table(state: CardState):
    assert set(allowed_actions(state)) == expected_allowed(state)
    assert len(allowed_actions(state)) == len(expected_allowed(state))


def test_final_states_are_blocked_expired_and_cancelled():
    assert {S.BLOCKED, S.EXPIRED, S.CANCELLED} == FINAL_STATES


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
@pytest.mark.parametrize("action", ACTIONS)
def test_a_final_state_has_no_way_out(state: CardState, action: CardAction):
    # E9 for blocked: a final state is either refused or stays where it is (replace links a new
    # card to the old one and leaves the old one as it was).
    if can(state, action, kind(state, action)):
        assert next_state(state, action, kind(state, action)) is state
    else:
        with pytest.raises(Refused, match=r"^E(1|9): "):
            next_state(state, action, kind(state, action))


def test_a_cancelled_card_allows_nothing():
    assert allowed_actions(S.CANCELLED) == ()


@pytest.mark.parametrize("state", sorted(set(CardState) - FINAL_STATES))
def test_every_state_that_is_not_final_can_move_on(state: CardState):
    assert any(next_state(state, a, kind(state, a)) is not state for a in allowed_actions(state))


# One way to reach each state from a new order, through next_state only.
PATHS: dict[CardState, tuple[CardAction, ...]] = {
    S.ORDERED: (),
    S.PHOTOGRAPHED: (A.PHOTOGRAPH,),
    S.PRODUCED: (A.PHOTOGRAPH, A.PRODUCE),
    S.AWAITING_PICKUP: (A.PRODUCE, A.SEND_CODE_ENVELOPE),
    S.SENT_INACTIVE: (A.PHOTOGRAPH, A.PRODUCE, A.SEND_HOME),
    S.ACTIVE: (A.PRODUCE, A.SEND_HOME, A.ACTIVATE),
    S.BLOCKED: (A.PRODUCE, A.SEND_CODE_ENVELOPE, A.HAND_OUT, A.BLOCK),
    S.EXPIRED: (A.PRODUCE, A.SEND_HOME, A.ACTIVATE, A.EXPIRE),
    S.CANCELLED: (A.PHOTOGRAPH, A.CANCEL),
}


def test_a_path_is_given_for_every_state():
    assert set(PATHS) == set(CardState)


@pytest.mark.parametrize("state", list(PATHS))
def test_every_state_is_reachable_from_a_new_order(state: CardState):
    current = INITIAL_STATE
    for action in PATHS[state]:
        current = next_state(current, action, kind(current, action))
    assert current is state


def test_a_photo_card_is_photographed_before_it_is_produced():
    assert next_state(S.PHOTOGRAPHED, A.PRODUCE, CardType.PHOTO) is S.PRODUCED
    assert not can(S.ORDERED, A.PRODUCE, CardType.PHOTO)
    with pytest.raises(Refused) as refused:
        next_state(S.ORDERED, A.PRODUCE, CardType.PHOTO)
    assert refused.value.rule == "E1"
    assert "photographed before it is produced (R2)" in refused.value.en
    with pytest.raises(ValueError, match="card type"):
        next_state(S.ORDERED, A.PRODUCE)


def test_a_reserve_card_is_not_photographed():
    assert not can(S.ORDERED, A.PHOTOGRAPH, CardType.RESERVE)
    with pytest.raises(Refused) as refused:
        next_state(S.ORDERED, A.PHOTOGRAPH, CardType.RESERVE)
    assert refused.value.rule == "E1"
    assert refused.value.en.endswith("A reserve card carries no photo (E7).")


def test_the_initial_state_is_ordered():
    assert INITIAL_STATE is S.ORDERED


def test_live_and_occupying_states():
    # E8: an order in progress already takes the holder's slot for its card type.
    assert {S.PRODUCED, S.AWAITING_PICKUP, S.SENT_INACTIVE, S.ACTIVE} == LIVE_STATES
    assert LIVE_STATES | {S.ORDERED, S.PHOTOGRAPHED} == OCCUPYING_STATES
    assert not OCCUPYING_STATES & FINAL_STATES


def test_the_committed_documentation_is_current():
    committed = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"
    assert committed.read_text(encoding="utf-8") == render_markdown(), (
        "docs/lifecycle.md is out of date: run `ekort docs`."
    )


def test_the_documentation_shows_every_pair():
    text = render_markdown()
    for state, row in EXPECTED.items():
        cells = [str(target) if target is not None else "-" for target in row]
        assert f"| {state} | " + " | ".join(cells) + " |" in text
