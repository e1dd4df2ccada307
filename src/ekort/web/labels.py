"""Swedish words for what the portal shows: card states, card types, block reasons, the
calendar's actions, and how a member of staff is named.

Marked for translation and evaluated when a page renders, in the page's language."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ekort.domain.lifecycle import CardState
from ekort.domain.policy_calendar import BLOCK, PolicyAction
from ekort.domain.renewal import BLOCKS_AT_ONCE
from ekort.domain.vocabulary import BlockReason, CardType, ReplacementReason

CARD_STATES: dict[str, Promise] = {
    CardState.ORDERED: _("Beställt"),
    CardState.PHOTOGRAPHED: _("Fotograferat, väntar på tillverkning"),
    CardState.PRODUCED: _("Tillverkat"),
    CardState.AWAITING_PICKUP: _("Väntar på att hämtas ut"),
    CardState.SENT_INACTIVE: _("Skickat, inte aktiverat"),
    CardState.ACTIVE: _("Aktivt"),
    CardState.BLOCKED: _("Spärrat"),
    CardState.EXPIRED: _("Giltighetstiden har gått ut"),
    CardState.CANCELLED: _("Beställningen återkallad"),
}

CARD_TYPES: dict[str, Promise] = {
    CardType.PHOTO: _("Fotokort"),
    CardType.RESERVE: _("Reservkort"),
}

# The steps the policy calendar decides (and blocking, which no period refuses, R4).
POLICY_ACTIONS: dict[str, Promise] = {
    PolicyAction.ORDER: _("Beställa"),
    PolicyAction.PHOTOGRAPH: _("Fotografera"),
    PolicyAction.ISSUE: _("Tillverka och skicka"),
    PolicyAction.HAND_OUT: _("Lämna ut"),
    PolicyAction.ACTIVATE: _("Aktivera"),
    BLOCK: _("Spärra"),
}

BLOCK_REASONS: dict[str, Promise] = {
    BlockReason.LOST: _("Borttappat"),
    BlockReason.STOLEN: _("Stulet"),
    BlockReason.DAMAGED: _("Skadat"),
    BlockReason.KEY_COMPROMISE: _("Misstanke om att koden eller kortet röjts"),
    BlockReason.EMPLOYMENT_ENDED: _("Anställningen har upphört"),
    BlockReason.NAME_CHANGED: _("Namnbyte"),
    BlockReason.REPLACED: _("Ersatt av nytt kort"),
    BlockReason.NOT_COLLECTED: _("Hämtades inte ut i tid"),
    BlockReason.NOT_ACTIVATED: _("Aktiverades inte i tid"),
    BlockReason.OTHER: _("Annat skäl"),
}

REPLACEMENT_REASONS: dict[str, Promise] = {
    ReplacementReason.LOST: _("Borttappat"),
    ReplacementReason.STOLEN: _("Stulet"),
    ReplacementReason.KEY_COMPROMISE: _("Misstanke om att någon annan använder kortet eller koden"),
    ReplacementReason.EXPIRING: _("Kortet går snart ut (förnyelse)"),
    ReplacementReason.DAMAGED: _("Skadat"),
    ReplacementReason.NAME_CHANGED: _("Namnbyte"),
    ReplacementReason.NEW_PHOTO: _("Nytt foto"),
    ReplacementReason.OTHER: _("Annat skäl"),
}
# The two groups a replacement form shows (E12): the old card blocked at once, or working until
# the new one is activated.
REPLACED_AT_ONCE = tuple(reason for reason in ReplacementReason if reason in BLOCKS_AT_ONCE)
REPLACED_AT_ACTIVATION = tuple(
    reason for reason in ReplacementReason if reason not in BLOCKS_AT_ONCE
)

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


def staff_name(user: Any) -> str:
    """How every page names a member of staff who acted or approved: the full name (the
    person's in the register, else the account's own), then the card office where the account
    has one. The user name only when no name is set at all: it is an account's key, not a
    name, and only the security officer's pages show it as such."""
    if user is None:
        return ""
    account = getattr(user, "account", None)  # RelatedObjectDoesNotExist is an AttributeError
    person = account.person if account is not None else None
    name = person.full_name if person is not None else user.get_full_name()
    name = name or user.get_username()
    office = account.office if account is not None else None
    return f"{name} ({office.name})" if office is not None else name
