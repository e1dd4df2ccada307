"""`ekort api-token --user USERNAME --name NAME [--days N]`: issue a REST API token and print
it once.

The token acts as that account, with its roles, for N days (default `EKORT_API_TOKEN_DAYS`,
90). Only its SHA-256 digest is stored: print it into the place it is going, because it cannot
be shown again. `--revoke ID` revokes one; `--list` lists every token, for an issuer
administrator (never a token or its digest).
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
        "roles, and print it once; or revoke one by id, or list them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--name", help="what the token is for, e.g. 'HR integration'")
        parser.add_argument(
            "--days", type=int, help="how many days the token works (1-366; default 90)"
        )
        parser.add_argument("--revoke", type=int, metavar="ID", help="revoke this token instead")
        parser.add_argument(
            "--list", action="store_true", help="list every token (issuer administrator)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {options['user']!r}.")
        now = clock.now()
        try:
            if options["list"]:
                self._list(user, now)
                return
            if options["revoke"] is not None:
                record = tokens.revoke_token(actor=user, token_id=options["revoke"], now=now)
                self.stdout.write(f"Revoked API token {record.pk} ({record.name}).")
                return
            if not options["name"]:
                raise CommandError("Say what the token is for with --name.")
            token = tokens.issue_token(
                actor=user, name=options["name"], now=now, days=options["days"]
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(token)

    def _list(self, user: Any, now: Any) -> None:
        rows = tokens.list_tokens(actor=user, now=now)
        for row in rows:
            record = row.record
            used = record.last_used_at.isoformat() if record.last_used_at else "never used"
            self.stdout.write(
                f"{record.pk:>6} {row.state.value:8} {record.user.get_username():20} "
                f"expires {record.expires_at.isoformat()}  last {used}  {record.name}"
            )
        self.stdout.write(f"{len(rows)} token(s).")
