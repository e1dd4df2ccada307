"""The people register's sources, read into records for `people_register.apply_records`: a CSV
file, and an LDAP directory with HSA-style attributes (the HSA catalogue).

A source that cannot be read as a whole (no such file, a wrong encoding, a missing or unknown
column, a directory that does not answer) is refused with `InvalidInput` before anything is
changed. A single record that is wrong is the register's business: it is reported, the others
go in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ekort.domain.errors import InvalidInput
from ekort.domain.people_register import FIELDS, REQUIRED, SourceRecord

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_RECORDS = 2_000_000


# --- CSV ---------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[SourceRecord]:
    """The records of a CSV file: UTF-8 (a byte-order mark allowed), separated by commas,
    semicolons or tabs, with a header row naming columns of `FIELDS` (or their Swedish names,
    `ALIASES`). Columns the file lacks are left as the register has them; `REQUIRED` ones must
    be there."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path.name} is {size} bytes, more than {MAX_FILE_BYTES}.")
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"{path} cannot be read: {error.strerror or error}.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidInput(
            f"{path.name} is not UTF-8 text (line {line}); save it as UTF-8 and try again."
        ) from None
    return csv_records(text, path.name)


def csv_records(text: str, name: str = "the file") -> list[SourceRecord]:
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise InvalidInput(f"{name} holds NUL characters: it is not a text file.")
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise InvalidInput(f"{name} is empty: it needs a header row naming its columns.")
        columns = _columns(header, name)
        records = list(_rows(reader, columns, name))
    except csv.Error as error:
        raise InvalidInput(f"{name}, line {reader.line_num}: {error}.") from None
    return records


# Swedish names a column may have instead (case, spaces, "-" and "_" aside).
ALIASES = {
    "personnummer": "identity_number",
    "identitetsnummer": "identity_number",
    "samordningsnummer": "identity_number",
    "hsaid": "hsa_id",
    "hsaidentity": "hsa_id",
    "fornamn": "given_name",
    "förnamn": "given_name",
    "efternamn": "family_name",
    "epost": "email",
    "mail": "email",
    "enhet": "unit_hsa_id",
    "enhetenshsaid": "unit_hsa_id",
    "enhetshsaid": "unit_hsa_id",
    "chef": "manager_hsa_id",
    "chefenshsaid": "manager_hsa_id",
    "chefshsaid": "manager_hsa_id",
    "gatuadress": "street_address",
    "utdelningsadress": "street_address",
    "postnummer": "postal_code",
    "postort": "postal_town",
    "skyddadepersonuppgifter": "protected_identity",
    "skyddad": "protected_identity",
    "sistaanstallningsdag": "employment_ends",
    "sistaanställningsdag": "employment_ends",
    "slutdatum": "employment_ends",
}


def _column(cell: str) -> str:
    text = cell.strip().lower()
    if text in FIELDS:
        return text
    squeezed = "".join(ch for ch in text if ch not in " -_")
    return ALIASES.get(squeezed, text)


def _columns(header: list[str], name: str) -> list[str]:
    columns = [_column(cell) for cell in header]
    unknown = [column for column in columns if column not in FIELDS]
    if unknown:
        shown = ", ".join(repr(column[:30]) for column in unknown[:5])
        raise InvalidInput(
            f"{name} has unknown columns ({shown}); the columns are {', '.join(FIELDS)}."
        )
    doubled = sorted({column for column in columns if columns.count(column) > 1})
    if doubled:
        raise InvalidInput(f"{name} names the column {doubled[0]} more than once.")
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise InvalidInput(f"{name} lacks the columns {', '.join(missing)}.")
    return columns


def _rows(reader: Any, columns: list[str], name: str) -> Iterator[SourceRecord]:
    """A record per row, its place the line it ends on (a quoted field may span lines)."""
    count = 0
    for cells in reader:
        where = f"line {reader.line_num}"
        if not any(cell.strip() for cell in cells):
            continue  # an empty line, often the last
        count += 1
        if count > MAX_RECORDS:
            raise InvalidInput(f"{name} has more than {MAX_RECORDS} rows.")
        if len(cells) != len(columns):
            yield SourceRecord(
                where,
                {},
                f"The row has {len(cells)} fields; the header names {len(columns)}.",
            )
            continue
        yield SourceRecord(where, dict(zip(columns, cells, strict=True)))


# --- LDAP --------------------------------------------------------------------------------------

