"""`ekort api-token --user USERNAME --name NAME`: issue a REST API token and print it once.

The token acts as that account, with its roles. Only its SHA-256 digest is stored: print it
into the place it is going, because it cannot be shown again. `--revoke ID` revokes one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.domain.errors import DomainError
from ekort.services import clock, tokens


class Command(BaseCommand):
    help = (
        "Issue an API token (Authorization: Bearer <token>) for an account, acting with its "
        "roles, and print it once; or revoke one by id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--name", help="what the token is for, e.g. 'HR integration'")
        parser.add_argument("--revoke", type=int, metavar="ID", help="revoke this token instead")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {options['user']!r}.")
        now = clock.now()
        try:
            if options["revoke"] is not None:
                record = tokens.revoke_token(actor=user, token_id=options["revoke"], now=now)
                self.stdout.write(f"Revoked API token {record.pk} ({record.name}).")
                return
            if not options["name"]:
                raise CommandError("Say what the token is for with --name.")
            token = tokens.issue_token(actor=user, name=options["name"], now=now)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(token)
