"""Logs as JSON lines, each with the request it belongs to (docs/operations.md, "Logs").

Plain Python, no Django: the portal, the API, the jobs and the OCSP responder all log through
`JsonFormatter`, set up by `settings.LOGGING` (or, for the responder's uvicorn, by
`logging_config`). One line per record:

    {"time": "2026-12-07T04:44:50.123Z", "level": "ERROR", "logger": "django.request",
     "message": "Internal Server Error: /kort/", "request_id": "5f0c...", "process": 1234,
     "exception": "Traceback (most recent call last): ..."}

`request_id` is the id of the request being served on this thread or task (`REQUEST_ID`, set by
`ekort.web.observe.RequestIdMiddleware` for the portal and the API), "-" outside a request.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str] = ContextVar("ekort_request_id", default="-")

# The attributes every LogRecord has; anything else was passed as `extra=` and is kept.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName"}
)
# Never written to a log, even when passed as `extra=` (a request object, for one, holds the
# session cookie and the POST body).
_NEVER = frozenset({"request", "pin", "puk", "code", "password", "secret", "token"})
_NEVER |= {"color_message"}  # uvicorn's copy of the message with terminal colours


class RequestIdFilter(logging.Filter):
    """Puts the current request id on each record, for formatters that name `%(request_id)s`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; an exception's traceback in "exception"."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = record.created
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
            + f".{int(seconds % 1 * 1000):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key in _NEVER or key.startswith("_"):
                continue
            line[key] = (
                value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
            )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def logging_config(json_lines: bool, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for ekort's processes: ekort's own loggers, Django's
    (server errors with their traceback: `django.request` logs every 5xx) and uvicorn's, to
    standard error, as JSON lines or as text."""
    formatter: dict[str, Any] = (
        {"()": "ekort.logs.JsonFormatter"} if json_lines else {"format": TEXT_FORMAT}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "ekort",
        "filters": ["request_id"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "ekort.logs.RequestIdFilter"}},
        "formatters": {"ekort": formatter},
        "handlers": {"console": handler},
        "loggers": {
            "ekort": {"handlers": ["console"], "level": level, "propagate": False},
            # Server errors (5xx, with the traceback) and refused requests (4xx, warnings).
            "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "uvicorn": {"handlers": ["console"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # No line per request: nginx keeps the access log. Named here, because configuring
            # "uvicorn" resets its children, and uvicorn writes access lines whenever this
            # logger has a handler to reach (it cost the OCSP responder 40 % of its rate).
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }
