"""One letter as a one-page A4 PDF, for a C5/DL window envelope.

The address block sits where the window is (20 mm from the left edge, 45 mm from the top,
85 x 45 mm). A QR code in the top right corner tells the mail room which letter this is: it
holds the letter's id and kind and nothing else, never a code or an identity number. No
identity number is printed anywhere; the PUK, for the letters that carry one, is printed once,
in a box.

Text is Swedish. The cover letter reproduces the instructions quoted in the region's notice
(R10) sentence for sentence.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, Paragraph, Spacer, Table, TableStyle

from ekort.domain.errors import InvalidInput
from ekort.domain.letter_rules import carries_puk
from ekort.domain.pins import validate_puk
from ekort.domain.vocabulary import CardType, LetterKind

# R18: how the card support desk is reached (the notice's own words).
SUPPORT_EMAIL = "ekortorder@regiongavleborg.se"
SUPPORT_PHONE = "(026-1) 53 000"
SUPPORT_PHONE_MENU = "välj IT och sedan e-tjänstekort"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
# The window of a C5 or DL window envelope, measured from the page's top left corner.
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH, WINDOW_HEIGHT = 20 * mm, 45 * mm, 85 * mm, 45 * mm
QR_SIZE = 24 * mm
QR_PREFIX = "EKORT-LETTER"

# R10: the cover letter's instructions, as the notice quotes them.
COVER_LETTER_INTRO = (
    "Detta är ditt personliga SITHS-kort. Du måste aktivera kortet innan användning.",
    "För att aktivera kortet måste du göra ett personligt besök hos din ID-administratör.",
)
COVER_LETTER_BRING = ("Du behöver ta med:", "SITHS-kortet", "Giltig svensk id-handling")
COVER_LETTER_ACTIVATION = (
    "Kortet måste aktiveras inom tre månader och går inte att använda innan dess. "
    "I samband med aktivering kommer du att få välja din säkerhetskod."
)
COVER_LETTER_NOTICE = (
    "OBS! Ditt SITHS-kort är en värdehandling som innehåller din personliga SITHS e-legitimation."
)
COVER_LETTER_RESPONSIBILITY = (
    "Kortet och den säkerhetskod du väljer vid aktiveringen är personliga. "
    "Du ansvarar för att ingen annan än du kommer åt dem."
)

_MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
_WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")

_TITLES = {
    LetterKind.COVER_LETTER: "Ditt nya e-tjänstekort",
    LetterKind.CODE_ENVELOPE: "Kodkuvert till ditt e-tjänstekort",
    LetterKind.PIN_PUK_LETTER: "Pin/puk-brev till ditt e-tjänstekort",
}
_KIND_NAMES = {
    LetterKind.COVER_LETTER: "följebrev",
    LetterKind.CODE_ENVELOPE: "kodkuvert",
    LetterKind.PIN_PUK_LETTER: "pin/puk-brev",
}


def swedish_date(day: dt.date, *, weekday: bool = False) -> str:
    """`31 januari 2024`, or `onsdag den 31 januari 2024`."""
    text = f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return f"{_WEEKDAYS[day.weekday()]} den {text}" if weekday else text


@dataclass(frozen=True)
class LetterData:
    """Everything printed on one letter. `puk` only for the letters that carry it: the PIN/PUK
    letter (R14, R15) and a reserve card's code envelope (R16); None on every other letter."""

    kind: LetterKind
    recipient_name: str
    street_address: str
    postal_code: str
    postal_town: str
    card_number: str
    card_type: CardType
    letter_id: int
    date: dt.date
    region_name: str
    support_email: str = SUPPORT_EMAIL
    support_phone: str = SUPPORT_PHONE
    support_phone_menu: str = SUPPORT_PHONE_MENU
    pickup_deadline: dt.date | None = None  # R3, code envelopes on the legacy path
    activation_deadline: dt.date | None = None  # R8, cover letters
    # Never in repr(), should a LetterData end up in a log or a traceback.
    puk: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LetterKind(self.kind))
        object.__setattr__(self, "card_type", CardType(self.card_type))
        if carries_puk(self.kind, self.card_type):
            if self.puk is None:
                raise InvalidInput(f"A {self.kind} for a {self.card_type} card carries its PUK.")
            validate_puk(self.puk)
        elif self.puk is not None:
            raise InvalidInput(f"A {self.kind} for a {self.card_type} card carries no PUK.")


def qr_payload(data: LetterData) -> str:
    """What the mail room's scanner reads: the letter's id and kind, nothing else."""
    return f"{QR_PREFIX}:{data.letter_id}:{data.kind.value}"


