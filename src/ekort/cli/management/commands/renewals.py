"""`ekort renewals list|order --actor USERNAME [--days 90|30] [--at INSTANT] [--yes]`: the cards
whose validity or certificate ends soon and that have no renewal under way (E12).

    ekort renewals list --actor support --days 30
    ekort renewals order --actor chef.akuten          # says what it would order; orders nothing
    ekort renewals order --actor chef.akuten --yes    # orders the renewals

`list` prints the account's worklist (a manager's staff, an ID administrator's card office,
everyone's for support), as the portal's page does. `order` orders a renewal (reason
"expiring") of every card on a manager's own list through `services.cards.replace_card`: the
old cards keep working until the new ones are activated, and nothing is blocked now. Without
`--yes` it only says so and what it would order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.cli.actors import actor_named, instant_or_now
from ekort.domain.errors import DomainError
from ekort.domain.renewal import WORKLIST_DAYS, decide_replacement
from ekort.domain.timekeeping import local_date
from ekort.domain.vocabulary import ReplacementReason
from ekort.services import cards, renewals
from ekort.services.cards import MAX_SET
from ekort.services.roles import person_id_of


class Command(BaseCommand):
    help = (
        "The cards that run out soon with no renewal under way: list them, or order their "
        "renewals as their manager (the old cards work until the new ones are activated)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=["list", "order"])
        parser.add_argument("--actor", required=True, help="username (order: the manager)")
        parser.add_argument(
            "--days", type=int, default=WORKLIST_DAYS[0], choices=WORKLIST_DAYS, help="90 or 30"
        )
        parser.add_argument("--at", help="as of this date or instant (ISO 8601); default: now")
        parser.add_argument("--yes", action="store_true", help="order: go ahead and order")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_named(options["actor"])
        try:
            now = instant_or_now(options["at"])
            rows = renewals.worklist(actor, now, options["days"])
            if options["verb"] == "list":
                self._list(rows, options["days"])
            else:
                self._order(actor, rows, now, confirmed=options["yes"])
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self, rows: list[renewals.DueCard], days: int) -> None:
        for row in rows:
            self.stdout.write(
                f"{row.number:18} {row.ends_on.isoformat()} {row.days_left:>4} days  "
                f"{row.card_type:8} {row.holder}, {row.unit}"
            )
        self.stdout.write(f"{len(rows)} card(s) end within {days} days with no renewal ordered.")

    def _order(
        self, actor: Any, rows: list[renewals.DueCard], now: datetime, *, confirmed: bool
    ) -> None:
        me = person_id_of(actor)
        mine = [row for row in rows if me is not None and row.manager_id == me]
        # What becomes of the old cards, in the rules' words (E12): the same for them all.
        what = decide_replacement(ReplacementReason.EXPIRING, None, local_date(now))
        self.stdout.write(
            f"{len(mine)} renewal(s) to order for your staff's cards. {what.en} Nothing is "
            "blocked now."
        )
        for row in mine:
            self.stdout.write(f"  {row.number} {row.holder}, last day {row.ends_on.isoformat()}")
        if not mine:
            return
        if not confirmed:
            self.stdout.write("Nothing ordered. Run again with --yes to order them.")
            return
        ordered = refused = 0
        ids = [row.card_id for row in mine]
        for start in range(0, len(ids), MAX_SET):
            outcome = cards.replace_card(
                actor=actor,
                card_ids=ids[start : start + MAX_SET],
                now=now,
                reason=ReplacementReason.EXPIRING,
            )
            ordered += len(outcome.done)
            refused += len(outcome.refused)
            for card_id, problem in sorted(outcome.refused.items()):
                self.stdout.write(f"  card {card_id}: {problem}")
        self.stdout.write(f"Done: {ordered} renewal(s) ordered, {refused} refused.")
