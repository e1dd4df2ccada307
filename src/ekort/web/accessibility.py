"""Tillgänglighetsredogörelse: the accessibility statement that the law on accessibility of
digital public services (DOS-lagen) asks of a public-sector web service, public, in the form
DIGG prescribes: how accessible the service is, what is known not to work and why, how it was
tested and when it was last assessed, whom to contact, and DIGG, which supervises. What it says
the tests check is what tests/browser/test_every_page.py and test_keyboard.py do."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ekort.letters.render import SUPPORT_EMAIL, SUPPORT_PHONE

# When the service was last assessed (the tests the statement describes, and what they found
# fixed) and when the statement was last changed; change them with the statement.
ASSESSED_ON = date(2026, 12, 7)
REVIEWED_ON = date(2026, 12, 7)
DIGG_REPORT_URL = "https://www.digg.se/tdosanmalan"


def statement(request: HttpRequest) -> HttpResponse:
    context = {
        "region": settings.EKORT_CA["region"],
        "email": SUPPORT_EMAIL,
        "phone": SUPPORT_PHONE,
        "assessed_on": ASSESSED_ON,
        "reviewed_on": REVIEWED_ON,
        "digg_url": DIGG_REPORT_URL,
    }
    return render(request, "ekort/accessibility.html", context)
