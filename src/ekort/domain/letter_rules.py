"""The rules of the letters ekort sends: which of them carry the PUK, when a cover letter is
sent again (R10), and the second person a letter with the PUK that is sent again waits for
(E14).

Sending or printing a letter that carries the PUK again is a question about the card's codes
(R14-R16), answered by `pins.decide_codes`. `ekort.letters` renders the letters as PDFs.
"""

from __future__ import annotations

from enum import StrEnum

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


def needs_second_approval(kind: LetterKind, card_type: CardType) -> bool:
    """A letter sent again by the support desk or an issuer administrator waits for a second
    person when it carries the PUK (E14): otherwise whoever re-sends it could also print it and
    read the PUK, alone. A first PIN/PUK letter is ordered by the holder, to the holder."""
    return carries_puk(kind, card_type)


def order_needs_second_approval(
    card_type: CardType, *, own_card: bool, orderer_prints: bool
) -> bool:
    """A PIN/PUK letter ordered for someone else's card by an account that also prints letters
    (an issuer administrator who is also support or an ID administrator) waits for a second
    person as one sent again does (E14): otherwise that account alone could order a letter for
    any card and read its PUK. The holder's own letter, and one ordered by someone who does not
    print, go straight to the printer: two people see to it already."""
    return carries_puk(LetterKind.PIN_PUK_LETTER, card_type) and not own_card and orderer_prints


class LetterStep(StrEnum):
    """What is done with a letter that may wait for a second person's approval (E14)."""

    PRINT = "print"  # its PDF is made, or it is marked printed
    APPROVE = "approve"  # the second person approves it


@decides("E14")
def decide_letter_approval(
    step: LetterStep,
    *,
    awaiting: bool,
    resent_by: int | None = None,
    actor: int | None = None,
    printer_ordered_it: bool = False,
) -> Decision:
    """A letter with the PUK sent again, or ordered for someone else's card by one who prints
    letters (`awaiting`: its approval is still missing), is printed only once a second person
    has approved it (E14), as two ID administrators hand out a reserve card (E11). The approver
    is not `resent_by`, who sent or ordered it. Nor does whoever ordered or re-sent a letter
    for someone else's card print it before another person approves it
    (`printer_ordered_it`), whatever roles they held when they ordered it: another issuer
    administrator prints it, the second person."""
    e14 = rule("E14")
    if step is LetterStep.PRINT:
        if awaiting:
            return Decision.refuse(
                "E14",
                f"{e14.sv} Brevet väntar på godkännande; en annan person i kundtjänst eller en "
                "annan utfärdare godkänner det på kortets sida.",
                f"{e14.en} The letter awaits approval; another member of the support desk or "
                "another issuer administrator approves it on the card's page.",
            )
        if printer_ordered_it:
            return Decision.refuse(
                "E14",
                f"{e14.sv} Du beställde brevet till någon annans kort; en annan utfärdare skriver "
                "ut det.",
                f"{e14.en} You ordered this letter for someone else's card; another issuer "
                "administrator prints it.",
            )
        return Decision.allow("E14", "Brevet kan skrivas ut.", "The letter can be printed.")
    if not awaiting:
        return Decision.refuse(
            "E14",
            f"{e14.sv} Brevet väntar inte på något godkännande.",
            f"{e14.en} This letter awaits no approval.",
        )
    if resent_by is not None and resent_by == actor:
        return Decision.refuse(
            "E14",
            f"{e14.sv} Du skickade eller beställde brevet själv; en annan person godkänner det.",
            f"{e14.en} You sent or ordered this letter yourself; another person approves it.",
        )
    return Decision.allow(
        "E14",
        "Brevet kan godkännas och skrivas ut.",
        "The letter can be approved and printed.",
    )
