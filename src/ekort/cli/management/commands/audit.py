"""`ekort audit verify`: check the audit trail's chain; `ekort audit show`: an object's history."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.services import audit


class Command(BaseCommand):
    help = "Verify the tamper-evident audit trail, or show the history of one object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=["verify", "show", "anchor"])
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:MAC",
            help="with verify: an anchor printed earlier by `ekort audit anchor` (repeatable)",
        )
        parser.add_argument("--type", default="card", help="object type for 'show'")
        parser.add_argument("--id", help="object id for 'show'")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "show":
            if not options["id"]:
                raise CommandError("Give the object with --id (and --type, default card).")
            for entry in audit.history(options["type"], options["id"]):
                self.stdout.write(
                    f"{entry.seq:>8} {entry.at.isoformat()} {entry.actor:20} {entry.action:18} "
                    f"{entry.before} -> {entry.after} {entry.reason}"
                )
            return
        if options["verb"] == "anchor":
            self.stdout.write(audit.current_anchor())
            return
        try:
            anchors = dict(audit.parse_anchor(text) for text in options["anchor"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        findings = audit.verify_trail(anchors)
        if findings:
            for finding in findings:
                self.stdout.write(f"TAMPERED {finding}")
            raise CommandError(f"The audit trail is broken in {len(findings)} place(s).")
        count = audit.entry_count()
        self.stdout.write(f"The audit trail is intact: {count} entries, chain and head agree.")
