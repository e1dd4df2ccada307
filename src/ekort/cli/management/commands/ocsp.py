"""`ekort ocsp serve [--host 127.0.0.1] [--port 8080] [--poll 0.2]`: the OCSP responder.

Runs `ekort.responder` (a raw ASGI application, outside Django's request cycle) under uvicorn:
one worker, no access log, uvloop and httptools when installed. It binds to the given host
only; the default is loopback, so exposing it is a decision (docs/pki.md, "OCSP responder").

The application is named to uvicorn by its import string, as uvicorn expects: the entry points
`ekort.cli` and `ekort.responder` stay independent of each other (pyproject.toml contracts).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

APP = "ekort.responder.asgi:create_app"
POLL_ENV = "EKORT_OCSP_POLL_SECONDS"  # read by create_app


class Command(BaseCommand):
    help = "Serve OCSP (RFC 6960) from the pre-signed responses: `ekort ocsp serve`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=["serve"])
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (only this)")
        parser.add_argument("--port", type=int, default=8080)
        parser.add_argument(
            "--poll", type=float, default=0.2, help="seconds between database polls"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        poll = options["poll"]
        if not 0 < poll <= 60:
            raise CommandError("--poll must be more than 0 and at most 60 seconds.")
        if not 0 < options["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        os.environ[POLL_ENV] = repr(poll)
        loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
        self.stdout.write(
            f"OCSP responder on http://{options['host']}:{options['port']}/ocsp "
            f"(polling every {poll:g} s; Ctrl-C stops it)"
        )
        uvicorn.run(
            APP,
            factory=True,
            host=options["host"],
            port=options["port"],
            workers=1,
            access_log=False,
            loop=loop,
            http=http,
            lifespan="on",
            server_header=False,
            proxy_headers=False,  # the responder never looks at the client's address
            log_level="info",
            # ekort's logging from the first line (JSON in production), access lines off.
            log_config=settings.LOGGING,
        )
