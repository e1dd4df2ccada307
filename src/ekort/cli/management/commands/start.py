"""`ekort start`: migrate, load the demo data if the database is empty, and serve on
127.0.0.1:8000, with the OCSP responder on 127.0.0.1:8080 and the CRL scheduler beside it.
Development only: production runs each as a service of its own (docs/operations.md)."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Migrate, load demo data and run ekort on 127.0.0.1 (portal :8000, OCSP :8080)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--ocsp-port", type=int, default=8080)
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("`ekort start` is for development; see docs/operations.md.")
        call_command("migrate", verbosity=0, interactive=False)
        if not options["no_demo"]:
            call_command("demo")
        ekort = [sys.executable, "-m", "ekort.cli.main"]
        helpers = [
            # Our own interpreter and fixed arguments (the port is an int): nothing untrusted.
            subprocess.Popen([*ekort, "ocsp", "serve", "--port", str(options["ocsp_port"])]),  # noqa: S603
            subprocess.Popen([*ekort, "ca", "publish", "--loop", "30"]),  # noqa: S603
        ]
        self.stdout.write(
            f"ekort at http://127.0.0.1:{options['port']}/, OCSP at "
            f"http://127.0.0.1:{options['ocsp_port']}/ocsp  (Ctrl-C stops all)"
        )
        # SIGTERM (a process manager, `kill`) and SIGHUP (the terminal closing) end the command
        # as Ctrl-C does, through the `finally` below: by default they would end this process
        # alone and leave the responder and the scheduler running.
        for stop in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop, _stop)
        try:
            call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)
        finally:
            for helper in helpers:
                helper.terminate()
            for helper in helpers:
                helper.wait(timeout=10)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
