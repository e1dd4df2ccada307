"""The card lifecycle: one table of states and allowed transitions, declared as data.

Both delivery paths are here. The legacy path: produced, a code envelope is sent to the
registered address, the card is collected at a hand-out point by the pick-up deadline (R3).
The new path: produced, sent home inactive (R6), activated at a card office within the
activation window (R8). Blocking is final (E9). A replacement links the new card to the old one;
a live old card is blocked when the replacement is ordered (lost, stolen, misused) or when it is
activated (every other reason, E12).

The table is checked when this module is imported, and `docs/lifecycle.md` is generated from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from . import card_words as words
from .errors import Decision, decides
from .rulebook import rule
from .vocabulary import CardType


class CardState(StrEnum):
    ORDERED = "ordered"  # the order is taken; a photo card waits for its photo
    PHOTOGRAPHED = "photographed"  # photo taken at a card office; ready for production
    PRODUCED = "produced"  # personalised, has a card number, not yet dispatched
    AWAITING_PICKUP = "awaiting_pickup"  # legacy: code envelope sent, card at the hand-out point
    SENT_INACTIVE = "sent_inactive"  # new: sent to the registered address, inactive (R6)
    ACTIVE = "active"  # handed out (legacy) or activated (new); usable
    BLOCKED = "blocked"  # final (E9); carries a reason
    EXPIRED = "expired"  # final; validity ran out
    CANCELLED = "cancelled"  # final; the order was withdrawn before production


class CardAction(StrEnum):
    PHOTOGRAPH = "photograph"
    PRODUCE = "produce"
    SEND_CODE_ENVELOPE = "send_code_envelope"
    SEND_HOME = "send_home"
    HAND_OUT = "hand_out"
    ACTIVATE = "activate"
    ORDER_PIN_LETTER = "order_pin_letter"
    UNLOCK_PIN = "unlock_pin"
    MANAGE_CERTIFICATES = "manage_certificates_on"
    BLOCK = "block"
    REPLACE = "replace"
    EXPIRE = "expire"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Transition:
    source: CardState
    action: CardAction
    target: CardState
    why: str  # the rule or reason this transition exists, shown in the generated table
    # The card types that take this transition; None: every type.
    card_types: frozenset[CardType] | None = None


S, A = CardState, CardAction

_LIVE_PRODUCED = (S.PRODUCED, S.AWAITING_PICKUP, S.SENT_INACTIVE, S.ACTIVE)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        S.ORDERED,
        A.PHOTOGRAPH,
        S.PHOTOGRAPHED,
        "Photo cards are photographed (R2); reserve cards carry no photo (E7).",
        frozenset({CardType.PHOTO}),
    ),
    Transition(
        S.ORDERED,
        A.PRODUCE,
        S.PRODUCED,
        "Reserve cards need no photo (E7); a photo card is photographed first (R2).",
        frozenset({CardType.RESERVE}),
    ),
    Transition(S.PHOTOGRAPHED, A.PRODUCE, S.PRODUCED, "Production assigns the card number."),
    Transition(S.ORDERED, A.CANCEL, S.CANCELLED, "An order can be withdrawn before production."),
    Transition(
        S.PHOTOGRAPHED, A.CANCEL, S.CANCELLED, "An order can be withdrawn before production."
    ),
    Transition(S.PRODUCED, A.SEND_CODE_ENVELOPE, S.AWAITING_PICKUP, "Legacy path (R3)."),
    Transition(S.PRODUCED, A.SEND_HOME, S.SENT_INACTIVE, "New path: sent home inactive (R6)."),
    Transition(S.AWAITING_PICKUP, A.HAND_OUT, S.ACTIVE, "Collected at a hand-out point (R3)."),
    Transition(S.SENT_INACTIVE, A.ACTIVATE, S.ACTIVE, "Activated at a card office (R7, R9)."),
    Transition(S.ACTIVE, A.ORDER_PIN_LETTER, S.ACTIVE, "PIN/PUK letter (R14, R15, R16)."),
    Transition(S.ACTIVE, A.UNLOCK_PIN, S.ACTIVE, "PIN unlock at a card office (R14)."),
    Transition(
        S.ACTIVE,
        A.MANAGE_CERTIFICATES,
        S.ACTIVE,
        "The holder adds and removes certificates in self-service (R12, R13).",
    ),
    *(Transition(state, A.BLOCK, S.BLOCKED, "A block is final (E9).") for state in _LIVE_PRODUCED),
    *(
        Transition(
            state,
            A.REPLACE,
            S.BLOCKED,
            "The replaced card is blocked: when the replacement is ordered if it was lost, "
            "stolen or misused, else when the replacement is activated (E8, E12).",
        )
        for state in _LIVE_PRODUCED
    ),
    # A card already blocked (lost, stolen...) or expired can still be replaced: the new card
    # links to it and the old one stays as it is.
    Transition(S.BLOCKED, A.REPLACE, S.BLOCKED, "A blocked card can be replaced."),
    Transition(S.EXPIRED, A.REPLACE, S.EXPIRED, "An expired card can be replaced."),
    *(Transition(state, A.EXPIRE, S.EXPIRED, "Validity ran out.") for state in _LIVE_PRODUCED),
)

INITIAL_STATE = CardState.ORDERED
FINAL_STATES = frozenset({S.BLOCKED, S.EXPIRED, S.CANCELLED})
# States in which a card exists physically and may still be used or become usable.
LIVE_STATES = frozenset(_LIVE_PRODUCED)
# Ordered and not produced yet: the order can still be cancelled.
UNPRODUCED_STATES = frozenset({S.ORDERED, S.PHOTOGRAPHED})
# States in which a card occupies its holder's slot for its type (E8).
OCCUPYING_STATES = UNPRODUCED_STATES | LIVE_STATES

_TABLE: Mapping[tuple[CardState, CardAction], Transition] = {
    (t.source, t.action): t for t in TRANSITIONS
}


def _check_table() -> None:
    """Fail at import if the table contradicts itself: every state reachable, finals closed."""
    keys = [(t.source, t.action) for t in TRANSITIONS]
    if len(keys) != len(set(keys)):
        raise AssertionError("the lifecycle table lists a (state, action) pair twice")
    reachable = {INITIAL_STATE}
    frontier = [INITIAL_STATE]
    while frontier:
        state = frontier.pop()
        for t in TRANSITIONS:
            if t.source == state and t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    if reachable != set(CardState):
        raise AssertionError(f"unreachable states: {sorted(set(CardState) - reachable)}")
    for t in TRANSITIONS:
        if t.source in FINAL_STATES and t.target != t.source:
            raise AssertionError(f"final state {t.source} has a way out: {t.action}")


_check_table()


def allowed_actions(state: CardState) -> tuple[CardAction, ...]:
    return tuple(t.action for t in TRANSITIONS if t.source == state)


@decides("E1", "E9")
def decide_transition(
    state: CardState, action: CardAction, card_type: CardType | None = None
) -> Decision:
    """May a card in `state` (of `card_type`) take `action`? The lifecycle table decides (E1);
    blocking a blocked card is refused as final (E9). A transition the table keeps for some
    card types needs the card's type."""
    if action is A.BLOCK and state is S.BLOCKED:
        e9 = rule("E9")
        return Decision.refuse(
            "E9", f"{e9.sv} Kortet är redan spärrat.", f"{e9.en} The card is already blocked."
        )
    transition = _TABLE.get((state, action))
    if transition is None:
        return Decision.refuse("E1", *_not_allowed(state, action))
    if transition.card_types is not None:
        if card_type is None:
            raise ValueError(f"{action} from {state} depends on the card type; give it")
        if card_type not in transition.card_types:
            return Decision.refuse("E1", *_not_for_type(state, action, card_type))
    e1 = rule("E1")
    return Decision.allow("E1", e1.sv, e1.en)


def next_state(
    state: CardState, action: CardAction, card_type: CardType | None = None
) -> CardState:
    """The state after `action`, or `Refused` (E1, E9) listing what is allowed instead."""
    decide_transition(state, action, card_type).require()
    return _TABLE[(state, action)].target


def _listed(actions: tuple[CardAction, ...], language: int) -> str:
    return ", ".join(words.ACTIONS[a][language] for a in actions)


def _not_allowed(state: CardState, action: CardAction) -> tuple[str, str]:
    allowed = allowed_actions(state)
    e1 = rule("E1")
    state_sv, state_en = words.STATES[state]
    action_sv, action_en = words.ACTIONS[action]
    # "Already" when the action would have led here: the usual loser of a race (two
    # administrators activating the same card) reads "The card is already active."
    already = any(t.action == action and t.target == state for t in TRANSITIONS)
    if already:
        sv, en = f"Kortet är redan {state_sv}.", f"The card is already {state_en}."
    else:
        sv = f"Ett kort som är {state_sv} går inte att {action_sv}."
        en = f"Cannot {action_en} a card that is {state_en}."
    if allowed:
        sv += f" Det som går nu: {_listed(allowed, 0)}."
        en += f" Allowed in this state: {_listed(allowed, 1)}."
    else:
        sv += " Inget mer går att göra med kortet."
        en += " Allowed in this state: nothing (the state is final)."
    return f"{e1.sv} {sv}", en


