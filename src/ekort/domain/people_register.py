"""The people register's sources, read as hostile input, and when employment has ended (E13).

A source (a CSV file, the HSA directory) gives one record per person: its place in the source
(a line, a DN) and the text of each field it carries. `read_record` turns a record into a
`SourcePerson` or refuses it with `InvalidInput`, whose sentence says what is wrong; the
service reports the place and the sentence and goes on with the other records. A field the
source does not carry at all (a column the file lacks) is left as the register has it; a field
it carries empty clears the register's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from .errors import Decision, InvalidInput, decides
from .identifiers import IdentityNumber, parse_hsa_id, parse_identity_number
from .rulebook import rule
from .timekeeping import local_date

# The fields of a record, in the order a CSV file's documentation lists them.
FIELDS = (
    "identity_number",
    "hsa_id",
    "given_name",
    "family_name",
    "email",
    "unit_hsa_id",
    "manager_hsa_id",
    "street_address",
    "postal_code",
    "postal_town",
    "protected_identity",
    "employment_ends",
)
REQUIRED = ("identity_number", "given_name", "family_name")
ADDRESS = ("street_address", "postal_code", "postal_town")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+", re.ASCII)
_YES = frozenset({"ja", "yes", "true", "1", "j", "y"})
_NO = frozenset({"nej", "no", "false", "0", "n", ""})


def clean_text(value: object, what: str, max_length: int, *, required: bool) -> str:
    """`value` with its runs of white space made one space; refused when it is not text, is
    missing but `required`, or is longer than `max_length`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} must be text.")
    cleaned = " ".join(value.split())
    if required and not cleaned:
        raise InvalidInput(f"The {what} is missing.")
    if len(cleaned) > max_length:
        raise InvalidInput(f"The {what} is longer than {max_length} characters.")
    if not cleaned.isprintable():
        raise InvalidInput(f"The {what} holds control characters.")
    return cleaned


def clean_postal_code(value: object) -> str:
    """A Swedish postal code as its five digits ("803 20" -> "80320"); empty stays empty."""
    code = "".join(clean_text(value, "postal code", 6, required=False).split())
    if code and (len(code) != 5 or not code.isdigit() or not code.isascii()):
        raise InvalidInput("A Swedish postal code has five digits, for example 803 20.")
    return code


def clean_email(value: object) -> str:
    address = clean_text(value, "e-mail address", 254, required=False)
    if address and not _EMAIL.fullmatch(address):
        raise InvalidInput(f"The e-mail address {address[:40]!r} is not one (name@example.se).")
    return address


def _yes_no(value: str, what: str) -> bool:
    word = value.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise InvalidInput(f"The {what} is {value[:20]!r}; write yes or no (ja or nej).")


def _day(value: str, what: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    if len(text) == 15 and text.endswith("Z") and text[:14].isdigit():
        text = text[:8]  # an LDAP GeneralizedTime at midnight UTC: YYYYMMDDhhmmssZ
    try:
        if len(text) in (8, 10) and text.isascii():
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput(f"The {what} is {text[:20]!r}; write a date as YYYY-MM-DD.")


@lru_cache(maxsize=4096)
def _valid_hsa(value: str) -> str:
    # Cached: a source names each unit and manager by HSA-id on many records.
    return str(parse_hsa_id(value))


def _hsa(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return _valid_hsa(value)
    except InvalidInput as refusal:
        raise InvalidInput(f"The {what}: {refusal}") from None


@dataclass(frozen=True)
class SourceRecord:
    """One record of a source: where it is ("line 12", "DN cn=...") and its fields' text.
    `problem` is what the source itself found wrong with it (a manager's DN nobody has)."""

    where: str
    values: Mapping[str, str]
    problem: str = ""


@dataclass(frozen=True)
class SourcePerson:
    """A record that reads as a person. `given` names the fields the source carried."""

    where: str
    identity: IdentityNumber
    given: frozenset[str]
    hsa_id: str | None
    given_name: str
    family_name: str
    email: str
    unit_hsa_id: str | None
    manager_hsa_id: str | None
    street_address: str
    postal_code: str
    postal_town: str
    protected_identity: bool
    employment_ends: date | None


def read_record(record: SourceRecord, *, today: date) -> SourcePerson:
    """The person a record describes, or `InvalidInput` saying what is wrong with it."""
    if record.problem:
        raise InvalidInput(record.problem)
    values = record.values
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(name[:30] for name in unknown)}.")
    for name in REQUIRED:
        if not (values.get(name) or "").strip():
            raise InvalidInput(f"The {name.replace('_', ' ')} is missing.")

    def text(name: str) -> str:
        return values.get(name) or ""

    try:
        identity = parse_identity_number(text("identity_number"), today=today)
    except InvalidInput as refusal:
        raise InvalidInput(f"The identity number: {refusal}") from None
    hsa_id = _hsa(values.get("hsa_id"), "HSA-id")
    manager = _hsa(values.get("manager_hsa_id"), "manager's HSA-id")
    if manager is not None and manager == hsa_id:
        raise InvalidInput("The person is named as their own manager.")
    return SourcePerson(
        where=record.where,
        identity=identity,
        given=frozenset(values),
        hsa_id=hsa_id,
        given_name=clean_text(text("given_name"), "given name", 100, required=True),
        family_name=clean_text(text("family_name"), "family name", 100, required=True),
        email=clean_email(text("email")),
        unit_hsa_id=_hsa(values.get("unit_hsa_id"), "unit's HSA-id"),
        manager_hsa_id=manager,
        street_address=clean_text(text("street_address"), "street address", 200, required=False),
        postal_code=clean_postal_code(text("postal_code")),
        postal_town=clean_text(text("postal_town"), "postal town", 100, required=False),
        protected_identity=_yes_no(text("protected_identity"), "protection marking"),
        employment_ends=_day(text("employment_ends"), "end of employment"),
    )


def same_as_stored(values: Mapping[str, str], stored: Mapping[str, object]) -> bool:
    """Is every field of a record, as a source wrote it, what the register holds already?
    `stored` has the register's values as a source writes them: the identity number's 12
    digits, "" for none, dates as YYYY-MM-DD, the unit and the manager by HSA-id, and the
    protection marking as a bool. Such a record changes nothing and needs no reading: what
    the register holds was read and checked when it came. Any other record is read in full
    (`read_record`)."""
    if any(name not in values for name in REQUIRED):
        return False
    for name, raw in values.items():
        if name == "identity_number":
            digits = stored[name]
            if raw != digits and not (
                len(raw) == 13 and raw[8] == "-" and raw[:8] + raw[9:] == digits
            ):
                return False
        elif name == "protected_identity":
            if raw.strip().lower() not in (_YES if stored[name] else _NO):
                return False
        elif raw != stored.get(name):
            return False
    return True


@decides("E13")
def decide_employment(ends: date | None, now: datetime) -> Decision:
    """Is the person still employed at `now`? `ends` is the last day of employment, judged in
    Stockholm: its cards stay live through that day and are blocked from the next (E13)."""
    e13 = rule("E13")
    if ends is None or local_date(now) <= ends:
        return Decision.allow("E13", e13.sv, e13.en)
    day = ends.isoformat()
    return Decision.refuse(
        "E13",
        f"{e13.sv} Anställningen upphörde {day}.",
        f"{e13.en} The employment ended on {day}.",
    )


def card_face_outdated(produced_at: datetime | None, name_changed_at: datetime | None) -> bool:
    """Does a card produced at `produced_at` show a name the register has changed since?"""
    return produced_at is not None and name_changed_at is not None and produced_at < name_changed_at
