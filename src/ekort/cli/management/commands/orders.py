"""`ekort orders import FILE --actor USERNAME [--dry-run] [--at INSTANT]`: order the cards a
CSV file lists, as the manager USERNAME, through the portal's own order service.

    ekort orders import nya-teamet.csv --actor chef --dry-run
    ekort orders import nya-teamet.csv --actor chef

The columns are described in docs/operations.md ("Orders from a file"). Each row is reported
with its line: ordered, already ordered (E8; running the same file again orders nothing new)
or refused with the rule that refused it. A file with a row that cannot be understood is
refused whole, naming every such line, and nothing is ordered. The exit status is 1 when a
row was refused or the file was not used, else 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.cli.actors import actor_named, instant_or_now
from ekort.domain.errors import DomainError
from ekort.domain.order_file import MAX_FILE_BYTES, OrderFileRefused
from ekort.services.cards.order_import import ImportReport, LineStatus, import_orders

_CARD_WORDS = {"photo": "photo card", "reserve": "reserve card"}


class Command(BaseCommand):
    help = "Order the cards a CSV file lists (one row a person and a card type), as a manager."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=["import"])
        parser.add_argument("file", help="the CSV file (UTF-8; columns: docs/operations.md)")
        parser.add_argument("--actor", required=True, help="username of the ordering manager")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="say what would be ordered, and order nothing",
        )
        parser.add_argument("--at", help="as of this date or instant (ISO 8601); default: now")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_named(options["actor"])
        data = self._read(Path(options["file"]))
        try:
            now = instant_or_now(options["at"])
            report = import_orders(actor=actor, data=data, now=now, dry_run=options["dry_run"])
        except OrderFileRefused as refused:
            for problem in refused.problems:
                where = f"line {problem.line}: " if problem.line else ""
                self.stderr.write(f"{where}{problem.en}")
            raise CommandError("The file was not used: nothing was ordered.") from None
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self._report(report)
        if report.refused:
            raise CommandError(f"{report.refused} row(s) refused; see above.")

    def _read(self, path: Path) -> bytes:
        try:
            with path.open("rb") as handle:
                return handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc

    def _report(self, report: ImportReport) -> None:
        would = "would be " if report.dry_run else ""
        for line in report.lines:
            kind = _CARD_WORDS.get(line.card_type, line.card_type)
            if line.status == LineStatus.ORDERED:
                card = f" (card id {line.card_id})" if line.card_id else ""
                text = f"{kind} {would}ordered for {line.who}{card}"
            elif line.status == LineStatus.ALREADY:
                text = f"{kind} for {line.who} already ordered or in use ({line.rule}), not again"
            else:
                text = f"refused, {line.rule or 'input'}: {line.en}"
            self.stdout.write(f"line {line.line}: {text}")
        self.stdout.write(
            f"{'Dry run, nothing ordered: ' if report.dry_run else 'Done: '}"
            f"{report.ordered} {would}ordered, {report.already} already ordered, "
            f"{report.refused} refused, of {len(report.lines)} row(s)."
        )