def _not_for_type(state: CardState, action: CardAction, card_type: CardType) -> tuple[str, str]:
    e1 = rule("E1")
    if action is A.PRODUCE and card_type is CardType.PHOTO:
        return (
            f"{e1.sv} Fotokortet måste fotograferas innan det tillverkas (R2).",
            f"{e1.en} A photo card is photographed before it is produced (R2).",
        )
    if action is A.PHOTOGRAPH:
        return (
            f"{e1.sv} Reservkort har inget foto (E7).",
            f"{e1.en} A reserve card carries no photo (E7).",
        )
    kind_sv, kind_en = words.CARD_TYPES[card_type]
    return (
        f"{e1.sv} Ett {kind_sv} som är {words.STATES[state][0]} går inte att "
        f"{words.ACTIONS[action][0]}.",
        f"{e1.en} A {kind_en} that is {words.STATES[state][1]} cannot {words.ACTIONS[action][1]}.",
    )


def can(state: CardState, action: CardAction, card_type: CardType | None = None) -> bool:
    """Whether the lifecycle lets the card take `action` (the question pages ask)."""
    try:
        return decide_transition(state, action, card_type).allowed
    except ValueError:  # depends on the card type, which was not given: some type can
        return True


def _only_for(transition: Transition) -> str:
    if transition.card_types is None:
        return ""
    return f" Only for: {', '.join(sorted(transition.card_types))}."


def render_markdown() -> str:
    """The lifecycle table as Markdown, for docs/lifecycle.md (a test keeps the file current)."""
    lines = [
        "# Card lifecycle",
        "",
        "Generated from `ekort.domain.lifecycle` by `ekort docs`; do not edit by hand.",
        "",
        "| From | Action | To | Why |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t.source} | {t.action} | {t.target} | {t.why}{_only_for(t)} |" for t in TRANSITIONS
    ]
    lines += ["", "## Every (state, action) pair", ""]
    actions = list(CardAction)
    lines.append("| State | " + " | ".join(actions) + " |")
    lines.append("|---|" + "---|" * len(actions))
    for state in CardState:
        cells = [
            str(_TABLE[(state, action)].target) if (state, action) in _TABLE else "-"
            for action in actions
        ]
        lines.append(f"| {state} | " + " | ".join(cells) + " |")
    finals = ", ".join(sorted(FINAL_STATES))
    lines += ["", f"Final states: {finals}. A block is final (E9).", ""]
    return "\n".join(lines)
