"""`ekort demo [--at INSTANT]`: migrate, then fill an empty database with the demo region and its
logins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort import demo
from ekort.domain.errors import DomainError, InvalidInput
from ekort.domain.lifecycle import CardState
from ekort.domain.timekeeping import parse_instant
from ekort.domain.vocabulary import Generation
from ekort.services import clock


class Command(BaseCommand):
    help = (
        "Build the demo: Region Gävleborg's card offices, about fifty persons and their cards "
        "in every state, walked through the card services from 2018 to the build instant, and "
        "one login per role. Does nothing if the demo is already there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at",
            metavar="DATE|INSTANT",
            help="Build the demo as of this Stockholm date or ISO 8601 instant (default: now), "
            "for example 2024-01-10 or 2026-11-28T10:00+01:00.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            at = parse_instant(options["at"]) if options["at"] else clock.now()
        except InvalidInput as error:
            raise CommandError(str(error)) from error
        if not settings.PRODUCTION:  # where the demo refuses to run (below), it migrates nothing
            # A new data directory has no tables yet; a migrated database is left as it is.
            call_command("migrate", verbosity=0, interactive=False)
        try:
            outcome = demo.build(at)
        except (InvalidInput, DomainError) as error:
            raise CommandError(str(error)) from error
        if outcome.created:
            assert outcome.built_at is not None
            self.stdout.write(
                f"Demo data for {outcome.summary.organisation} built as of "
                f"{outcome.built_at.isoformat(timespec='minutes')}."
            )
        else:
            self.stdout.write("Demo data already present; nothing was changed.")
        self._summary(outcome.summary)
        self._logins(outcome)
        if outcome.created:
            self.stdout.write(f"\nBuilt in {outcome.seconds:.1f} s.")

    def _summary(self, summary: demo.Summary) -> None:
        write = self.stdout.write
        write(
            f"  {summary.units} units; {len(summary.offices)} card offices "
            f"({', '.join(summary.offices)}) with {summary.opening_intervals} weekly opening "
            f"intervals and {summary.opening_exceptions} holiday exceptions"
        )
        write(
            f"  {summary.persons} persons: {summary.managers} managers, "
            f"{summary.samordningsnummer} with a samordningsnummer, {summary.protected} with "
            "protected identity"
        )
        total = sum(summary.cards.values())
        blocks = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.blocks.items()))
        chain = "intact" if summary.audit_findings == 0 else f"{summary.audit_findings} FINDINGS"
        write(f"  {total} cards, {summary.letters} letters, blocks: {blocks or 'none'}")
        write(f"  {summary.audit_entries} audit entries; the chain is {chain}")

        columns = ["", *(g.value for g in Generation)]
        headings = ["not produced", *(g.value for g in Generation)]
        write("\nCards by state and generation:")
        write(f"  {'state':16}" + "".join(f"{h:>14}" for h in headings) + f"{'total':>8}")
        for state in CardState:
            row = [summary.cards.get((column, state.value), 0) for column in columns]
            write(f"  {state.value:16}" + "".join(f"{n:>14}" for n in row) + f"{sum(row):>8}")
        sums = [
            sum(n for (generation, _), n in summary.cards.items() if generation == column)
            for column in columns
        ]
        write(f"  {'total':16}" + "".join(f"{n:>14}" for n in sums) + f"{total:>8}")

    def _logins(self, outcome: demo.DemoOutcome) -> None:
        write = self.stdout.write
        write("\nLogins:")
        write(f"  {'role':18}{'username':14}{'password':20}account of")
        for login in outcome.logins:
            who = outcome.who.get(login.username, "")
            write(f"  {login.purpose:18}{login.username:14}{login.password:20}{who}".rstrip())
        names = ", ".join(login.username for login in outcome.staff_logins)
        write(f"Staff who did the work in the history (password demo-<username>): {names}.")
