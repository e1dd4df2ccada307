"""The one list mechanism of the portal's long lists (Mina medarbetare, the searches, Kort som
går ut, the print queue): a GET filter form, a page of the results, and the links between
pages that keep the filters. Templates show it with `_filters.html` and `_pager.html`.

Only what a GET may carry goes in the query string: names, states, card and letter types,
offices, days. An identity number never does; the searches that take one are POSTed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.http import urlencode

T = TypeVar("T")
F = TypeVar("F", bound="FilterForm")

PER_PAGE = 25
PAGE = "sida"  # the query-string key of the page number
MAX_VALUE = 100  # a filter's value as the URL carries it, at most this long


def name_field(label: Any) -> forms.CharField:
    """A list's search by name: a search box (`type` given to the widget itself, so that it is
    written once) that the browser does not fill in from what was typed before."""
    return forms.CharField(
        label=label,
        max_length=MAX_VALUE,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class FilterForm(forms.Form):
    """A list's filters. A subclass names its fields; every field is optional, and a value
    that does not fit is shown as an error above the list while the list stays unfiltered."""

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        for field in self.fields.values():
            field.required = False

    def value(self, name: str) -> Any:
        """The cleaned value of a filter, or its field's empty value when the form is not
        valid (an unfiltered list)."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get(name)
        return self.fields[name].to_python("")


@dataclass
class Listing(Generic[T]):
    """A page of a list with its filters, and how to reach another page with the same ones."""

    page: Page[T]
    form: FilterForm
    path: str
    filters: dict[str, str]

    @property
    def rows(self) -> list[T]:
        return list(self.page.object_list)

    @property
    def filtered(self) -> bool:
        """Whether the list is narrowed by a filter the user chose (a hidden field, such as
        the worklist's days, says which list it is, not what is left out of it)."""
        return any(name not in self._kept for name in self.filters)

    @property
    def _kept(self) -> dict[str, str]:
        return {
            name: value
            for name, value in self.filters.items()
            if self.form.fields[name].widget.is_hidden
        }

    @property
    def count(self) -> int:
        return self.page.paginator.count

    def url(self, page: int | str = 1, **more: str) -> str:
        """The list at `page`, with its filters (and `more`); the first page carries no
        page number."""
        query = dict(self.filters)
        if str(page) not in ("", "1"):
            query[PAGE] = str(page)
        query.update(more)
        return f"{self.path}?{urlencode(query)}" if query else self.path

    @property
    def previous_url(self) -> str:
        return self.url(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url(self.page.next_page_number()) if self.page.has_next() else ""

    @property
    def reset_url(self) -> str:
        """The list without the user's filters (its hidden fields kept)."""
        kept = self._kept
        return f"{self.path}?{urlencode(kept)}" if kept else self.path


def set_filters(form: FilterForm) -> dict[str, str]:
    """The filters the form took, as they were written (for the links between pages)."""
    if not (form.is_bound and form.is_valid()):
        return {}
    return {
        name: str(form.data[name])[:MAX_VALUE]
        for name in form.fields
        if form.data.get(name) and form.cleaned_data.get(name) not in (None, "")
    }


def listing(
    request: HttpRequest,
    items: QuerySet[Any] | Sequence[T],
    form: FilterForm,
    *,
    per_page: int = PER_PAGE,
    path: str | None = None,
) -> Listing[T]:
    """`items` (already filtered by `form`) cut into the page the request asks for (`?sida=`;
    a page past the end is the last one)."""
    page = Paginator(items, per_page).get_page(request.GET.get(PAGE, "1"))
    return Listing(page, form, path or request.path, set_filters(form))


def bound(form_class: type[F], data: Mapping[str, Any] | None, **kwargs: Any) -> F:
    """The filter form of a list, bound to `data` (the query string) when it carries any of
    its filters (so that a bare URL shows no errors)."""
    probe = form_class(**kwargs)
    wanted = data is not None and any(name in data for name in probe.fields)
    return form_class(data if wanted else None, **kwargs)
