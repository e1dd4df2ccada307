"""Text that exists in both languages as data rather than in the message catalogue.

The rulebook and every refusal carry a Swedish and an English sentence (`sv`, `en`); the page
shows the one of the active language. Swedish is the source language of the portal, so
anything else falls back to Swedish.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


def pick(sv: str, en: str) -> str:
    """The sentence for the active language: English when the page is in English."""
    language = (get_language() or "sv").split("-")[0]
    return en if language == "en" and en else sv


@register.filter
def in_language(thing: Any) -> str:
    """`{{ problem|in_language }}`: the `en` or `sv` sentence of a rule, refusal or problem."""
    if isinstance(thing, Mapping):  # a row of a JSON report, such as the rules on a date
        return pick(str(thing.get("sv") or ""), str(thing.get("en") or ""))
    sv = str(getattr(thing, "sv", "") or "")
    en = str(getattr(thing, "en", "") or "")
    return pick(sv, en)


@register.filter
def summary_in_language(period: Any) -> str:
    """A policy period's summary (`summary_sv`, `summary_en`) in the page's language."""
    return pick(str(period.summary_sv), str(period.summary_en))
