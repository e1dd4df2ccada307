"""How long a signed-in session lasts: at most `absolute` after signing in, and at most `idle`
between two requests. Staff roles get EKORT_STAFF_SESSION_MAX and _IDLE, everyone else
EKORT_HOLDER_SESSION_MAX and _IDLE (no longer: settings refuse more). Judged on the process's
clock (`services.clock`), like everything else; Django's own session expiry
(SESSION_COOKIE_AGE) stays behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ekort.domain.vocabulary import Role
from ekort.services import clock
from ekort.services.roles import roles_of

SIGNED_IN_AT = "ekort_signed_in_at"
LAST_SEEN = "ekort_last_seen"
STAFF = "ekort_staff_session"
# Writing the session on every request costs a database write each; the last request is
# recorded again only once it is this old, so idle time is judged to the minute.
_LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    absolute: timedelta
    idle: timedelta


def limits(staff: bool) -> SessionLimits:
    if staff:
        return SessionLimits(settings.EKORT_STAFF_SESSION_MAX, settings.EKORT_STAFF_SESSION_IDLE)
    return SessionLimits(settings.EKORT_HOLDER_SESSION_MAX, settings.EKORT_HOLDER_SESSION_IDLE)


def is_staff_session(user: Any) -> bool:
    """Any role besides the holder's makes a staff session (the orderer holds cards too)."""
    return bool(roles_of(user) - {Role.HOLDER})


def ended(
    signed_in_at: datetime, last_seen: datetime, limits: SessionLimits, *, now: datetime
) -> str | None:
    """Which limit, "absolute" or "idle", the session is over at `now`; None if neither."""
    if now - signed_in_at > limits.absolute:
        return "absolute"
    if now - last_seen > limits.idle:
        return "idle"
    return None


def _stamp(instant: datetime) -> float:
    return instant.timestamp()


def _instant(stamp: object) -> datetime | None:
    if not isinstance(stamp, int | float):
        return None
    return datetime.fromtimestamp(stamp, tz=UTC)


def started(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """On signing in (Django's `user_logged_in`): when, and which limits apply."""
    now = _stamp(clock.now())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    request.session[STAFF] = is_staff_session(user)


class SessionLimitMiddleware:
    """Signs out a session past its limits, with a message saying why; the page asked for
    then sends the visitor to sign in again as for anyone not signed in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            self._check(request, clock.now())
        return self.get_response(request)

    def _check(self, request: HttpRequest, now: datetime) -> None:
        session = request.session
        signed_in_at = _instant(session.get(SIGNED_IN_AT))
        last_seen = _instant(session.get(LAST_SEEN))
        apply = limits(bool(session.get(STAFF)))
        if signed_in_at is None or last_seen is None:  # signed in before the limits were kept
            logout(request)
            return
        why = ended(signed_in_at, last_seen, apply, now=now)
        if why is None:
            if now - last_seen >= _LAST_SEEN_RESOLUTION:
                session[LAST_SEEN] = _stamp(now)
            return
        logout(request)
        if why == "idle":
            minutes = apply.idle // timedelta(minutes=1)
            said = _("Du har loggats ut efter %(minutes)d minuter utan aktivitet.") % {
                "minutes": minutes
            }
        else:
            hours = apply.absolute // timedelta(hours=1)
            said = ngettext(
                "Du har loggats ut: en inloggning gäller i högst %(hours)d timme.",
                "Du har loggats ut: en inloggning gäller i högst %(hours)d timmar.",
                hours,
            ) % {"hours": hours}
        messages.info(request, said)
