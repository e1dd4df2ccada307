"""`ekort bureau list|write|confirm --actor USERNAME`: the card bureau's production orders.

    ekort bureau list --actor utgivare
    ekort bureau write --batch 12 --actor utgivare
    ekort bureau confirm --batch 12 --batch 13 --actor utgivare

`produce` writes one production order per batch into EKORT_DATA_DIR/bureau/ (card number,
name, photo and layout, R5). `write` writes a batch's order again from what is kept (after a
full disk, say). `confirm` records that the bureau has delivered the batches: their photos are
deleted, with the orders' files, and each card's audit entry says so. Nothing this command
prints holds a photo or an identity number.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.cli.actors import actor_named, instant_or_now
from ekort.domain.errors import DomainError
from ekort.domain.timekeeping import STOCKHOLM
from ekort.domain.vocabulary import Role
from ekort.services.cards import bureau
from ekort.services.roles import require_role


class Command(BaseCommand):
    help = "The card bureau's production orders: list them, write one again, confirm delivery."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=["list", "write", "confirm"])
        parser.add_argument("--actor", required=True, help="username of an issuer administrator")
        parser.add_argument(
            "--batch", type=int, action="append", default=[], help="batch id (repeatable)"
        )
        parser.add_argument(
            "--waiting", action="store_true", help="with list: only batches not delivered yet"
        )
        parser.add_argument("--at", help="as of this date or instant (ISO 8601); default: now")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_named(options["actor"])
        try:
            require_role(actor, Role.ISSUER_ADMIN)
            now = instant_or_now(options["at"])
            verb, ids = options["verb"], options["batch"]
            if verb == "list":
                self._list(waiting_only=options["waiting"])
            elif not ids:
                raise CommandError(f"Name the batches with --batch N [--batch M ...] to {verb}.")
            elif verb == "write":
                for batch_id in ids:
                    path = bureau.write_order_file(batch_id)
                    self.stdout.write(f"Wrote the production order of batch {batch_id}: {path}")
            else:
                delivery = bureau.confirm_delivery(actor=actor, batch_ids=ids, now=now)
                if delivery.already:
                    listed = ", ".join(map(str, delivery.already))
                    self.stdout.write(f"Delivery was confirmed before, left as it was: {listed}.")
                self.stdout.write(
                    f"Confirmed the delivery of {len(delivery.confirmed)} batch(es); "
                    f"{delivery.photos_deleted} photo(s) deleted."
                )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self, *, waiting_only: bool) -> None:
        found = bureau.batches(waiting_only=waiting_only)
        for batch in found:
            if batch.delivered_at is not None:
                where = f"delivered {batch.delivered_at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M}"
            else:
                written = bureau.order_file_written(batch)
                where = batch.file_name if written else "file not written: ekort bureau write"
            self.stdout.write(
                f"{batch.pk:>8} {batch.produced_at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M} "
                f"{batch.cards:>5} card(s)  "
                f"{where}"
            )
        self.stdout.write(f"{len(found)} batch(es).")