# --- styles --------------------------------------------------------------------------------

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=10.5, leading=14, spaceAfter=6)
_BULLET = ParagraphStyle("bullet", parent=_BODY, leftIndent=12, bulletIndent=2, spaceAfter=2)
_STRONG = ParagraphStyle("strong", parent=_BODY, fontName="Helvetica-Bold")
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="Helvetica-Bold", fontSize=15, leading=19)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=11, spaceAfter=0)


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(text), style)


def _bullets(items: tuple[str, ...]) -> list[Flowable]:
    return [Paragraph(escape(item), _BULLET, bulletText="•") for item in items]


def _puk_box(puk: str) -> Table:
    """The PUK, once, large, in a box."""
    label = Paragraph("Din puk-kod", _SMALL)
    code = Paragraph(
        escape(puk),
        ParagraphStyle("puk", fontName="Courier-Bold", fontSize=22, leading=26),
    )
    box = Table([[label], [code]], colWidths=[70 * mm], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
            ]
        )
    )
    return box


def _support(data: LetterData) -> Paragraph:
    # The notice's own sentence (R18), with the region's contact details.
    return _p(
        f"Kontakta e-tjänstekortsupporten om du har frågor via {data.support_email} eller "
        f"{data.support_phone} ({data.support_phone_menu})."
    )


# --- the three letters ---------------------------------------------------------------------


def _cover_letter(data: LetterData) -> list[Flowable]:
    body: list[Flowable] = [_p(sentence) for sentence in COVER_LETTER_INTRO]
    body.append(_p(COVER_LETTER_BRING[0], _BODY))
    body += _bullets(COVER_LETTER_BRING[1:])
    body.append(Spacer(1, 4))
    body.append(_p(COVER_LETTER_ACTIVATION))
    if data.activation_deadline is not None:
        body.append(
            _p(
                f"Sista dag att aktivera kortet: {swedish_date(data.activation_deadline)}. "
                "Kort som inte aktiveras kommer spärras.",
                _STRONG,
            )
        )
    body.append(_p(COVER_LETTER_NOTICE, _STRONG))
    body.append(_p(COVER_LETTER_RESPONSIBILITY))
    body.append(_p("ID-administratör finns på något av kortkontoren."))
    return body


def _code_envelope(data: LetterData) -> list[Flowable]:
    body: list[Flowable] = []
    if data.pickup_deadline is not None:
        # Legacy path (R3): the holder collects the card at a hand-out point. On a photo card's
        # envelope ekort prints no code: the PIN is set on the chip at hand-out, and a holder
        # who later needs the PUK orders a PIN/PUK letter (R15).
        body += [
            _p(
                "Ditt e-tjänstekort är klart. Du behöver hämta ut ditt kort på ett av "
                "e-tjänstekortens utlämningsställen så snart som möjligt. "
                "Ta med giltig id-handling."
            ),
            _p(
                "Sista datum för att hämta ut ditt kort är "
                f"{swedish_date(data.pickup_deadline, weekday=True)}. "
                "Kort som inte hämtas ut kommer spärras.",
                _STRONG,
            ),
        ]
    if data.puk is not None:
        # A reserve card (R16): its PUK comes in this envelope and nowhere else, ever.
        body += [
            _p(
                "Här är puk-koden till ditt reservkort (e-tjänstekort utan foto). För att låsa "
                "upp din PIN-kod till reservkort används den tillhörande PUK-koden."
            ),
            Spacer(1, 4),
            _puk_box(data.puk),
            Spacer(1, 8),
            _p(
                "Om du anger fel PIN-kod för många gånger låses kortet. Ange då puk-koden och "
                "välj en ny PIN-kod."
            ),
            _p(
                "Spara brevet på ett säkert ställe, skilt från kortet. Saknas kodbrevet behöver "
                "ett nytt kort beställas av närmaste chef/motsvarande. Det går inte att beställa "
                "nytt kodbrev till reservkort.",
                _STRONG,
            ),
        ]
    body.append(
        _p(
            "Kortet och dess koder är personliga. "
            "Du ansvarar för att ingen annan än du kommer åt dem."
        )
    )
    return body


