"""Swedish words for what the portal shows: card states, card types, block reasons."""

from __future__ import annotations

from ekort.domain.lifecycle import CardState
from ekort.domain.vocabulary import BlockReason, CardType

CARD_STATES: dict[str, str] = {
    CardState.ORDERED: "Beställt",
    CardState.PHOTOGRAPHED: "Fotograferat, väntar på tillverkning",
    CardState.PRODUCED: "Tillverkat",
    CardState.AWAITING_PICKUP: "Väntar på att hämtas ut",
    CardState.SENT_INACTIVE: "Skickat, inte aktiverat",
    CardState.ACTIVE: "Aktivt",
    CardState.BLOCKED: "Spärrat",
    CardState.EXPIRED: "Giltighetstiden har gått ut",
    CardState.CANCELLED: "Beställningen återkallad",
}

CARD_TYPES: dict[str, str] = {
    CardType.PHOTO: "Fotokort",
    CardType.RESERVE: "Reservkort",
}

BLOCK_REASONS: dict[str, str] = {
    BlockReason.LOST: "Borttappat",
    BlockReason.STOLEN: "Stulet",
    BlockReason.DAMAGED: "Skadat",
    BlockReason.KEY_COMPROMISE: "Misstanke om att koden eller kortet röjts",
    BlockReason.EMPLOYMENT_ENDED: "Anställningen har upphört",
    BlockReason.NAME_CHANGED: "Namnbyte",
    BlockReason.REPLACED: "Ersatt av nytt kort",
    BlockReason.NOT_COLLECTED: "Hämtades inte ut i tid",
    BlockReason.NOT_ACTIVATED: "Aktiverades inte i tid",
    BlockReason.OTHER: "Annat skäl",
}

# What a holder may give as the reason for blocking their own card.
HOLDER_BLOCK_REASONS = (BlockReason.LOST, BlockReason.STOLEN, BlockReason.DAMAGED)
# What a manager may give; "replaced" comes with a replacement order instead.
ORDERER_BLOCK_REASONS = (
    BlockReason.LOST,
    BlockReason.STOLEN,
    BlockReason.DAMAGED,
    BlockReason.EMPLOYMENT_ENDED,
    BlockReason.NAME_CHANGED,
    BlockReason.OTHER,
)
# What an ID administrator may give at the card office.
OFFICE_BLOCK_REASONS = (
    BlockReason.LOST,
    BlockReason.STOLEN,
    BlockReason.DAMAGED,
    BlockReason.KEY_COMPROMISE,
    BlockReason.EMPLOYMENT_ENDED,
    BlockReason.NAME_CHANGED,
    BlockReason.OTHER,
)
