from __future__ import annotations

from django.http import HttpRequest

from ekort.services import clock


def clock_context(request: HttpRequest) -> dict[str, object]:
    return {"ekort_now": clock.now(), "ekort_simulated": clock.is_simulated()}
