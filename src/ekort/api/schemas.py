"""What goes in and out of the API, as typed schemas (pydantic, through django-ninja).

Every input is bounded: strings have a maximum length and no control characters (a NUL byte
would reach PostgreSQL as an error), ids are positive 63-bit integers. Each field says what it
takes as far as JSON Schema can: the card types, reasons and document kinds as enums, the forms
of identifiers, postal codes, document numbers and PINs as patterns. What no keyword can say is
named by a `format` of ekort's own (OpenAPI leaves `format` open), which the services check:

- `text`: printable text, no control, format or line-separator characters,
- `personnummer`: a personnummer or samordningsnummer whose date exists and whose last digit
  is its Luhn check digit,
- `card-number`: the number on a card's back, with its Luhn check digit,
- `jpeg-or-png-base64`: a JPEG or PNG picture, base64-encoded.

The services still judge meanings (is the PIN the card's, is the person registered already);
the schemas keep out what no service should ever have to look at. Secrets (PINs) are
`SecretStr`, so that a schema printed by accident shows `**********`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.conf import settings
from ninja import Schema
from ninja.params.functions import Path
from pydantic import AfterValidator, ConfigDict, Field, SecretStr, StringConstraints
from pydantic.json_schema import JsonDict, SkipJsonSchema

from ekort.domain.card_numbers import SEQUENCE_DIGITS
from ekort.domain.id_documents import DocumentKind
from ekort.domain.vocabulary import BlockReason, CardType, ReplacementReason
from ekort.services.cards.production import MAX_PHOTO_BYTES

# Ids are BIGINT; a larger number would be a database error, not a "not found".
MAX_ID = 2**63 - 1
# Base64 makes four characters of every three bytes.
MAX_PHOTO_BASE64 = (MAX_PHOTO_BYTES + 2) // 3 * 4


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    return value


TEXT: JsonDict = {"format": "text"}
Short = Annotated[
    str, StringConstraints(max_length=40), AfterValidator(_printable), Field(json_schema_extra=TEXT)
]
Name = Annotated[
    str,
    StringConstraints(max_length=100),
    AfterValidator(_printable),
    Field(json_schema_extra=TEXT),
]
Line = Annotated[
    str,
    StringConstraints(max_length=200),
    AfterValidator(_printable),
    Field(json_schema_extra=TEXT),
]
Note = Annotated[
    str,
    StringConstraints(max_length=500),
    AfterValidator(_printable),
    Field(json_schema_extra=TEXT),
]
# Text that must say something: not empty, not only spaces.
SAYS_SOMETHING = r"\S"
RequiredName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=SAYS_SOMETHING),
    AfterValidator(_printable),
    Field(json_schema_extra=TEXT),
]
RequiredLine = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=SAYS_SOMETHING),
    AfterValidator(_printable),
    Field(json_schema_extra=TEXT),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(..., ge=1, le=MAX_ID)]

# The forms of the identifiers; the services check what a pattern cannot (dates, check digits).
IdentityNumber = Annotated[
    str,
    StringConstraints(pattern=r"^ *([0-9]{6}|[0-9]{8})[-+]?[0-9]{4} *$"),
    Field(json_schema_extra={"format": "personnummer"}),
]
HsaId = Annotated[str, StringConstraints(pattern=r"^SE[0-9]{10}-[A-Za-z0-9]{1,18}$")]
CardNumber = Annotated[
    str,
    StringConstraints(
        pattern=f"^{settings.EKORT_CARD_NUMBER_PREFIX}[0-9]{{{SEQUENCE_DIGITS + 1}}}$"
    ),
    Field(json_schema_extra={"format": "card-number"}),
]
PostalCode = Annotated[str, StringConstraints(pattern=r"^([0-9]{3} ?[0-9]{2})?$")]
# The PIN's form (E6); the service judges the rest (too easy to guess, E6; the card's own).
PIN_FORM: JsonDict = {"pattern": "^[0-9]{6,8}$"}


# --- errors ---


class RefusalOut(Schema):
    """A rule refused the action (409), or the account's roles do (403, rule E10)."""

    rule: str
    sv: str
    en: str


class DetailOut(Schema):
    detail: Any


# 400: a body that does not parse as JSON at all; 422: one that parses but is not what the
# operation takes. Neither repeats what was sent.
ERRORS: dict[int, type[Schema]] = {
    400: DetailOut,
    401: DetailOut,
    403: RefusalOut,
    404: DetailOut,
    409: RefusalOut,
    422: DetailOut,
}


# --- persons ---


