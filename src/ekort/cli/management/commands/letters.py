"""`ekort letters list|pdf|printed --actor USERNAME`: the print queue of letters.

    ekort letters list --actor utgivare
    ekort letters pdf --id 12 --out brev-12.pdf --actor utgivare
    ekort letters printed --id 12 --id 13 --actor utgivare

A letter that carries a PUK is written to a file (mode 0600) only, never to standard output,
and nothing this command prints contains a code.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.cli.actors import actor_named, instant_or_now
from ekort.domain.errors import DomainError
from ekort.domain.vocabulary import Role
from ekort.services import print_queue
from ekort.services.roles import require_role


class Command(BaseCommand):
    help = "The letters' print queue: list it, write a letter's PDF, mark letters printed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=["list", "pdf", "printed"])
        parser.add_argument("--actor", required=True, help="username of an issuer administrator")
        parser.add_argument(
            "--id", type=int, action="append", default=[], help="letter id (repeatable)"
        )
        parser.add_argument("--out", help="with pdf: the file to write ('-' for standard output)")
        parser.add_argument("--at", help="as of this date or instant (ISO 8601); default: now")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_named(options["actor"])
        try:
            require_role(actor, Role.ISSUER_ADMIN)
            now = instant_or_now(options["at"])
            if options["verb"] == "list":
                self._list()
            elif options["verb"] == "pdf":
                self._pdf(actor, options, now)
            else:
                if not options["id"]:
                    raise CommandError("Name the printed letters with --id N [--id M ...].")
                count = print_queue.mark_printed(actor=actor, letter_ids=options["id"], now=now)
                self.stdout.write(
                    f"Marked {count} letter(s) printed; "
                    f"{len(set(options['id'])) - count} were printed already."
                )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self) -> None:
        queue = print_queue.waiting_letters()
        for letter in queue:
            self.stdout.write(
                f"{letter.pk:>8} {letter.queued_at.isoformat()} {letter.kind:15} "
                f"{letter.card.number or '':14} {letter.recipient_name}, "
                f"{letter.postal_code} {letter.postal_town}"
            )
        self.stdout.write(f"{len(queue)} letter(s) waiting to be printed.")

    def _pdf(self, actor: Any, options: dict[str, Any], now: datetime) -> None:
        if len(options["id"]) != 1:
            raise CommandError("Give exactly one letter with --id N.")
        if not options["out"]:
            raise CommandError("Give the file to write with --out FILE.")
        letter_id, out = options["id"][0], options["out"]
        if out == "-" and print_queue.letter_carries_puk(print_queue.get_letter(letter_id)):
            raise CommandError(
                f"Letter {letter_id} carries a PUK: write it to a file with --out FILE, "
                "not to standard output."
            )
        pdf = print_queue.letter_pdf(actor=actor, letter_id=letter_id, now=now)
        if out == "-":
            sys.stdout.buffer.write(pdf)
            sys.stdout.buffer.flush()
            return
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}.") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(pdf)
        self.stderr.write(f"Wrote letter {letter_id} ({len(pdf)} bytes) to {out}.")
