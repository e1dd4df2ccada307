"""The responder as a process runs it: `uvicorn --factory ekort.responder.asgi:create_app`
(which is what `ekort ocsp serve` does).

Django is set up here, before the models are imported, because the store's poll thread reads
the database through the ORM. The request path itself never enters Django.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import Responder

POLL_ENV = "EKORT_OCSP_POLL_SECONDS"
DEFAULT_POLL = 0.2


def create_app(poll_interval: float | None = None) -> Responder:
    """A responder whose store is loaded at lifespan startup and polled every
    `poll_interval` seconds (default: $EKORT_OCSP_POLL_SECONDS, else 0.2)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ekort.settings")
    import django

    django.setup()
    from .app import Responder
    from .store import ResponseStore

    if poll_interval is None:
        poll_interval = float(os.environ.get(POLL_ENV, "") or DEFAULT_POLL)
    if poll_interval <= 0:
        raise ValueError(f"The poll interval must be positive, not {poll_interval}.")
    return Responder(ResponseStore(), poll_interval=poll_interval)
