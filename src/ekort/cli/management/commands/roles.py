"""`ekort roles list|grant|withdraw`: the accounts' roles, from the server's command line.

    ekort roles list [--user USERNAME]
    ekort roles grant --user USERNAME --role security_officer
    ekort roles withdraw --user USERNAME --role issuer_admin

The same audited service as the security officer's page (`services.role_grants`); the audit
trail names whoever runs it as `console:<login>`. This is how the first security officer is
made: after that, security officers grant the roles on Behörigheter (`/sakerhet/`).
"""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.domain.errors import DomainError
from ekort.services import clock, role_grants
from ekort.services.roles import Console

ROLE_NAMES = ", ".join(e.value for e in role_grants.ENTITLEMENTS)


class Command(BaseCommand):
    help = "List, grant and withdraw the accounts' roles; each change goes to the audit trail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=["list", "grant", "withdraw"])
        parser.add_argument("--user", metavar="USERNAME", help="the account")
        parser.add_argument("--role", help=f"one of {ROLE_NAMES}")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Console(getpass.getuser())
        try:
            if options["verb"] == "list":
                self._list(actor, options["user"])
                return
            if not options["user"] or not options["role"]:
                raise CommandError("Name the account with --user and the role with --role.")
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"There is no user {options['user']!r}.")
            change = (
                role_grants.grant_role if options["verb"] == "grant" else role_grants.withdraw_role
            )
            done = change(actor=actor, user_id=user.pk, role=options["role"], now=clock.now())
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Granted" if options["verb"] == "grant" else "Withdrew"
        if done:
            self.stdout.write(f"{verb} {options['role']} for {user.get_username()}.")
        else:
            self.stdout.write(f"Nothing changed: {user.get_username()} already stood so.")

    def _list(self, actor: Console, username: str | None) -> None:
        for row in role_grants.accounts(actor=actor):
            if username and row.user.get_username() != username:
                continue
            held = ", ".join(e.value for e in row.held) or "(no role)"
            state = "" if row.user.is_active else " (inactive)"
            self.stdout.write(f"{row.user.get_username()}{state}: {held}")