def _pin_puk_letter(data: LetterData) -> list[Flowable]:
    assert data.puk is not None
    return [
        _p(
            "Här är puk-koden till ditt e-tjänstekort, som du har beställt till din "
            "folkbokföringsadress."
        ),
        Spacer(1, 4),
        _puk_box(data.puk),
        Spacer(1, 8),
        _p(
            "Med puk-koden låser du upp din pin-kod: om du har angett fel pin-kod för många "
            "gånger och kortet är låst, anger du puk-koden och väljer sedan en ny pin-kod."
        ),
        _p(
            "Om ditt e-tjänstekort utfärdats efter den 25 januari 2024 kan du också få din "
            "pin-kod upplåst med hjälp av en id-administratör på ett av kortkontoren."
        ),
        _p(
            "Puk-koden är personlig. Spara brevet på ett säkert ställe, skilt från kortet, och "
            "lämna aldrig ut koden till någon annan. Du ansvarar för att ingen annan än du "
            "kommer åt den.",
            _STRONG,
        ),
    ]


_BODIES = {
    LetterKind.COVER_LETTER: _cover_letter,
    LetterKind.CODE_ENVELOPE: _code_envelope,
    LetterKind.PIN_PUK_LETTER: _pin_puk_letter,
}


# --- the page ------------------------------------------------------------------------------


def _from_top(y: float) -> float:
    return PAGE_HEIGHT - y


def _draw_qr(canvas: Canvas, payload: str) -> None:
    widget = QrCodeWidget(payload, barBorder=0)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(
        QR_SIZE,
        QR_SIZE,
        transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0],
    )
    drawing.add(widget)
    x = PAGE_WIDTH - MARGIN - QR_SIZE
    y = _from_top(12 * mm) - QR_SIZE
    renderPDF.draw(drawing, canvas, x, y)
    canvas.setFont("Helvetica", 6.5)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, y - 3 * mm, payload)


def _draw_header(canvas: Canvas, data: LetterData) -> None:
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(MARGIN, _from_top(20 * mm), data.region_name)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(MARGIN, _from_top(25 * mm), "E-tjänstekort (SITHS-kort)")


def _draw_address(canvas: Canvas, data: LetterData) -> None:
    """Inside the envelope's window: a return line, then the registered address."""
    left, top = WINDOW_LEFT + 4 * mm, WINDOW_TOP + 5 * mm
    canvas.setFont("Helvetica", 7)
    canvas.drawString(left, _from_top(top), f"Avsändare: {data.region_name}, e-tjänstekort")
    canvas.setFont("Helvetica", 11)
    lines = (
        data.recipient_name,
        data.street_address,
        f"{data.postal_code[:3]} {data.postal_code[3:]}  {data.postal_town.upper()}".strip(),
    )
    for n, line in enumerate(lines):
        canvas.drawString(left, _from_top(top + 10 * mm + n * 5.5 * mm), line)


def _draw_references(canvas: Canvas, data: LetterData) -> None:
    left, top = 120 * mm, WINDOW_TOP + 10 * mm
    rows = (
        ("Datum", swedish_date(data.date)),
        ("Kortnummer", data.card_number),
        ("Brev", f"{data.letter_id} ({_KIND_NAMES[data.kind]})"),
    )
    for n, (label, value) in enumerate(rows):
        y = _from_top(top + n * 5.5 * mm)
        canvas.setFont("Helvetica", 8.5)
        canvas.drawString(left, y, label)
        canvas.setFont("Helvetica", 10)
        canvas.drawString(left + 24 * mm, y, value)


def _draw_footer(canvas: Canvas, data: LetterData) -> None:
    canvas.setStrokeColor(colors.grey)
    canvas.line(MARGIN, 22 * mm, PAGE_WIDTH - MARGIN, 22 * mm)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(
        MARGIN,
        17 * mm,
        f"{data.region_name} · e-tjänstekortsupport · {data.support_email} · "
        f"{data.support_phone} ({data.support_phone_menu})",
    )


def render_letter(data: LetterData) -> bytes:
    """The letter as PDF bytes: one A4 page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"{_TITLES[data.kind]} (brev {data.letter_id})")
    canvas.setAuthor(data.region_name)
    canvas.setSubject(qr_payload(data))
    _draw_header(canvas, data)
    _draw_qr(canvas, qr_payload(data))
    _draw_address(canvas, data)
    _draw_references(canvas, data)

    top = WINDOW_TOP + WINDOW_HEIGHT + 8 * mm
    frame = Frame(
        MARGIN,
        26 * mm,
        PAGE_WIDTH - 2 * MARGIN,
        _from_top(top) - 26 * mm,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    story: list[Flowable] = [_p(_TITLES[data.kind], _TITLE), Spacer(1, 4)]
    story += _BODIES[data.kind](data)
    story += [Spacer(1, 6), _support(data), _p(f"Med vänlig hälsning, {data.region_name}")]
    frame.addFromList(story, canvas)
    if story:
        raise InvalidInput(f"Letter {data.letter_id} does not fit on one page.")
    _draw_footer(canvas, data)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
