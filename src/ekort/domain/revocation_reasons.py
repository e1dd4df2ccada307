"""How a card's block reason reads in its certificates' revocation status (RFC 5280 5.3.1).

Names are those of `cryptography.x509.ReasonFlags`; None means no reason code is given
("unspecified" is left out of CRL entries, as RFC 5280 recommends).
"""

from __future__ import annotations

from .vocabulary import BlockReason

REASON_CODE: dict[BlockReason, str | None] = {
    # The card may be in someone else's hands: its keys count as compromised.
    BlockReason.LOST: "key_compromise",
    BlockReason.STOLEN: "key_compromise",
    BlockReason.KEY_COMPROMISE: "key_compromise",
    BlockReason.DAMAGED: "cessation_of_operation",
    BlockReason.EMPLOYMENT_ENDED: "affiliation_changed",
    BlockReason.NAME_CHANGED: "superseded",
    BlockReason.REPLACED: "superseded",
    BlockReason.NOT_COLLECTED: "cessation_of_operation",
    BlockReason.NOT_ACTIVATED: "cessation_of_operation",
    BlockReason.OTHER: None,
}

# Certificates of a card that is not yet activated (R8) are reported as on hold.
HOLD = "certificate_hold"
# Removing a certificate from the card (R13: swapping an additional certificate).
REMOVED_FROM_CARD = "superseded"
