"""Names shared across the domain: card types, generations, delivery paths, block reasons."""

from __future__ import annotations

from enum import StrEnum


class CardType(StrEnum):
    PHOTO = "photo"  # fotokort, ordinarie kort
    RESERVE = "reserve"  # reservkort: no photo, temporary


class Generation(StrEnum):
    """The physical card design, decided by the issue date (R5)."""

    LEGACY = "legacy"  # landscape; identity number printed on the face
    PORTRAIT_2024 = "portrait-2024"  # portrait; name, photo, logo; card number on the back


class DeliveryPath(StrEnum):
    """How a produced card reaches its holder."""

    # Legacy (R3): a code envelope goes to the registered address; the holder collects the card
    # at a hand-out point by the pick-up deadline, where it is handed out active.
    CODE_ENVELOPE = "code_envelope"
    # New (R6-R8): the card itself goes to the registered address, inactive; an ID
    # administrator activates it at a card office within the activation window.
    HOME = "home"


class BlockReason(StrEnum):
    LOST = "lost"
    STOLEN = "stolen"
    DAMAGED = "damaged"
    KEY_COMPROMISE = "key_compromise"
    EMPLOYMENT_ENDED = "employment_ended"
    NAME_CHANGED = "name_changed"
    REPLACED = "replaced"
    NOT_COLLECTED = "not_collected"  # R3: not collected by the pick-up deadline
    NOT_ACTIVATED = "not_activated"  # R8: not activated within the activation window
    OTHER = "other"


class ReplacementReason(StrEnum):
    """Why a manager orders a card in place of another (E12). Lost, stolen and suspected misuse
    block the old card at once; for the rest it stays usable until its successor is activated,
    and is blocked as replaced then (docs/domain-notes.md, "Renewal")."""

    LOST = "lost"
    STOLEN = "stolen"
    KEY_COMPROMISE = "key_compromise"  # suspected misuse: the card or its PIN may be known
    EXPIRING = "expiring"  # its validity or certificate ends soon (a renewal)
    DAMAGED = "damaged"  # damaged, but it still works
    NAME_CHANGED = "name_changed"
    NEW_PHOTO = "new_photo"
    OTHER = "other"


class AssuranceLevel(StrEnum):
    LOA3 = "3"
    LOA2 = "2"


class Role(StrEnum):
    """Staff roles; an account may hold several."""

    HOLDER = "holder"  # kortinnehavare: own cards only
    ORDERER = "orderer"  # behörig beställare, usually the manager
    ID_ADMIN = "id_admin"  # id-administratör at a card office
    SUPPORT = "support"  # e-tjänstekortsupport: reads and blocks
    ISSUER_ADMIN = "issuer_admin"  # ansvarig utgivare: production, rules, audit
    # säkerhetsansvarig: grants and withdraws the roles; reads the audit trail, nothing else
    SECURITY_OFFICER = "security_officer"


class LetterKind(StrEnum):
    CODE_ENVELOPE = "code_envelope"  # kodkuvert (legacy path; reserve cards carry their PUK, R16)
    COVER_LETTER = "cover_letter"  # följebrev sent with a new card (R10)
    PIN_PUK_LETTER = "pin_puk_letter"  # pin/puk-brev ordered to the registered address (R14, R15)


class CheckPurpose(StrEnum):
    HAND_OUT = "hand_out"
    ACTIVATION = "activation"


class ApprovalOutcome(StrEnum):
    """How a hand-out waiting for a second ID administrator ended (E11)."""

    APPROVED = "approved"  # the second administrator approved: the card is handed out
    WITHDRAWN = "withdrawn"  # the registration was wrong and was withdrawn; nothing handed out
