"""`ekort rules [--at DATE|INSTANT] [--json]`: which card actions the policy calendar allows,
blocking included, and what happens to a card sent at that instant."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.domain.errors import InvalidInput
from ekort.domain.rules_report import render_rules_text, rules_json
from ekort.domain.timekeeping import parse_instant


class Command(BaseCommand):
    help = (
        "Show the policy period in force with its first and last day, the deadline of a card "
        "sent at that instant (or why none can be sent), and, for every action and card type, "
        "blocking included, whether it is allowed and by which rule."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at",
            metavar="DATE|INSTANT",
            help="Show the rules at this Stockholm date or ISO 8601 instant (default: now), "
            "for example 2024-01-24 or 2024-01-24T10:00+01:00.",
        )
        parser.add_argument("--json", action="store_true", help="Write JSON instead of a table.")

    def handle(self, *args: Any, **options: Any) -> None:
        from ekort.services.clock import now
        from ekort.services.policy import current_calendar

        try:
            instant = parse_instant(options["at"]) if options["at"] else now()
            calendar = current_calendar()
            if options["json"]:
                report = json.dumps(rules_json(calendar, instant), ensure_ascii=False, indent=2)
            else:
                report = render_rules_text(calendar, instant)
        except InvalidInput as error:
            raise CommandError(str(error)) from error
        self.stdout.write(report)
