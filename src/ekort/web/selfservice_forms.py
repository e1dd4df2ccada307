"""The forms of the holder's certificate pages (R12, R13).

Codes are typed in password fields that never render their value back (Django's PasswordInput
drops it), and the browser is asked neither to fill them in nor to offer to save them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from ekort.domain.errors import InvalidInput, Refused
from ekort.domain.pins import validate_pin
from ekort.store.models import CertificateAuthority

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_DIGITS = "0123456789"


def _code_field(
    label: StrOrPromise, *, autocomplete: str, required: StrOrPromise
) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=8,
        widget=forms.PasswordInput(
            attrs={"autocomplete": autocomplete, "inputmode": "numeric", "maxlength": "8"}
        ),
        error_messages={"required": required, "max_length": _("Koden är 6–8 siffror.")},
    )


def _pin_field() -> forms.CharField:
    # The card's PIN, chosen at activation (R9): the chip changes keys only for its holder.
    return _code_field(
        _("Kortets säkerhetskod (pin)"),
        autocomplete="off",
        required=_("Skriv kortets säkerhetskod (pin)."),
    )


def _well_formed(code: str) -> str:
    if not 6 <= len(code) <= 8 or any(c not in _DIGITS for c in code):
        raise forms.ValidationError(_("Koden är 6–8 siffror (0–9), utan mellanslag."))
    return code


class SignatureForm(forms.Form):
    """R12: the card's PIN, and the new signature code twice."""

    pin = _pin_field()
    code = _code_field(
        _("Ny underskriftskod, 6–8 siffror"),
        autocomplete="new-password",
        required=_("Välj en underskriftskod."),
    )
    code_repeat = _code_field(
        _("Upprepa underskriftskoden"),
        autocomplete="new-password",
        required=_("Skriv underskriftskoden en gång till."),
    )

    def clean_pin(self) -> str:
        return _well_formed(str(self.cleaned_data["pin"]))

    def clean_code(self) -> str:
        code = _well_formed(str(self.cleaned_data["code"]))
        try:
            validate_pin(code)  # the same rules as the PIN (E6)
        except Refused:
            raise forms.ValidationError(
                _(
                    "Underskriftskoden är för lätt att gissa (regel E6). Välj en kod som inte är "
                    "en och samma siffra eller siffror i följd uppåt eller nedåt."
                )
            ) from None
        except InvalidInput:
            raise forms.ValidationError(_("Koden är 6–8 siffror (0–9), utan mellanslag.")) from None
        return code

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        code, repeat = cleaned.get("code"), cleaned.get("code_repeat")
        if code is not None and repeat is not None and code != repeat:
            self.add_error("code_repeat", _("Koderna är inte lika. Skriv samma kod två gånger."))
        return cleaned


def _foreign_issuers() -> list[tuple[str, str]]:
    names = CertificateAuthority.objects.filter(role=CertificateAuthority.Role.FOREIGN)
    return [(name, name) for name in names.order_by("name").values_list("name", flat=True)]


class AdditionalForm(forms.Form):
    """R13: which other region's certificate to put on the card (adding or swapping)."""

    issuer = forms.ChoiceField(
        label=_("Utfärdare (den andra regionen)"),
        choices=_foreign_issuers,
        error_messages={
            "required": _("Välj vilken region certifikatet ska komma från."),
            "invalid_choice": _("Välj en utfärdare i listan."),
        },
    )
    pin = _pin_field()

    def clean_pin(self) -> str:
        return _well_formed(str(self.cleaned_data["pin"]))


class RemoveAdditionalForm(forms.Form):
    pin = _pin_field()
    confirm = forms.BooleanField(
        label=_(
            "Jag förstår att tilläggscertifikatet spärras och tas bort från kortet och att det "
            "inte kan återställas."
        ),
        error_messages={"required": _("Bekräfta att du vill ta bort tilläggscertifikatet.")},
    )

    def clean_pin(self) -> str:
        return _well_formed(str(self.cleaned_data["pin"]))
