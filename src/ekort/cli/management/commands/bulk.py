"""`ekort bulk produce|send --card-type photo|reserve --actor USERNAME [--limit N] [--at INSTANT]
[--chunk N [--workers W]]`: produce or send every card that is ready for it through the
portal's own services (`services.cards.produce`, `send`), N cards per call and transaction
(default 1; a larger chunk is many times faster), and with `--workers W` in W processes side
by side (`ekort.cli.workers`): one core each.

A refused card is counted and reported, and the run goes on; a killed run leaves every card
either done or untouched (with --chunk: every chunk), so running the command again picks up
where it stopped.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.cli.actors import actor_named
from ekort.cli.workers import MAX_WORKERS, ChunkResult, run_chunk, run_in_workers
from ekort.domain.errors import InvalidInput, Refused
from ekort.domain.lifecycle import CardState
from ekort.domain.timekeeping import parse_instant
from ekort.domain.vocabulary import CardType, Role
from ekort.services.cards import MAX_SET
from ekort.services.roles import require_role
from ekort.store.models import Card

PROGRESS_EVERY = 100

# verb: (past tense, the state a card of each type is in when it is ready for it)
_VERBS: dict[str, tuple[str, dict[CardType, CardState]]] = {
    "produce": (
        "produced",
        {CardType.PHOTO: CardState.PHOTOGRAPHED, CardType.RESERVE: CardState.ORDERED},
    ),
    "send": ("sent", {CardType.PHOTO: CardState.PRODUCED, CardType.RESERVE: CardState.PRODUCED}),
}


class Command(BaseCommand):
    help = (
        "Produce (or send) every card of a type that is ready for it, N cards per "
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
            help=f"cards per transaction (1-{MAX_SET}; default 1)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help=f"processes working on chunks side by side (1-{MAX_WORKERS}; needs --chunk)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done_word, ready = _VERBS[options["verb"]]
        kind = CardType(options["card_type"])
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        chunk = options["chunk"]
        if not 1 <= chunk <= MAX_SET:
            raise CommandError(f"--chunk must be from 1 to {MAX_SET}.")
        workers = options["workers"]
        if not 1 <= workers <= MAX_WORKERS:
            raise CommandError(f"--workers must be from 1 to {MAX_WORKERS}.")
        if workers > 1 and chunk == 1:
            raise CommandError("--workers needs --chunk: workers share out chunks of cards.")
        try:
            at = parse_instant(options["at"]) if options["at"] else None
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        actor = actor_named(options["actor"])
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
        chunks = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
        results = self._results(options["verb"], actor, chunks, at, workers=workers)
        for part, result in zip(chunks, results, strict=True):
            done += len(result.done)
            for card_id, key, text in result.refused:
                refused[key] += 1
                first_refusal.setdefault(key, f"card {card_id}: {text}")
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

    def _results(
        self, verb: str, actor: Any, chunks: list[list[int]], at: datetime | None, *, workers: int
    ) -> Iterator[ChunkResult]:
        """Each chunk's result, in order: here, or in worker processes."""
        if workers > 1:
            yield from run_in_workers(verb, actor.pk, chunks, at, workers)
            return
        for part in chunks:
            yield run_chunk(verb, actor.pk, part, at)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
