"""Four-eyes hand-out and activation (E11): which cards need a second ID administrator, and
who may be it.

Reserve cards at assurance level 3 are handed out by two ID administrators (docs/domain-notes.md,
"Four-eyes"): one registers the card and the checked identity document, the other approves.
Since cards are sent home inactive (R6) the same holds for their activation at a card office
(R7): the PIN is set at approval. The procedure is not open to holders registered only with a
samordningsnummer; they get assurance level 2 cards (ordering decides that), which one
administrator hands out.
"""

from __future__ import annotations

from .errors import Decision
from .identifiers import IdentityKind
from .rulebook import rule
from .vocabulary import AssuranceLevel, CardType


def needs_second_approval(card_type: CardType, level: AssuranceLevel) -> bool:
    """True when a hand-out or an activation takes two ID administrators (E11)."""
    return card_type == CardType.RESERVE and level == AssuranceLevel.LOA3


def decide_holder_for_four_eyes(identity_kind: IdentityKind) -> Decision:
    """A LoA3 reserve card is not for a holder registered only with a samordningsnummer."""
    e11 = rule("E11")
    if identity_kind == IdentityKind.SAMORDNINGSNUMMER:
        return Decision.refuse(
            "E11",
            f"{e11.sv} Det gäller inte den som bara har samordningsnummer; beställ ett nytt "
            "reservkort, som då får tillitsnivå 2.",
            f"{e11.en} Not for a holder registered only with a samordningsnummer; order a new "
            "reserve card, which gets assurance level 2.",
        )
    return Decision.allow("E11", e11.sv, e11.en)


def decide_approver(*, registered_by: int, approver: int) -> Decision:
    """The second administrator is another person than the one who registered (E11)."""
    e11 = rule("E11")
    if registered_by == approver:
        return Decision.refuse(
            "E11",
            f"{e11.sv} Du gjorde registreringen själv; en annan id-administratör godkänner.",
            f"{e11.en} You made this registration; another ID administrator approves it.",
        )
    return Decision.allow("E11", e11.sv, e11.en)
