"""The deadline jobs: block cards not collected in time (R3) or not activated in time (R8),
and expire cards whose validity ran out.

A run works on sets, not rows:

1. One pass over the card table finds every due card (`find_due`): a card is due under the
   first sweep, in `SWEEPS` order, whose deadline is before today in a state that sweep moves.
   No index serves that pass, on purpose. An index on the card's state, or one whose condition
   names the state, would make every state change add an entry to each of the card's indexes;
   without one, a sweep's update stays on the row's page and touches no index (a HOT update
   on PostgreSQL, migration 0009). That was most of a million-card sweep's card work. The pass
   reads the table once per run instead.
2. Each sweep's cards go in chunks, one transaction each (`sweep_chunk`): lock those of the
   chunk still due (FOR UPDATE SKIP LOCKED, so the state and the deadline are checked again
   under the lock), block them as a person's block does (`cards.blocking.blocked`: block
   records, one UPDATE per state, their certificates revoked) or expire them, and last
   append one audit entry per card (`audit.append`, which locks the trail's head).
3. The chunks run one after another in this process, or side by side in the caller's worker
   processes (`RunChunks`; `ekort jobs run --workers`). They share no card, and they take turns
   only for the audit chain, which is why its head is locked last.

Running again finds nothing left to do (idempotent). Two runs at once split the work between
them instead of doing it twice (on SQLite the IMMEDIATE transactions take turns instead). A
card a chunk skipped because another transaction held it is looked for once more: when any
chunk moved fewer cards than it was given, the run ends with a second pass over the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Case, CharField, Q, QuerySet, Value, When

from ekort.domain.lifecycle import LIVE_STATES, CardAction, CardState
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import BlockReason
from ekort.store.models import Card
from ekort.store.sets import Ids

from . import audit
from .cards.blocking import blocked
from .cards.card_sets import CardRef
from .cards.expiry import expired
from .roles import Job, actor_label

Progress = Callable[[str, int, int], None]  # (job name, done so far, total due at start)


@dataclass(frozen=True)
class Sweep:
    name: str
    rule: str
    source_states: frozenset[CardState]
    action: CardAction
    reason: BlockReason | None  # None: not a block (expiry)
    deadline: str  # the date field: due when it is before today


SWEEPS: tuple[Sweep, ...] = (
    Sweep(
        "not_collected",
        "R3",
        frozenset({CardState.AWAITING_PICKUP}),
        CardAction.BLOCK,
        BlockReason.NOT_COLLECTED,
        "pickup_deadline",
    ),
    Sweep(
        "not_activated",
        "R8",
        frozenset({CardState.SENT_INACTIVE}),
        CardAction.BLOCK,
        BlockReason.NOT_ACTIVATED,
        "activation_deadline",
    ),
    Sweep(
        "expired",
        "validity",
        LIVE_STATES,
        CardAction.EXPIRE,
        None,
        "valid_until",
    ),
)

# How a run has its chunks done: given a sweep, its chunks of card ids and the instant, the
# number of cards each chunk moved, in the chunks' order (`in_this_process`, or the CLI's
# worker processes).
RunChunks = Callable[[Sweep, Sequence[Sequence[int]], datetime], Iterable[int]]


@dataclass
class SweepResult:
    name: str
    rule: str
    changed: int


def _is_due(sweep: Sweep, today: date) -> Q:
    return Q(state__in=sorted(sweep.source_states), **{f"{sweep.deadline}__lt": today})


def _due(sweep: Sweep, today: date) -> QuerySet[Card]:
    return Card.objects.filter(_is_due(sweep, today))


def find_due(now: datetime) -> dict[str, list[int]]:
    """One pass over the card table: each sweep's due cards, by the sweep's name, in id order.
    A card due under several sweeps is under the first (blocking it takes it out of the
    others, as running the sweeps one after another would)."""
    require_aware(now)
    today = local_date(now)
    conditions = [(sweep.name, _is_due(sweep, today)) for sweep in SWEEPS]
    which = Case(
        *(When(condition, then=Value(name)) for name, condition in conditions),
        output_field=CharField(),
    )
    due: dict[str, list[int]] = {sweep.name: [] for sweep in SWEEPS}
    rows = (
        Card.objects.filter(reduce(or_, (condition for _, condition in conditions)))
        .annotate(sweep=which)
        .order_by()
        .values_list("pk", "sweep")
    )
    for pk, name in rows.iterator(chunk_size=20_000):
        due[name].append(pk)
    for ids in due.values():
        ids.sort()
    return due


def sweep_chunk(sweep: Sweep, card_ids: Sequence[int], now: datetime) -> int:
    """Move those of `card_ids` still due under `sweep` in one transaction; how many it moved.
    Cards another transaction holds are skipped, not waited for. A block is the very change a
    person's block makes (`cards.blocking.blocked`), by the job, with its rule as the note."""
    require_aware(now)
    today = local_date(now)
    job = Job(sweep.name)
    with transaction.atomic():
        cards = [
            CardRef(*row)
            for row in _due(sweep, today)
            .filter(pk__any_of=Ids(card_ids))
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", "state", "number")
        ]
        if sweep.reason is None:
            changes = expired(job, cards, now)
        else:
            note = f"Deadline passed ({sweep.rule})."
            requester = actor_label(job)
            changes = blocked(job, cards, sweep.action, sweep.reason, requester, note, now)
        audit.append(changes)
        return len(cards)


def in_this_process(sweep: Sweep, chunks: Sequence[Sequence[int]], now: datetime) -> Iterable[int]:
    return (sweep_chunk(sweep, ids, now) for ids in chunks)


def _chunked(ids: Sequence[int], chunk: int) -> list[Sequence[int]]:
    return [ids[i : i + chunk] for i in range(0, len(ids), chunk)]


def run_all(
    now: datetime,
    *,
    chunk: int = 5000,
    progress: Progress | None = None,
    run_chunks: RunChunks = in_this_process,
) -> list[SweepResult]:
    """Every sweep, in `SWEEPS` order, over the cards due at `now`."""
    require_aware(now)
    if chunk < 1:
        raise ValueError("a chunk holds at least one card")
    results = {sweep.name: SweepResult(sweep.name, sweep.rule, 0) for sweep in SWEEPS}
    totals: dict[str, int] = {}  # due at the start, for `progress`
    for second_pass in (False, True):
        due = find_due(now)
        short = False
        for sweep in SWEEPS:
            ids = due[sweep.name]
            totals.setdefault(sweep.name, len(ids))
            if not ids:
                continue
            result = results[sweep.name]
            chunks = _chunked(ids, chunk)
            for given, moved in zip(chunks, run_chunks(sweep, chunks, now), strict=True):
                result.changed += moved
                short = short or moved < len(given)
                if progress:
                    progress(sweep.name, result.changed, max(totals[sweep.name], result.changed))
        if not short or second_pass:
            break
    return list(results.values())
