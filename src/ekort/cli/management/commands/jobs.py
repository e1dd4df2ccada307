"""`ekort jobs run [--at INSTANT] [--chunk N] [--workers W]`: the deadline jobs (R3, R8,
expiry), the revocation status they change, then the e-mail notices (services/notices.py).

Each run counts the cards each job moved (Prometheus: `ekort_job_cards_total{job}`, and the last
run's `ekort_job_last_run_cards{job}`, its time and length). With PROMETHEUS_MULTIPROC_DIR set
(the portal's, docs/operations.md "Metrics") the portal's /metrics serves them; with
EKORT_JOB_METRICS_FILE set they are also written to that file, for node_exporter's textfile
collector."""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from prometheus_client import REGISTRY, Counter, Gauge, write_to_textfile

from ekort.cli.workers import MAX_WORKERS, sweeps_in_workers
from ekort.domain.errors import InvalidInput
from ekort.domain.timekeeping import parse_instant
from ekort.services import clock, deadlines, notices
from ekort.services.ca import status

if _multiprocess_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
    os.makedirs(_multiprocess_dir, exist_ok=True)  # as the portal's (ekort.web.observe)

JOB_CARDS = Counter("ekort_job_cards", "Cards each deadline job moved, over its runs.", ["job"])
LAST_RUN_CARDS = Gauge(
    "ekort_job_last_run_cards",
    "Cards each deadline job moved in its last run (notices: notices sent).",
    ["job"],
    multiprocess_mode="mostrecent",
)
LAST_RUN_AT = Gauge(
    "ekort_job_last_run_timestamp_seconds",
    "When `ekort jobs run` last finished (POSIX time).",
    multiprocess_mode="mostrecent",
)
LAST_RUN_SECONDS = Gauge(
    "ekort_job_last_run_seconds",
    "How long the last `ekort jobs run` took.",
    multiprocess_mode="mostrecent",
)


def record_run(moved: dict[str, int], seconds: float) -> None:
    for job, cards in moved.items():
        JOB_CARDS.labels(job).inc(cards)
        LAST_RUN_CARDS.labels(job).set(cards)
    LAST_RUN_AT.set(time.time())
    LAST_RUN_SECONDS.set(seconds)
    path = os.environ.get("EKORT_JOB_METRICS_FILE", "").strip()
    if path:
        write_to_textfile(path, REGISTRY)


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
        took = time.monotonic() - started
        record_run({**{r.name: r.changed for r in results}, "notices": told.sent}, took)
        self.stdout.write(f"Done: {total} cards changed in {took:.1f} s.")
