"""`ekort bulk produce|send --card-type photo|reserve --actor USERNAME [--limit N] [--at INSTANT]
[--chunk N]`: produce or send every card that is ready for it, one service call (one
transaction) per card, or with `--chunk N` N cards per transaction through the batch services
(`services.cards.batch`), which is many times faster.

A refused card is counted and reported, and the run goes on; a killed run leaves every card
either done or untouched (with --chunk: every chunk), so running the command again picks up
where it stopped.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.domain.errors import DomainError, InvalidInput, Refused
from ekort.domain.lifecycle import CardState
from ekort.domain.timekeeping import parse_instant
from ekort.domain.vocabulary import CardType, Role
from ekort.services import cards, clock
from ekort.services.access import require_role
from ekort.services.cards.batch import MAX_CHUNK, BatchOutcome, produce_batch, send_batch
from ekort.store.models import Card

PROGRESS_EVERY = 100

# verb: (service, past tense, the state a card of each type is in when it is ready for it)
_VERBS: dict[str, tuple[Callable[..., Card], str, dict[CardType, CardState]]] = {
    "produce": (
        cards.produce,
        "produced",
        {CardType.PHOTO: CardState.PHOTOGRAPHED, CardType.RESERVE: CardState.ORDERED},
    ),
    "send": (
        cards.send,
        "sent",
        {CardType.PHOTO: CardState.PRODUCED, CardType.RESERVE: CardState.PRODUCED},
    ),
}


_BATCHES: dict[str, Callable[..., BatchOutcome]] = {"produce": produce_batch, "send": send_batch}


class Command(BaseCommand):
    help = (
        "Produce (or send) every card of a type that is ready for it, one card per "
        "transaction, as an issuer administrator; refusals are counted, not fatal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("verb", choices=sorted(_VERBS))
        parser.add_argument("--card-type", required=True, choices=[t.value for t in CardType])
        parser.add_argument("--actor", required=True, help="username of an issuer administrator")
        parser.add_argument("--limit", type=int, help="at most this many cards")
        parser.add_argument("--at", help="as of this date or instant (ISO 8601); default: now")
        parser.add_argument(
            "--chunk",
            type=int,
            default=1,
            help=f"cards per transaction (1-{MAX_CHUNK}; default 1, one service call per card)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        service, done_word, ready = _VERBS[options["verb"]]
        kind = CardType(options["card_type"])
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        chunk = options["chunk"]
        if not 1 <= chunk <= MAX_CHUNK:
            raise CommandError(f"--chunk must be from 1 to {MAX_CHUNK}.")
        try:
            at = parse_instant(options["at"]) if options["at"] else None
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        actor = get_user_model().objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"There is no user {options['actor']!r}.")
        try:
            require_role(actor, Role.ISSUER_ADMIN)
        except Refused as exc:
            raise CommandError(str(exc)) from exc

        ids = list(
            Card.objects.filter(card_type=kind.value, state=ready[kind].value)
            .order_by("pk")
            .values_list("pk", flat=True)[: options["limit"]]
        )
        self._say(f"{options['verb']} {len(ids)} {kind.value} card(s) as {actor.get_username()}")
        started = time.monotonic()
        done = 0
        refused: Counter[str] = Counter()
        first_refusal: dict[str, str] = {}
        count = 0
        for start in range(0, len(ids), chunk):
            now: datetime = at or clock.now()
            part = ids[start : start + chunk]
            if chunk == 1:
                outcome = self._one(service, part[0], actor, now)
            else:
                outcome = _BATCHES[options["verb"]](actor=actor, card_ids=part, now=now)
            done += len(outcome.done)
            for card_id, problem in outcome.refused.items():
                key = problem.rule if isinstance(problem, Refused) else type(problem).__name__
                refused[key] += 1
                first_refusal.setdefault(key, f"card {card_id}: {problem}")
            before, count = count, count + len(part)
            if count // PROGRESS_EVERY > before // PROGRESS_EVERY:
                self._say(
                    f"  {count}/{len(ids)}: {done} {done_word}, {refused.total()} refused "
                    f"({time.monotonic() - started:.1f} s)"
                )
        for key, n in sorted(refused.items()):
            self._say(f"  refused {n} ({key}), the first: {first_refusal[key]}")
        self._say(
            f"Done: {done} {done_word}, {refused.total()} refused, of {len(ids)} card(s) "
            f"in {time.monotonic() - started:.1f} s."
        )

    @staticmethod
    def _one(service: Callable[..., Card], card_id: int, actor: Any, now: datetime) -> BatchOutcome:
        """One card through its service, in its own transaction."""
        try:
            service(actor=actor, card_id=card_id, now=now)
        except DomainError as problem:
            return BatchOutcome(refused={card_id: problem})
        return BatchOutcome(done=[card_id])

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