# Directory attribute -> record field. HSA names the person's HSA-id `hsaIdentity` and the
# identity number `personalIdentityNumber`; the rest are inetOrgPerson's, but for the
# protection marking and the end of employment, which a small local schema adds
# (docs/ldap/ekort-hsa.schema; docs/operations.md, "The people register"). The unit is the
# nearest entry above the person that is an organizational unit with an HSA-id; the manager
# is the `manager` attribute's DN.
ATTRIBUTES = {
    "hsaIdentity": "hsa_id",
    "personalIdentityNumber": "identity_number",
    "givenName": "given_name",
    "sn": "family_name",
    "mail": "email",
    "street": "street_address",
    "postalCode": "postal_code",
    "l": "postal_town",
    "ekortProtectedIdentity": "protected_identity",
    "ekortEmploymentEnd": "employment_ends",
}
PERSON_CLASS = "inetOrgPerson"
UNIT_CLASS = "organizationalUnit"
PAGE_SIZE = 500
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Directory:
    """Where the directory is and how to read it. The password is never logged."""

    url: str
    base: str
    bind_dn: str = ""
    password: str = ""

    @property
    def name(self) -> str:
        return f"{self.url.rstrip('/')}/{self.base}"


def _normal(dn: str) -> str:
    from ldap3.utils.dn import safe_dn

    return str(safe_dn(dn)).lower()


def _parent(dn: str) -> str | None:
    from ldap3.utils.dn import to_dn

    parts = to_dn(dn)
    return ",".join(parts[1:]) if len(parts) > 1 else None


def _first(values: object) -> str:
    if isinstance(values, list | tuple):
        values = values[0] if values else ""
    if isinstance(values, bytes):
        return values.decode("utf-8", "replace")
    if isinstance(values, bool):
        return "TRUE" if values else "FALSE"
    return "" if values is None else str(values)


def read_directory(directory: Directory) -> list[SourceRecord]:
    """Every person in the directory under its base, as records, the DN as their place."""
    from ldap3 import SUBTREE, Connection, Server
    from ldap3.core.exceptions import LDAPException

    if not directory.url.startswith(("ldap://", "ldaps://")):
        raise InvalidInput(f"{directory.url[:60]!r} is not an LDAP URL (ldap://host:port).")
    server = Server(directory.url, connect_timeout=TIMEOUT_SECONDS)
    wanted = ["objectClass", "manager", *ATTRIBUTES]
    try:
        connection = Connection(
            server,
            user=directory.bind_dn or None,
            password=directory.password or None,
            auto_bind=True,
            read_only=True,
            receive_timeout=TIMEOUT_SECONDS,
            raise_exceptions=True,
        )
        with connection:
            entries = list(
                connection.extend.standard.paged_search(
                    directory.base,
                    "(|(objectClass=inetOrgPerson)(&(objectClass=organizationalUnit)(hsaIdentity=*)))",
                    search_scope=SUBTREE,
                    attributes=wanted,
                    paged_size=PAGE_SIZE,
                    generator=False,
                )
            )
    except LDAPException as error:
        raise InvalidInput(
            f"The directory {directory.name} could not be read: {error.__class__.__name__}: "
            f"{str(error)[:200]}. Nothing was changed."
        ) from None
    return _records(entry for entry in entries if entry.get("type") == "searchResEntry")


def _records(entries: Iterator[dict[str, object]]) -> list[SourceRecord]:
    units: dict[str, str] = {}
    persons: list[tuple[str, Mapping[str, object]]] = []
    hsa_of: dict[str, str] = {}  # a person's DN (normal form) -> their HSA-id ("" if none)
    for entry in entries:
        dn = str(entry["dn"])
        attributes = entry.get("attributes") or {}
        assert isinstance(attributes, Mapping)
        classes = {str(value).lower() for value in attributes.get("objectClass", [])}
        hsa = _first(attributes.get("hsaIdentity"))
        if PERSON_CLASS.lower() in classes:
            persons.append((dn, attributes))
            hsa_of[_normal(dn)] = hsa
        elif UNIT_CLASS.lower() in classes and hsa:
            units[_normal(dn)] = hsa
    records = []
    for dn, attributes in persons:
        values = {field: _first(attributes.get(name)) for name, field in ATTRIBUTES.items()}
        values["unit_hsa_id"] = _unit_of(dn, units)
        problem = ""
        manager_dn = _first(attributes.get("manager"))
        if manager_dn:
            manager = hsa_of.get(_normal(manager_dn))
            if manager is None:
                problem = f"Unknown manager: the directory has no person {manager_dn[:120]}."
            elif not manager:  # the register knows a manager by their HSA-id alone
                problem = f"Unknown manager: {manager_dn[:120]} has no HSA-id in the directory."
            values["manager_hsa_id"] = manager or ""
        else:
            values["manager_hsa_id"] = ""
        records.append(SourceRecord(f"DN {dn}", values, problem))
    return records


def _unit_of(dn: str, units: dict[str, str]) -> str:
    parent = _parent(dn)
    while parent:
        unit = units.get(_normal(parent))
        if unit is not None:
            return unit
        parent = _parent(parent)
    return ""
