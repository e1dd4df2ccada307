"""Lists of persons as the staff pages show them (Mina medarbetare, Kundtjänst's search): one
row a person (name, unit, where they stand with their cards, the next deadline), searchable by
name and filtered by standing, card type and deadline through the one list mechanism
(`lists.py`), with a summary of the whole list on top.

The counting and filtering are `store.rosters`'; which persons the list holds is the caller's
(`services.visibility`), decided before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from ekort.domain.identifiers import mask_identity_number
from ekort.domain.timekeeping import local_date
from ekort.domain.vocabulary import CardType
from ekort.store.models import Card, Person
from ekort.store.rosters import Standing, current_cards, narrowed, standing_counts, with_standing

from .labels import CARD_STATES, CARD_TYPES
from .lists import FilterForm, Listing, bound, listing, name_field

STANDING_KEYS: dict[str, Standing] = {
    "aktivt": Standing.ACTIVE,
    "pa-vag": Standing.ON_THE_WAY,
    "bestallt": Standing.ORDERED,
    "utan": Standing.NONE,
}
# "30 med aktivt kort, 5 med kort på väg, ..." in the summary, and the filter's choices.
STANDING_WORDS: dict[Standing, Promise] = {
    Standing.ACTIVE: _("med aktivt kort"),
    Standing.ON_THE_WAY: _("med kort på väg"),
    Standing.ORDERED: _("med beställt kort"),
    Standing.NONE: _("utan kort"),
}
DEADLINE_DAYS = (14, 30, 90)


class PersonFilterForm(FilterForm):
    namn = name_field(_("Namn"))
    kort = forms.ChoiceField(label=_("Kort"))
    typ = forms.ChoiceField(label=_("Korttyp"))
    frist = forms.TypedChoiceField(label=_("Sista dag"), coerce=int, empty_value=None)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self._choose("kort", _("Alla"), [(k, STANDING_WORDS[s]) for k, s in STANDING_KEYS.items()])
        self._choose("typ", _("Alla korttyper"), [(k.value, CARD_TYPES[k.value]) for k in CardType])
        self._choose(
            "frist",
            _("Alla"),
            [(str(days), _("inom %(days)s dagar") % {"days": days}) for days in DEADLINE_DAYS],
        )

    def _choose(self, name: str, everything: Any, choices: list[tuple[str, Any]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", everything), *choices]


class CardFilterForm(PersonFilterForm):
    """The counter's list: by where persons stand with their cards, the card type and the
    deadline; not by name (the ID administrator finds a person by an identifier)."""

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        del self.fields["namn"]

    def value(self, name: str) -> Any:
        return "" if name == "namn" else super().value(name)


@dataclass(frozen=True)
class RosterRow:
    person: Person
    card: Card | None  # the card that says most about the person now; None: no card works

    @property
    def standing(self) -> Standing:
        return Standing(getattr(self.person, "standing", Standing.NONE))

    @property
    def state(self) -> str:
        if self.card is None:
            return str(STANDING_WORDS[Standing.NONE]).capitalize()
        kind = CARD_TYPES.get(self.card.card_type, self.card.card_type)
        return f"{kind}: {str(CARD_STATES.get(self.card.state, self.card.state)).lower()}"

    @property
    def masked_identity(self) -> str:
        # Birth date only: a full identity number is never put on a page of a list.
        return mask_identity_number(self.person.identity_number)

    @property
    def deadline(self) -> date | None:
        return getattr(self.person, "next_deadline", None)


@dataclass(frozen=True)
class Summary:
    total: int
    parts: list[tuple[str, int, str]]  # (words, count, the list filtered to them)


@dataclass
class Roster:
    listing: Listing[Person]
    rows: list[RosterRow]
    summary: Summary


def roster(
    request: HttpRequest,
    persons: QuerySet[Person],
    now: datetime,
    *,
    path: str | None = None,
    per_page: int = 25,
    data: Mapping[str, Any] | None = None,
    form_class: type[PersonFilterForm] = PersonFilterForm,
) -> Roster:
    """The request's page of `persons` (those the account may see), searched and filtered as
    its query string says (or `data`, a search POSTed), with the summary of them all."""
    form = bound(form_class, request.GET if data is None else data)
    everyone = with_standing(persons)
    deadline_days = form.value("frist")
    shown = narrowed(
        everyone,
        name=form.value("namn") or "",
        standing=STANDING_KEYS.get(form.value("kort") or ""),
        card_type=form.value("typ") or "",
        deadline_by=local_date(now) + timedelta(days=deadline_days) if deadline_days else None,
    )
    page: Listing[Person] = listing(request, shown, form, per_page=per_page, path=path)
    people = list(page.rows)
    cards = current_cards(person.pk for person in people)
    counts = standing_counts(everyone)
    keys = {standing: key for key, standing in STANDING_KEYS.items()}
    summary = Summary(
        total=sum(counts.values()),
        parts=[
            (str(STANDING_WORDS[s]), n, f"{page.path}?{urlencode({'kort': keys[s]})}")
            for s, n in counts.items()
            if n
        ],
    )
    return Roster(page, [RosterRow(p, cards.get(p.pk)) for p in people], summary)
