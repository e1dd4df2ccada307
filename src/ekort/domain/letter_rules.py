"""The rules of the letters ekort sends: which of them carry the PUK, and when a cover letter is
sent again (R10).

Sending or printing a letter that carries the PUK again is a question about the card's codes
(R14-R16), answered by `pins.decide_codes`. `ekort.letters` renders the letters as PDFs.
"""

from __future__ import annotations

from .errors import Decision, decides
from .lifecycle import CardState
from .rulebook import rule
from .vocabulary import CardType, LetterKind

STILL_QUEUED_SV = "Brevet ligger redan i utskriftskön och har inte skrivits ut än."
STILL_QUEUED_EN = "The letter is already in the print queue and has not been printed yet."


def carries_puk(kind: LetterKind, card_type: CardType) -> bool:
    """The PIN/PUK letter carries the PUK (R14, R15); so does a reserve card's code envelope,
    as no code letter can be ordered for it later (R16). The cover letter never does."""
    return kind == LetterKind.PIN_PUK_LETTER or (
        kind == LetterKind.CODE_ENVELOPE and card_type == CardType.RESERVE
    )


@decides("R10")
def decide_cover_letter_again(
    card_state: CardState, *, waiting: bool, has_address: bool = True
) -> Decision:
    """May the card's cover letter be sent again (R10)? Only while the card, sent home, waits
    to be activated, and not while the letter itself still waits in the print queue (`waiting`):
    it goes out with the next print run, and another would be a duplicate. It goes to the
    registered address, so the holder must have one."""
    r = rule("R10")
    if card_state is not CardState.SENT_INACTIVE:
        return Decision.refuse(
            "R10",
            f"{r.sv} Följebrevet skickas igen bara för ett kort som skickats hem och ännu inte "
            "aktiverats.",
            f"{r.en} The cover letter is sent again only for a card sent home and not yet "
            f"activated (this card is {card_state.value}).",
        )
    if waiting:
        return Decision.refuse("R10", STILL_QUEUED_SV, STILL_QUEUED_EN)
    if not has_address:
        return Decision.refuse(
            "R10",
            f"{r.sv} Personen saknar registrerad folkbokföringsadress i ekort.",
            f"{r.en} The person has no registered address recorded in ekort.",
        )
    return Decision.allow(
        "R10",
        "Följebrevet kan skickas igen till folkbokföringsadressen.",
        "The cover letter can be sent again to the registered address.",
    )
