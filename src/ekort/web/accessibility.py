"""Tillgänglighetsredogörelse: the accessibility statement that the law on accessibility of
digital public services (DOS-lagen) asks of a public-sector web service, public, in the form
DIGG prescribes: how accessible the service is, what is known not to work and why, how it was
tested, and whom to contact (and DIGG, which supervises)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ekort.letters.render import SUPPORT_EMAIL, SUPPORT_PHONE

# When the statement was last reviewed against the service; change it with the statement.
REVIEWED_ON = date(2026, 12, 7)
DIGG_REPORT_URL = "https://www.digg.se/tdosanmalan"


def statement(request: HttpRequest) -> HttpResponse:
    context = {
        "region": settings.EKORT_CA["region"],
        "email": SUPPORT_EMAIL,
        "phone": SUPPORT_PHONE,
        "reviewed_on": REVIEWED_ON,
        "digg_url": DIGG_REPORT_URL,
    }
    return render(request, "ekort/accessibility.html", context)
