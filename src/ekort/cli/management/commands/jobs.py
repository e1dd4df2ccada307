"""`ekort jobs run [--at INSTANT] [--chunk N] [--workers W]`: the deadline jobs (R3, R8,
expiry), the revocation status they change, then the e-mail notices (services/notices.py)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.cli.workers import MAX_WORKERS, sweeps_in_workers
from ekort.domain.errors import InvalidInput
from ekort.domain.timekeeping import parse_instant
from ekort.services import clock, deadlines, notices
from ekort.services.ca import status


class Command(BaseCommand):
    help = (
        "Run the deadline jobs: block uncollected (R3) and unactivated (R8) cards, expire cards; "
        "then send the e-mail notices that are due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=["run", "list"])
        parser.add_argument("--at", help="run as of this date or instant (ISO 8601)")
        parser.add_argument("--chunk", type=int, default=5000, help="cards per transaction")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help=f"processes working on chunks side by side (1-{MAX_WORKERS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "list":
            for sweep in deadlines.SWEEPS:
                self.stdout.write(f"{sweep.name:15} {sweep.rule:9} {sweep.action.value}")
            self.stdout.write(f"{'notices':15} {'':9} e-mail")
            return
        try:
            now = parse_instant(options["at"]) if options["at"] else clock.now()
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        if options["chunk"] < 1:
            raise CommandError("--chunk must be at least 1.")
        if not 1 <= options["workers"] <= MAX_WORKERS:
            raise CommandError(f"--workers must be from 1 to {MAX_WORKERS}.")
        self.stdout.write(f"Deadline jobs as of {now.isoformat()}")
        started = time.monotonic()
        interactive = self.stderr.isatty()

        def progress(name: str, done: int, total: int) -> None:
            line = f"  {name}: {done}/{total}"
            if interactive:
                self.stderr.write("\r" + line, ending="")
                self.stderr.flush()
            else:
                self.stderr.write(line)

        if options["workers"] == 1:
            results = deadlines.run_all(now, chunk=options["chunk"], progress=progress)
        else:
            with sweeps_in_workers(options["workers"]) as run_chunks:
                results = deadlines.run_all(
                    now, chunk=options["chunk"], progress=progress, run_chunks=run_chunks
                )
        if interactive:
            self.stderr.write("")
        for result in results:
            self.stdout.write(f"  {result.name:15} {result.rule:9} {result.changed:>9} cards")
        crls = status.publish_due(now)
        self.stdout.write(f"  published {len(crls)} CRL(s); OCSP responses brought up to date")
        # Last, so that a card blocked tonight is told of tonight; never raises for a delivery.
        told = notices.run(now)
        self.stdout.write(
            f"  notices: {told.recorded} new, {told.sent} sent, {told.failed} failed "
            f"(tried again next run), {told.lapsed} lapsed"
        )
        total = sum(r.changed for r in results)
        self.stdout.write(f"Done: {total} cards changed in {time.monotonic() - started:.1f} s.")