class PersonSearchIn(Schema):
    """Exactly one of the three. Identity numbers travel only in a request body."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"minProperties": 1, "maxProperties": 1}
    )

    identity_number: IdentityNumber | SkipJsonSchema[None] = None
    hsa_id: HsaId | SkipJsonSchema[None] = None
    card_number: CardNumber | SkipJsonSchema[None] = None


class PersonIn(Schema):
    identity_number: IdentityNumber
    given_name: RequiredName
    family_name: RequiredName
    street_address: Line = ""
    postal_code: PostalCode = ""
    postal_town: Name = ""
    hsa_id: HsaId | None = None
    unit_id: Id | None = None
    manager_id: Id | None = None
    protected_identity: bool = False


class AddressOut(Schema):
    street_address: str
    postal_code: str
    postal_town: str


class PersonOut(Schema):
    id: int
    # In full for ID administrators, support and issuer administrators; masked for others.
    identity_number: str
    identity_kind: str
    given_name: str
    family_name: str
    hsa_id: str | None
    unit_id: int | None
    manager_id: int | None
    protected_identity: bool
    # None for a person with protected identity unless the caller is staff.
    address: AddressOut | None


# --- cards ---


class OrderIn(Schema):
    person_id: Id
    card_type: CardType
    note: Note = ""


class CancelIn(Schema):
    reason: Note = ""


class ReplaceIn(Schema):
    """Why the card is replaced (E12): lost, stolen or key_compromise block the old card at
    once, and take `confirm_block: true` to say so; expiring, damaged, name_changed, new_photo
    and other leave it usable until the new card is activated, which blocks it then."""

    model_config = ConfigDict(
        json_schema_extra={
            # A reason that blocks the old card at once takes confirm_block: true (E9, E12).
            "if": {
                "properties": {"reason": {"enum": ["lost", "stolen", "key_compromise"]}},
                "required": ["reason"],
            },
            "then": {
                "properties": {"confirm_block": {"const": True}},
                "required": ["confirm_block"],
            },
        }
    )

    reason: ReplacementReason
    note: Note = ""
    confirm_block: bool = False


class PhotoIn(Schema):
    """The photo, JPEG or PNG, base64-encoded (at most 5 MB decoded)."""

    photo_base64: Annotated[
        str,
        StringConstraints(max_length=MAX_PHOTO_BASE64),
        Field(json_schema_extra={"format": "jpeg-or-png-base64"}),
    ]


class DocumentIn(Schema):
    """The identity document the ID administrator checked, as typed in."""

    kind: DocumentKind
    # 4-20 letters A-Z and digits; spaces between them are dropped.
    number: Annotated[str, StringConstraints(pattern=r"^ *([A-Za-z0-9] *){4,20}$")]
    expires_on: date | None = None
    digital: bool = False


class HandOutIn(Schema):
    document: DocumentIn


class ActivateIn(Schema):
    document: DocumentIn
    # Goes to the chip and nowhere else: never echoed, logged or stored. Left out for a reserve
    # card at assurance level 3, whose PIN is chosen at approval (E11, ApproveActivationIn).
    pin: SecretStr | None = Field(default=None, max_length=16, json_schema_extra=PIN_FORM)


class ApproveActivationIn(Schema):
    """The PIN the holder types, twice, while the second ID administrator approves (E11, R9)."""

    pin: SecretStr = Field(max_length=16, json_schema_extra=PIN_FORM)
    pin_repeat: SecretStr = Field(max_length=16, json_schema_extra=PIN_FORM)


class UnlockPinIn(Schema):
    new_pin: SecretStr = Field(max_length=16, json_schema_extra=PIN_FORM)


class BlockIn(Schema):
    reason: BlockReason
    requested_by: RequiredLine
    note: Note = ""


class WithdrawHandOutIn(Schema):
    reason: Note = ""


class PendingApprovalOut(Schema):
    """A hand-out or activation registered by one ID administrator, waiting for a second one
    (E11). The document number is left out: orderers and holders read cards too."""

    purpose: str  # hand_out or activation
    registered_by: str
    registered_at: datetime
    document_kind: str
    document_expires_on: date


class BlockOut(Schema):
    card_id: int
    reason: str
    requested_by: str
    registered_by: str | None
    registered_at: datetime
    note: str


class CardOut(Schema):
    id: int
    person_id: int
    card_type: str
    state: str
    assurance_level: str
    number: str | None
    generation: str
    sis_marked: bool
    ordered_at: datetime
    ordered_by: str
    replaces_card_id: int | None
    photographed_at: datetime | None
    produced_at: datetime | None
    valid_until: date | None
    delivery_path: str
    sent_at: datetime | None
    pickup_deadline: date | None
    activation_deadline: date | None
    activated_at: datetime | None
    closed_at: datetime | None
    block: BlockOut | None
    pending_approval: PendingApprovalOut | None = None


# --- letters ---


class LetterRefOut(Schema):
    id: int
    kind: str
    card_id: int
    queued_at: datetime


class LetterOut(LetterRefOut):
    person_id: int
    recipient_name: str
    street_address: str
    postal_code: str
    postal_town: str
    printed_at: datetime | None


class MarkPrintedIn(Schema):
    """The letters that came out of the printer; those printed already keep their time."""

    letter_ids: list[Id] = Field(min_length=1, max_length=1000)


class MarkedOut(Schema):
    marked: int


# --- self-service certificates (R12, R13) ---

# The card's PIN and the new signature code go to the chip and nowhere else.
Code = Annotated[SecretStr, Field(max_length=16, json_schema_extra=PIN_FORM)]


class SignatureIn(Schema):
    pin: Code
    signature_code: Code


class AdditionalIn(Schema):
    pin: Code
    # The name of the other region's issuing CA, e.g. "Region Uppsala Person ID 3 CA v1".
    issuer: Line


class RemoveAdditionalIn(Schema):
    pin: Code


class RenewalOut(Schema):
    """A card whose validity or certificate ends within the asked days, with no renewal under
    way (E12). No identity number."""

    card_id: int
    card_number: str
    card_type: str
    state: str
    holder: str
    hsa_id: str
    unit: str
    manager: str
    valid_until: date | None
    certificate_ends: date | None
    ends_on: date
    days_left: int


class CertificateOut(Schema):
    id: int
    card_id: int
    profile: str
    issuer: str
    serial: str
    subject: str
    not_before: datetime
    not_after: datetime
    status: str
    on_card: bool
    revoked_at: datetime | None
    revocation_reason: str
    pem: str
