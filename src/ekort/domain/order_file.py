"""Orders from a file: a manager's CSV of persons and card types, read into order lines.

One row per card to order. The first line names the columns (any order, case and spaces
ignored; columns not listed here, a name column say, are left aside):

- `personnummer` (or `identitetsnummer`, `samordningsnummer`, `identity_number`): the
  person's personnummer or samordningsnummer;
- `hsa-id` (or `hsaid`, `hsa_id`, `hsaidentity`): the person's HSA-id;
- `korttyp` (or `kort`, `typ`, `card_type`): `foto` (`fotokort`, `photo`) or `reserv`
  (`reservkort`, `reserve`);
- `anteckning` (or `note`, `kommentar`): a note for the card office, optional.

A row names its person by identity number or HSA-id; with both, the two must name the same
person. The file is UTF-8 (Excel: "CSV UTF-8"), separated by `;`, `,` or tabs. A row that
cannot be understood (a wrong check digit, an unknown card type) is named with its line and
why (`OrderFile.problems`), and the other rows are read, as the people register reads its
files: the manager fixes that row and reads the file in again, which orders nothing twice
(E8). A file that cannot be read at all (not UTF-8, no header naming the columns, too large,
broken CSV), or without one row that can be understood, is refused whole
(`OrderFileRefused`). Whether each understood row may be ordered is for the ordering rules
(E2, R1-R4, E8), row by row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from .errors import InvalidIdentifier, InvalidInput
from .identifiers import IdentifierProblem, parse_hsa_id, parse_identity_number
from .vocabulary import CardType

MAX_FILE_BYTES = 1_000_000
MAX_ROWS = 2_000
MAX_NOTE = 500
_SHOWN_PROBLEMS = 50


def _key(name: str) -> str:
    return "".join(c for c in name.strip().lower() if c.isalnum())


IDENTITY, HSA_ID, CARD_TYPE, NOTE = "identity_number", "hsa_id", "card_type", "note"
COLUMNS: dict[str, str] = {
    **dict.fromkeys(
        map(_key, ("personnummer", "identitetsnummer", "samordningsnummer", "identity_number")),
        IDENTITY,
    ),
    **dict.fromkeys(map(_key, ("hsa-id", "hsaid", "hsa_id", "hsaidentity")), HSA_ID),
    **dict.fromkeys(map(_key, ("korttyp", "kort", "typ", "card_type")), CARD_TYPE),
    **dict.fromkeys(map(_key, ("anteckning", "note", "kommentar")), NOTE),
}
CARD_TYPES: dict[str, CardType] = {
    **dict.fromkeys(("foto", "fotokort", "photo", "ordinarie"), CardType.PHOTO),
    **dict.fromkeys(("reserv", "reservkort", "reserve"), CardType.RESERVE),
}


@dataclass(frozen=True)
class OrderLine:
    """One understood row: the line it is on (the header is line 1), who, which card type."""

    line: int
    identity_number: str | None  # 12 digits, as stored
    hsa_id: str | None
    card_type: CardType
    note: str = ""

    @property
    def who(self) -> str:
        """The person as a report may name them to the one who wrote the file: the birth date
        of an identity number (the rest hidden), or the HSA-id."""
        if self.identity_number is not None:
            return f"{self.identity_number[:8]}-****"
        return str(self.hsa_id)


@dataclass(frozen=True)
class LineProblem:
    line: int  # 0: the file as a whole
    sv: str
    en: str


@dataclass(frozen=True)
class OrderFile:
    """A file as read: the rows understood, and the rows that could not be, by line."""

    lines: list[OrderLine]
    problems: list[LineProblem]


class OrderFileRefused(InvalidInput):
    """A file that is refused whole; `problems` says why, line by line, in both languages."""

    def __init__(self, problems: list[LineProblem]) -> None:
        self.problems = problems
        shown = "; ".join(
            f"line {p.line}: {p.en}" if p.line else p.en for p in problems[:_SHOWN_PROBLEMS]
        )
        more = len(problems) - _SHOWN_PROBLEMS
        tail = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"The file was not used, nothing was ordered: {shown}{tail}")


def _whole(sv: str, en: str) -> OrderFileRefused:
    return OrderFileRefused([LineProblem(0, sv, en)])


def _text(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise _whole(
            f"Filen är större än {MAX_FILE_BYTES // 1000} kB; dela upp den.",
            f"The file is larger than {MAX_FILE_BYTES // 1000} kB; split it up.",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _whole(
            "Filen är inte sparad som UTF-8. Spara den som CSV UTF-8 och försök igen.",
            "The file is not saved as UTF-8. Save it as CSV UTF-8 and try again.",
        ) from None
    if "\x00" in text:
        raise _whole(
            "Filen är ingen textfil (CSV).",
            "The file is not a text (CSV) file.",
        )
    return text


def _dialect(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep])


def _header(row: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for position, name in enumerate(row):
        meaning = COLUMNS.get(_key(name))
        if meaning is None:
            continue
        if meaning in columns:
            raise _whole(
                f"Kolumnen {name.strip()!r} finns två gånger i rubrikraden.",
                f"The column {name.strip()!r} appears twice in the header line.",
            )
        columns[meaning] = position
    if IDENTITY not in columns and HSA_ID not in columns:
        raise _whole(
            "Rubrikraden saknar en kolumn personnummer eller hsa-id. Första raden ska namnge "
            "kolumnerna, till exempel: personnummer;korttyp",
            "The header line has no column personnummer or hsa-id. The first line names the "
            "columns, for example: personnummer;korttyp",
        )
    if CARD_TYPE not in columns:
        raise _whole(
            "Rubrikraden saknar kolumnen korttyp (foto eller reserv).",
            "The header line has no column korttyp (foto or reserv).",
        )
    return columns


def _cell(row: list[str], columns: dict[str, int], meaning: str) -> str:
    position = columns.get(meaning)
    return row[position].strip() if position is not None and position < len(row) else ""


_P = IdentifierProblem
# What is wrong with a row's identifier, in Swedish (the domain's messages are English); like
# them, never the text the row holds.
_IDENTIFIER_PROBLEMS: dict[str, str] = {
    _P.IDENTITY_FORM: "Personnumret ska skrivas ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN.",
    _P.IDENTITY_PLUS: "Plustecknet hör bara till formen ÅÅMMDD+NNNN; skriv ÅÅÅÅMMDD-NNNN.",
    _P.IDENTITY_DATE: "Personnumrets födelsedatum finns inte.",
    _P.IDENTITY_FUTURE: "Personnumrets födelsedatum ligger i framtiden.",
    _P.IDENTITY_CHECK_DIGIT: (
        "Personnumrets kontrollsiffra stämmer inte; kontrollera den sista siffran."
    ),
    _P.HSA_FORM: "Ett HSA-id är SE, tio siffror, ett bindestreck och minst ett tecken till.",
    _P.HSA_LENGTH: "Ett HSA-id har högst 31 tecken.",
    _P.HSA_CHARACTERS: "Efter bindestrecket får ett HSA-id bara ha A–Z, a–z och 0–9.",
}


class _Bad(Exception):
    def __init__(self, sv: str, en: str) -> None:
        super().__init__(en)
        self.sv, self.en = sv, en


def _line(row: list[str], columns: dict[str, int], line: int, today: date) -> OrderLine:
    """One row, understood; `_Bad` says in both languages why not."""
    identity_text, hsa_text = _cell(row, columns, IDENTITY), _cell(row, columns, HSA_ID)
    if not identity_text and not hsa_text:
        raise _Bad("Personnummer eller hsa-id saknas.", "The identity number or HSA-id is missing.")
    identity = hsa = None
    try:
        if identity_text:
            identity = parse_identity_number(identity_text, today=today).digits
        if hsa_text:
            hsa = str(parse_hsa_id(hsa_text))
    except InvalidIdentifier as problem:
        sv = _IDENTIFIER_PROBLEMS.get(problem.problem, "Personnumret eller hsa-id:t är ogiltigt.")
        raise _Bad(sv, str(problem)) from None
    kind_text = _cell(row, columns, CARD_TYPE)
    kind = CARD_TYPES.get(kind_text.lower())
    if kind is None:
        shown = kind_text[:20] or "(tom)"
        raise _Bad(
            f"Okänd korttyp {shown!r}; skriv foto eller reserv.",
            f"Unknown card type {kind_text[:20] or '(empty)'!r}; write foto or reserv.",
        )
    note = _cell(row, columns, NOTE)
    if len(note) > MAX_NOTE or not note.isprintable():
        raise _Bad(
            f"Anteckningen får vara högst {MAX_NOTE} tecken, utan radbrytningar.",
            f"The note may be at most {MAX_NOTE} characters, without line breaks.",
        )
    return OrderLine(line, identity, hsa, kind, note)


def parse_order_file(data: bytes, *, today: date) -> OrderFile:
    """The rows of an order file, each with its line number, and the lines that cannot be
    understood; `OrderFileRefused` for a file that cannot be read, or has no row that can."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("the order file is read as bytes")
    text = _text(bytes(data))
    first = text.lstrip("\r\n").split("\n", 1)[0]
    if not first.strip():
        raise _whole("Filen är tom.", "The file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(first), strict=True)
    problems: list[LineProblem] = []
    lines: list[OrderLine] = []
    columns: dict[str, int] | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header(row)
                continue
            if len(lines) + len(problems) >= MAX_ROWS:
                raise _whole(
                    f"Filen har fler än {MAX_ROWS} rader; dela upp den.",
                    f"The file has more than {MAX_ROWS} rows; split it up.",
                )
            try:
                lines.append(_line(row, columns, reader.line_num, today))
            except _Bad as bad:
                problems.append(LineProblem(reader.line_num, bad.sv, bad.en))
    except csv.Error as problem:
        raise _whole(
            f"Filen kan inte läsas som CSV (rad {reader.line_num}): {problem}.",
            f"The file cannot be read as CSV (line {reader.line_num}): {problem}.",
        ) from None
    if not lines:
        raise (
            OrderFileRefused(problems)
            if problems
            else _whole(
                "Filen har inga rader att beställa, bara rubrikraden.",
                "The file has no rows to order, only the header line.",
            )
        )
    return OrderFile(lines, problems)
