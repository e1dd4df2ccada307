"""The portal's forms: they check the shape of the input, the services check the rules."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ekort.domain.id_documents import DocumentKind
from ekort.domain.order_file import MAX_FILE_BYTES as MAX_ORDER_FILE_BYTES
from ekort.domain.vocabulary import CardType

from .labels import (
    BLOCK_REASONS,
    CARD_TYPES,
    HOLDER_BLOCK_REASONS,
    OFFICE_BLOCK_REASONS,
    ORDERER_BLOCK_REASONS,
    REPLACED_AT_ACTIVATION,
    REPLACED_AT_ONCE,
    REPLACEMENT_REASONS,
)
from .templatetags.ekort_i18n import pick

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _choices(values: tuple[str, ...], words: dict[str, Promise]) -> list[tuple[str, str | Promise]]:
    return [(value, words[value]) for value in values]


class OrderCardForm(forms.Form):
    card_type = forms.ChoiceField(
        label=_("Korttyp"),
        choices=_choices((CardType.PHOTO, CardType.RESERVE), CARD_TYPES),
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj fotokort eller reservkort.")},
    )
    note = forms.CharField(label=_("Anteckning (frivillig)"), max_length=500, required=False)


class OrderFileForm(forms.Form):
    """A CSV file of persons and card types (`ekort.domain.order_file`)."""

    file = forms.FileField(
        label=_("Fil med beställningar (CSV, högst 1 MB)"),
        error_messages={"required": _("Välj en fil att läsa in.")},
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_ORDER_FILE_BYTES:
            raise forms.ValidationError(_("Filen är större än 1 MB. Dela upp den."))
        return bytes(upload.read())


class OrderFileConfirmForm(forms.Form):
    """The file the orderer has seen the preview of, carried to the confirm step."""

    content = forms.CharField(
        widget=forms.HiddenInput,
        max_length=(MAX_ORDER_FILE_BYTES + 2) // 3 * 4,
        strip=False,
        error_messages={"required": _("Filen saknas. Läs in den igen.")},
    )

    def clean_content(self) -> bytes:
        try:
            return base64.b64decode(self.cleaned_data["content"], validate=True)
        except binascii.Error:
            raise forms.ValidationError(_("Filen kunde inte läsas. Läs in den igen.")) from None

    @staticmethod
    def carrying(data: bytes) -> OrderFileConfirmForm:
        return OrderFileConfirmForm(initial={"content": base64.b64encode(data).decode("ascii")})


class ReplaceCardForm(forms.Form):
    """Why the card is replaced (E12), and, on the second step, the confirmation that the
    manager has read what becomes of the old card."""

    reason = forms.ChoiceField(
        label=_("Varför ska kortet ersättas?"),
        choices=_choices((*REPLACED_AT_ONCE, *REPLACED_AT_ACTIVATION), REPLACEMENT_REASONS),
        error_messages={
            "required": _("Välj varför kortet ska ersättas."),
            "invalid_choice": _("Välj ett av skälen i listan."),
        },
    )
    confirm = forms.BooleanField(
        label=_("Jag har läst vad som händer med det gamla kortet."), required=False
    )


class BlockCardForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Varför ska kortet spärras?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj varför kortet ska spärras.")},
    )
    confirm = forms.BooleanField(
        label=_("Jag förstår att en spärr inte kan hävas och att ett nytt kort behöver beställas."),
        error_messages={"required": _("Bekräfta att du vill spärra kortet.")},
    )

    def __init__(self, *args: object, reasons: tuple[str, ...], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["reason"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _choices(reasons, BLOCK_REASONS)


def holder_block_form(data: object = None) -> BlockCardForm:
    return BlockCardForm(data, reasons=HOLDER_BLOCK_REASONS)


def orderer_block_form(data: object = None) -> BlockCardForm:
    return BlockCardForm(data, reasons=ORDERER_BLOCK_REASONS)


# --- Kortkontoret (ID administrator) ---------------------------------------------------------

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
_PIN_DIGITS = "0123456789"


class FindPersonForm(forms.Form):
    query = forms.CharField(
        label=_("Personnummer, HSA-id eller kortnummer"),
        max_length=40,
        error_messages={"required": _("Skriv ett personnummer, ett HSA-id eller ett kortnummer.")},
    )


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Foto (JPEG eller PNG, högst 5 MB)"),
        error_messages={"required": _("Välj ett foto att ladda upp.")},
        # On a tablet or a phone at the card office, `capture` opens the camera directly
        # (the holder faces it: "user"); on a desktop it is an ordinary file picker.
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png", "capture": "user"}),
    )

    def clean_photo(self) -> bytes:
        upload = self.cleaned_data["photo"]
        if upload.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(
                _("Fotot är större än 5 MB. Ta det igen med lägre upplösning.")
            )
        data = bytes(upload.read())
        if not data.startswith(PHOTO_SIGNATURES):
            raise forms.ValidationError(_("Fotot måste vara en JPEG- eller PNG-bild."))
        return data


class PhotoConfirmForm(forms.Form):
    """The photo the ID administrator has looked at in the preview, carried to the save step:
    nothing is kept before it is saved."""

    photo_data = forms.CharField(
        widget=forms.HiddenInput,
        max_length=(MAX_PHOTO_BYTES + 2) // 3 * 4,
        strip=False,
        error_messages={"required": _("Fotot saknas. Ta det igen.")},
    )

    def clean_photo_data(self) -> bytes:
        try:
            data = base64.b64decode(self.cleaned_data["photo_data"], validate=True)
        except binascii.Error:
            raise forms.ValidationError(_("Fotot kunde inte läsas. Ta det igen.")) from None
        if not data.startswith(PHOTO_SIGNATURES):
            raise forms.ValidationError(_("Fotot måste vara en JPEG- eller PNG-bild."))
        return data

    @staticmethod
    def carrying(photo: bytes) -> PhotoConfirmForm:
        return PhotoConfirmForm(initial={"photo_data": base64.b64encode(photo).decode("ascii")})


def _document_kinds() -> list[tuple[str, str]]:
    return [(kind.value, pick(kind.label_sv, kind.label_en)) for kind in DocumentKind]


class DocumentForm(forms.Form):
    """The identity document the ID administrator checked (E4, R17)."""

    document_kind = forms.ChoiceField(
        label=_("Id-handling"),
        choices=_document_kinds,
        error_messages={"required": _("Välj vilken id-handling som visades.")},
    )
    document_number = forms.CharField(
        label=_("Handlingens nummer"),
        max_length=40,
        error_messages={"required": _("Skriv id-handlingens nummer.")},
    )
    document_expires_on = forms.DateField(
        label=_("Giltig till (ÅÅÅÅ-MM-DD)"),
        error_messages={
            "required": _("Skriv id-handlingens sista giltighetsdag."),
            "invalid": _("Skriv datumet som ÅÅÅÅ-MM-DD."),
        },
    )


def _pin_field(label: StrOrPromise) -> forms.CharField:
    # PasswordInput never renders the value back, so a PIN is never echoed in a page.
    return forms.CharField(
        label=label,
        strip=False,
        max_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        error_messages={
            "required": _("Kortinnehavaren skriver sin kod här."),
            "max_length": _("Koden är 6–8 siffror."),
        },
    )


class PinPairForm(forms.Form):
    """The PIN pad: the holder types the new code twice."""

    pin = _pin_field(_("Ny säkerhetskod (pin), 6–8 siffror"))
    pin_repeat = _pin_field(_("Upprepa säkerhetskoden"))

    def clean_pin(self) -> str:
        pin = str(self.cleaned_data["pin"])
        if not 6 <= len(pin) <= 8 or any(c not in _PIN_DIGITS for c in pin):
            raise forms.ValidationError(_("Koden är 6–8 siffror (0–9), utan mellanslag."))
        return pin

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        pin, repeat = cleaned.get("pin"), cleaned.get("pin_repeat")
        if pin is not None and repeat is not None and pin != repeat:
            self.add_error("pin_repeat", _("Koderna är inte lika. Skriv samma kod två gånger."))
        return cleaned


class ActivateForm(DocumentForm, PinPairForm):
    pass


class WithdrawHandOutForm(forms.Form):
    """Why a registered hand-out is withdrawn (E11): optional, but it helps the next person."""

    note = forms.CharField(
        label=_("Varför återkallas registreringen? (frivilligt)"), max_length=500, required=False
    )


class OfficeBlockForm(BlockCardForm):
    requested_by = forms.CharField(
        label=_("Vem begärde spärren?"),
        max_length=200,
        error_messages={
            "required": _("Skriv vem som begärde spärren (namn, eller kortinnehavaren).")
        },
    )
    note = forms.CharField(label=_("Anteckning (frivillig)"), max_length=500, required=False)


def office_block_form(data: object = None) -> OfficeBlockForm:
    return OfficeBlockForm(data, reasons=OFFICE_BLOCK_REASONS)
