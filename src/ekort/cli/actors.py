"""What the `ekort` commands that act for someone share: the account `--actor` names, and the
instant `--at` names (now when it is not given)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ekort.domain.timekeeping import parse_instant
from ekort.services import clock


def actor_named(username: str) -> Any:
    """The account called `username`, or the command's error saying there is none."""
    actor = get_user_model().objects.filter(username=username).first()
    if actor is None:
        raise CommandError(f"There is no user {username!r}.")
    return actor


def instant_or_now(text: str | None) -> datetime:
    """The instant `text` names (ISO 8601, judged in Stockholm), or now."""
    return parse_instant(text) if text else clock.now()
