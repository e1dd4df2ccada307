"""Who hands out and activates a card: never whoever ordered or holds it (E3), and for some
cards two ID administrators (E11): which cards need a second one, and who may be it.

Reserve cards at assurance level 3 are handed out by two ID administrators (docs/domain-notes.md,
"Four-eyes"): one registers the card and the checked identity document, the other approves.
Since cards are sent home inactive (R6) the same holds for their activation at a card office
(R7): the PIN is set at approval. The procedure is not open to holders registered only with a
samordningsnummer; they get assurance level 2 cards (ordering decides that), which one
administrator hands out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import Decision, decides
from .identifiers import IdentityKind
from .rulebook import rule
from .vocabulary import AssuranceLevel, CardType, CheckPurpose


def needs_second_approval(card_type: CardType, level: AssuranceLevel) -> bool:
    """True when a hand-out or an activation takes two ID administrators (E11)."""
    return card_type == CardType.RESERVE and level == AssuranceLevel.LOA3


@decides("E3")
def decide_separation_of_duties(*, ordered_it: bool, holds_it: bool) -> Decision:
    """Whoever ordered a card, or holds it, does not hand it out, activate it or approve its
    hand-out or activation (E3)."""
    e3 = rule("E3")
    if ordered_it:
        return Decision.refuse(
            "E3",
            f"{e3.sv} Be en annan id-administratör.",
            f"{e3.en} You ordered this card; ask another ID administrator.",
        )
    if holds_it:
        return Decision.refuse(
            "E3",
            f"{e3.sv} Be en kollega att lämna ut eller aktivera ditt kort.",
            f"{e3.en} This is your own card; ask a colleague.",
        )
    return Decision.allow("E3", e3.sv, e3.en)


class FourEyesStep(StrEnum):
    REGISTER = "register"  # the first administrator checks and records
    APPROVE = "approve"  # the second completes it
    WITHDRAW = "withdraw"  # a wrong registration is taken back


@dataclass(frozen=True)
class Registration:
    """A registered hand-out or activation waiting for its second administrator."""

    purpose: CheckPurpose
    registered_by: int


_REGISTERED = {
    CheckPurpose.HAND_OUT: ("Utlämningen", "hand-out"),
    CheckPurpose.ACTIVATION: ("Aktiveringen", "activation"),
}
_WHAT = {
    CheckPurpose.HAND_OUT: ("utlämning", "hand-out"),
    CheckPurpose.ACTIVATION: ("aktivering", "activation"),
}


@decides("E11")
def decide_four_eyes(
    step: FourEyesStep,
    waiting: Registration | None,
    *,
    purpose: CheckPurpose | None = None,
    identity_kind: IdentityKind | None = None,
    pin_given: bool = False,
    actor: int | None = None,
) -> Decision:
    """A step of a four-eyes hand-out or activation (E11), given the registration `waiting`
    for the card, if any. Registering: no PIN yet (the holder types it when the second
    administrator approves; refused rather than dropped, so that nobody believes it was set),
    not for a holder registered only with a samordningsnummer, and not twice. Approving or
    withdrawing: a registration of `purpose` (any, if None) waits; the approver is not the
    administrator who registered it."""
    e11 = rule("E11")
    if step is FourEyesStep.REGISTER:
        if pin_given:
            return Decision.refuse(
                "E11",
                f"{e11.sv} Säkerhetskoden väljs när en andra id-administratör godkänner "
                "aktiveringen; registrera id-handlingen utan kod.",
                f"{e11.en} The PIN is chosen when a second ID administrator approves the "
                "activation; register the identity document without a PIN.",
            )
        if identity_kind == IdentityKind.SAMORDNINGSNUMMER:
            return Decision.refuse(
                "E11",
                f"{e11.sv} Det gäller inte den som bara har samordningsnummer; beställ ett nytt "
                "reservkort, som då får tillitsnivå 2.",
                f"{e11.en} Not for a holder registered only with a samordningsnummer; order a "
                "new reserve card, which gets assurance level 2.",
            )
        if waiting is not None:
            sv, en = _REGISTERED[waiting.purpose]
            return Decision.refuse(
                "E11",
                f"{e11.sv} {sv} är redan registrerad och väntar på godkännande; godkänn "
                "eller återkalla den registreringen.",
                f"{e11.en} The {en} is already registered and awaits approval; approve or "
                "withdraw that registration.",
            )
        return Decision.allow("E11", e11.sv, e11.en)
    if waiting is None or (purpose is not None and waiting.purpose != purpose):
        sv, en = (
            _WHAT[purpose]
            if purpose is not None
            else (
                "utlämning eller aktivering",
                "hand-out or activation",
            )
        )
        doing = "approve" if step is FourEyesStep.APPROVE else "withdraw"
        return Decision.refuse(
            "E11",
            f"{e11.sv} Ingen registrerad {sv} väntar på godkännande för kortet.",
            f"{e11.en} No registered {en} of this card awaits approval; nothing to {doing}.",
        )
    if step is FourEyesStep.APPROVE and waiting.registered_by == actor:
        return Decision.refuse(
            "E11",
            f"{e11.sv} Du gjorde registreringen själv; en annan id-administratör godkänner.",
            f"{e11.en} You made this registration; another ID administrator approves it.",
        )
    return Decision.allow("E11", e11.sv, e11.en)
