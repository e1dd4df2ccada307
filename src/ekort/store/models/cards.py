from __future__ import annotations

from django.conf import settings
from django.db import models

from ekort.domain.id_documents import DocumentKind
from ekort.domain.lifecycle import INITIAL_STATE, CardState
from ekort.domain.vocabulary import (
    ApprovalOutcome,
    AssuranceLevel,
    BlockReason,
    CardType,
    CheckPurpose,
    DeliveryPath,
    Generation,
    LetterKind,
    ReplacementReason,
)

from .bureau import BureauBatch
from .choices import choices
from .people import Person

USER = settings.AUTH_USER_MODEL


class CardOrder(models.Model):
    """Who asked for a card, for whom, when, and which card it replaces."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="orders")
    card_type = models.CharField(max_length=10, choices=choices(CardType))
    ordered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    ordered_at = models.DateTimeField()
    replaces = models.ForeignKey(
        "Card", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    # Why the card it replaces is replaced (E12): whether that card was blocked when this one
    # was ordered, or stays usable until this one is activated. Empty for a first order.
    replacement_reason = models.CharField(
        max_length=20, choices=choices(ReplacementReason), blank=True
    )
    note = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"order {self.pk} ({self.card_type})"


class Card(models.Model):
    order = models.OneToOneField(CardOrder, on_delete=models.PROTECT, related_name="card")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cards")
    card_type = models.CharField(max_length=10, choices=choices(CardType))
    state = models.CharField(max_length=20, choices=choices(CardState), default=INITIAL_STATE.value)
    assurance_level = models.CharField(
        max_length=1, choices=choices(AssuranceLevel), default=AssuranceLevel.LOA3.value
    )
    # Unique by a constraint (Meta) rather than unique=True, which on PostgreSQL adds a second,
    # pattern-matching (LIKE) index that no query uses and every write to a card maintains.
    number = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001 - none yet
    generation = models.CharField(max_length=20, choices=choices(Generation), blank=True)
    sis_marked = models.BooleanField(default=False)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    photographed_at = models.DateTimeField(null=True, blank=True)
    # No index on who photographed or activated a card: nothing looks cards up by them (only
    # deleting a user checks, rarely), and each index costs every card update (the sweeps).
    photographed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    produced_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    delivery_path = models.CharField(max_length=20, choices=choices(DeliveryPath), blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    pickup_deadline = models.DateField(null=True, blank=True)  # R3: last day to collect
    activation_deadline = models.DateField(null=True, blank=True)  # R8: last day to activate
    activated_at = models.DateTimeField(null=True, blank=True)  # handed out or activated
    activated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    closed_at = models.DateTimeField(null=True, blank=True)  # blocked, expired or cancelled
    # The card's PUK, generated at personalisation, AES-GCM encrypted with the secrets key:
    # the administrative secret a card management system keeps (never in clear, never logged).
    puk_ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    # The production order it was personalised in; set once, with the card number.
    bureau_batch = models.ForeignKey(
        BureauBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="card_set"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["number"], name="card_number_unique")]
        # No index on the state, nor one whose condition names it (the deadline sweeps had
        # three): each would make every state change add an entry to all the card's indexes.
        # Without, a state change is an update in place (HOT on PostgreSQL, with the room
        # migration 0009 leaves on the table's pages), and the sweeps find due cards with one
        # pass over the table (services/deadlines.py).

    def __str__(self) -> str:
        return f"{self.card_type} card {self.number or '(not produced)'}"


class CardNumberSequence(models.Model):
    """A counter row, locked while a number is taken, so that numbers never repeat."""

    prefix = models.CharField(max_length=8, unique=True)
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"card numbers {self.prefix}: {self.last_value}"


class IdentityCheck(models.Model):
    """The identity document an ID administrator checked at hand-out or activation (E4)."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="identity_checks")
    purpose = models.CharField(max_length=12, choices=choices(CheckPurpose))
    document_kind = models.CharField(max_length=24, choices=choices(DocumentKind))
    document_number = models.CharField(max_length=20)
    document_expires_on = models.DateField()
    checked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.document_kind} checked {self.checked_at:%Y-%m-%d}"


class FourEyesApproval(models.Model):
    """A hand-out or an activation registered by one ID administrator, waiting for a second one
    (E11).

    The card does not move until another administrator approves: a hand-out stays awaiting
    pick-up, an activation sent and inactive (with no PIN set yet). The checked document is the
    registrar's identity check. A wrong registration is withdrawn, never deleted.
    """

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="four_eyes_approvals")
    purpose = models.CharField(max_length=20, choices=choices(CheckPurpose))
    identity_check = models.OneToOneField(
        IdentityCheck, on_delete=models.PROTECT, related_name="four_eyes_approval"
    )
    registered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=choices(ApprovalOutcome), blank=True)
    note = models.CharField(max_length=500, blank=True)  # why a registration was withdrawn

    class Meta:
        constraints = [
            # At most one registration waits per card, whatever its purpose.
            models.UniqueConstraint(
                fields=["card"], condition=models.Q(outcome=""), name="one_pending_four_eyes"
            ),
        ]
        indexes = [models.Index(fields=["outcome", "registered_at"], name="four_eyes_pending")]

    def __str__(self) -> str:
        return f"{self.purpose} of card {self.card_id} ({self.outcome or 'pending'})"


class Block(models.Model):
    """A block request and its registration. Kept at least ten years (docs/domain-notes.md)."""

    card = models.OneToOneField(Card, on_delete=models.PROTECT, related_name="block")
    reason = models.CharField(max_length=20, choices=choices(BlockReason))
    requested_by = models.CharField(max_length=200)  # who asked: a person, or the deadline job
    # No index (as on Card's *_by): nothing looks blocks up by who registered them but the
    # rare deletion of a user, and the deadline sweeps insert a million blocks at a time.
    registered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    registered_at = models.DateTimeField(db_index=True)
    note = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"block of card {self.card_id} ({self.reason})"

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Block records are kept at least ten years and are never deleted.")


class Letter(models.Model):
    """A letter queued for printing, addressed to the registered address at the time.

    Records only: no PIN, PUK or other code is ever stored here.
    """

    kind = models.CharField(max_length=20, choices=choices(LetterKind))
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="letters")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="letters")
    recipient_name = models.CharField(max_length=200)
    street_address = models.CharField(max_length=200)
    postal_code = models.CharField(max_length=6)
    postal_town = models.CharField(max_length=100)
    queued_at = models.DateTimeField()
    printed_at = models.DateTimeField(null=True, blank=True)
    # Taken out of the print queue unprinted, when its card was blocked: a card that no longer
    # works gets no cover letter, and its PUK goes out in no letter (services.cards.blocking).
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Whoever ordered or re-sent it (a PIN/PUK letter; none for the letters production queues):
    # they do not print it for someone else's card unapproved, whatever roles they hold by
    # then (E14, services.print_queue.printer_ordered_it).
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"{self.kind} for card {self.card_id}"
