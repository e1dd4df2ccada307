"""Orders from a file: what a manager's CSV may look like, the lines that cannot be read (named,
the others kept), and every way a file is refused whole."""

from __future__ import annotations

from datetime import date

import pytest

from ekort.domain.order_file import MAX_ROWS, OrderFileRefused, OrderLine, parse_order_file
from ekort.domain.vocabulary import CardType
from tests.factories import identity_number

TODAY = date(2024, 2, 6)
ERIK = identity_number("19850312", 201)
KARIN = identity_number("19900101", 202)


def parse(text: str) -> list[OrderLine]:
    read = parse_order_file(text.encode("utf-8"), today=TODAY)
    assert read.problems == []
    return read.lines


def refused(data: bytes) -> OrderFileRefused:
    with pytest.raises(OrderFileRefused) as caught:
        parse_order_file(data, today=TODAY)
    return caught.value


def test_semicolons_swedish_headers_and_line_numbers():
    lines = parse(
        f"Personnummer;Korttyp;Anteckning\n{ERIK[:8]}-{ERIK[8:]};foto;Ny i teamet\n\n"
        f"{KARIN};Reservkort;\n"
    )
    assert lines == [
        OrderLine(2, ERIK, None, CardType.PHOTO, "Ny i teamet"),
        OrderLine(4, KARIN, None, CardType.RESERVE, ""),
    ]
    assert lines[0].who == f"{ERIK[:8]}-****"  # a report never repeats the whole number


def test_commas_english_headers_hsa_id_bom_and_extra_columns():
    data = "\ufeffname,hsa_id,card_type\nErik,SE2321000198-abc1,photo\n".encode()
    [line] = parse_order_file(data, today=TODAY).lines
    assert line == OrderLine(2, None, "SE2321000198-abc1", CardType.PHOTO)
    assert line.who == "SE2321000198-abc1"


def test_both_identifiers_on_a_row_are_kept():
    [line] = parse(f"personnummer\thsa-id\tkorttyp\n{ERIK}\tSE2321000198-abc1\treserv\n")
    assert (line.identity_number, line.hsa_id) == (ERIK, "SE2321000198-abc1")


BAD_LINES = (
    "19850312-0000;foto\n"  # wrong check digit
    f"{KARIN};guldkort\n"
    ";reserv\n"
)


def test_a_line_that_cannot_be_read_is_named_and_the_others_are_kept():
    read = parse_order_file(f"personnummer;korttyp\n{ERIK};foto\n{BAD_LINES}".encode(), today=TODAY)
    assert read.lines == [OrderLine(2, ERIK, None, CardType.PHOTO)]
    assert [p.line for p in read.problems] == [3, 4, 5]
    assert "check digit" in read.problems[0].en
    assert "19850312-0000" not in read.problems[0].en + read.problems[0].sv
    assert "guldkort" in read.problems[1].sv
    assert "saknas" in read.problems[2].sv


def test_a_file_with_no_line_that_can_be_read_is_refused_whole_naming_each():
    problem = refused(f"personnummer;korttyp\n{BAD_LINES}".encode())
    assert [p.line for p in problem.problems] == [2, 3, 4]
    assert "line 2" in str(problem) and "nothing was ordered" in str(problem)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"personnummer;korttyp\n", "no rows"),
        (b"namn;korttyp\nErik;foto\n", "no column personnummer"),
        (f"personnummer;namn\n{ERIK};Erik\n".encode(), "no column korttyp"),
        (f"personnummer;korttyp;identitetsnummer\n{ERIK};foto;x\n".encode(), "appears twice"),
        ("personnummer;korttyp\n1985ÅÄÖ;foto\n".encode("cp1252"), "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "UTF-8"),
        (b"personnummer;korttyp\n\x00;foto\n", "not a text"),
        (b"personnummer;korttyp\n" + b"x" * 1_000_001, "larger than"),
        (f'personnummer;korttyp\n"{ERIK};foto\n'.encode(), "cannot be read as CSV"),
        (f"personnummer;korttyp;note\n{ERIK};foto;{'x' * 501}\n".encode(), "at most 500"),
    ],
)
def test_unreadable_files_are_refused_whole(data, words):
    assert words in str(refused(data))


def test_too_many_rows():
    rows = "".join(f"{ERIK};foto\n" for _ in range(MAX_ROWS + 1))
    assert f"more than {MAX_ROWS}" in str(refused(f"personnummer;korttyp\n{rows}".encode()))
