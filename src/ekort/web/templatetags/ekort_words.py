"""Codes and accounts put in words where a template shows them: `{{ user|staff }}` names a
member of staff as every page does (`labels.staff_name`), `{{ period|period_title }}` a policy
period as the calendar calls it in the page's language."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

from ekort.web.labels import staff_name

from .ekort_i18n import pick

register = template.Library()


@register.filter
def staff(user: Any) -> str:
    return staff_name(user)


@register.filter
def period_title(period: Any) -> str:
    """The period's title in the page's language; a period without one, by its days."""
    title = pick(str(period.title_sv), str(period.title_en))
    return title or gettext("Perioden %(days)s") % {"days": period.days}
