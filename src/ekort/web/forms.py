"""The portal's forms: they check the shape of the input, the services check the rules."""

from __future__ import annotations

from django import forms

from ekort.domain.vocabulary import BlockReason, CardType

from .labels import BLOCK_REASONS, CARD_TYPES, HOLDER_BLOCK_REASONS, ORDERER_BLOCK_REASONS


def _choices(values: tuple[str, ...], words: dict[str, str]) -> list[tuple[str, str]]:
    return [(value, words[value]) for value in values]


class OrderCardForm(forms.Form):
    card_type = forms.ChoiceField(
        label="Korttyp",
        choices=_choices((CardType.PHOTO, CardType.RESERVE), CARD_TYPES),
        widget=forms.RadioSelect,
        error_messages={"required": "Välj fotokort eller reservkort."},
    )
    note = forms.CharField(label="Anteckning (frivillig)", max_length=500, required=False)


class ReplaceCardForm(forms.Form):
    reason = forms.ChoiceField(
        label="Varför ska kortet ersättas?",
        choices=_choices(
            (BlockReason.REPLACED, BlockReason.LOST, BlockReason.STOLEN, BlockReason.DAMAGED),
            {**BLOCK_REASONS, BlockReason.REPLACED: "Kortet ska bytas ut (till exempel namnbyte)"},
        ),
        error_messages={"required": "Välj varför kortet ska ersättas."},
    )


class BlockCardForm(forms.Form):
    reason = forms.ChoiceField(
        label="Varför ska kortet spärras?",
        widget=forms.RadioSelect,
        error_messages={"required": "Välj varför kortet ska spärras."},
    )
    confirm = forms.BooleanField(
        label="Jag förstår att en spärr inte kan hävas och att ett nytt kort behöver beställas.",
        error_messages={"required": "Bekräfta att du vill spärra kortet."},
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
