"""`ekort start`: migrate, load the demo data if the database is empty, and serve on
127.0.0.1:8000. Development only: production runs a real WSGI server (docs/operations.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Migrate, load demo data and run the development server on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("`ekort start` is for development; see docs/operations.md.")
        call_command("migrate", verbosity=0, interactive=False)
        if not options["no_demo"]:
            call_command("demo")
        self.stdout.write(f"ekort at http://127.0.0.1:{options['port']}/  (Ctrl-C stops it)")
        call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)
