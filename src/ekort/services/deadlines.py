"""The deadline jobs: block cards not collected in time (R3) or not activated in time (R8),
and expire cards whose validity ran out.

Each sweep works on sets, not rows: it takes a chunk of due cards with FOR UPDATE SKIP LOCKED,
moves them in one UPDATE, writes their block records and audit entries in bulk, and commits.
Running it again finds nothing left to do (idempotent); two runs at once split the work between
them instead of doing it twice (on SQLite the IMMEDIATE transactions take turns instead).

Due cards are taken in (deadline, id) order from the sweep's partial index (store/models/cards.py)
and each chunk starts after the last one taken, so a chunk reads only its own cards, not again
the index entries of those moved before it. Cards a concurrent run skipped (locked) and then
gave back, by rolling back, come before that point: the sweep ends with a pass from the start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from ekort.domain.audit_chain import Slot
from ekort.domain.lifecycle import LIVE_STATES, CardAction, CardState, next_state
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import BlockReason
from ekort.store.bulk import insert_for_ids, with_ids
from ekort.store.models import Block, Card

from . import audit
from .pki.revocation import revoke_cards

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


@dataclass
class SweepResult:
    name: str
    rule: str
    changed: int


Position = tuple[date, int]  # (deadline, id) of the last card a chunk took
_Taken = tuple[int, str, str, date]  # id, state, number, deadline


def _due(sweep: Sweep, today: date) -> QuerySet[Card]:
    return Card.objects.filter(
        Q(**{f"{sweep.deadline}__lt": today}), state__in=sorted(sweep.source_states)
    )


def _take(sweep: Sweep, today: date, chunk: int, after: Position | None) -> list[_Taken]:
    """Lock and read the next chunk of due cards, in the partial index's order."""
    due = _due(sweep, today)
    if after is not None:
        # A row comparison, which both databases answer from the index, in its order (an OR of
        # the two conditions would not be).
        deadline, pk = after
        quote = connection.ops.quote_name
        where = f"({quote(sweep.deadline)}, {quote('id')}) > (%s, %s)"
        params = [connection.ops.adapt_datefield_value(deadline), pk]
        due = due.extra(where=[where], params=params)  # noqa: S610 - our own names
    return list(
        due.select_for_update(skip_locked=True)
        .order_by(sweep.deadline, "pk")
        .values_list("pk", "state", "number", sweep.deadline)[:chunk]
    )


def _target(sweep: Sweep, state: str) -> str:
    return next_state(CardState(state), sweep.action).value  # the lifecycle table decides


def _sweep_chunk(
    sweep: Sweep, today: date, now: datetime, chunk: int, after: Position | None
) -> tuple[Position, int] | None:
    """Move one chunk in one transaction: where it ended and how many it moved, or None when
    nothing was due."""
    with transaction.atomic():
        rows = _take(sweep, today, chunk, after)
        if not rows:
            return None
        ids = [pk for pk, _, _, _ in rows]
        targets = {state: _target(sweep, state) for state in {state for _, state, _, _ in rows}}
        actor = f"job:{sweep.name}"

        def move() -> None:
            by_source: dict[str, list[int]] = {}
            for pk, state, _, _ in rows:
                by_source.setdefault(state, []).append(pk)
            for state, pks in by_source.items():
                with_ids(Card.objects.filter(state=state), "id", pks).update(
                    state=targets[state], closed_at=now
                )
            if sweep.reason is not None:
                # Same transaction as the blocks. Responses of certificates that were on hold
                # (and so already answered "revoked") are re-signed by the publisher, not per
                # chunk: see `revoke_cards`.
                revoke_cards(ids, sweep.reason, now, resign_held=False)
                insert_for_ids(
                    Block,
                    "card_id",
                    ids,
                    {
                        "reason": sweep.reason.value,
                        "requested_by": actor,
                        "registered_at": now,
                        "note": f"Deadline passed ({sweep.rule}).",
                    },
                )

        extra = {"reason": sweep.reason.value} if sweep.reason else {}
        # The entries are computed while the database moves the cards (`meanwhile`).
        audit.append_alike(
            audit.Change(
                actor=actor,
                action=sweep.action.value,
                object_type="card",
                object_id="",
                at=now,
                reason=f"{sweep.rule}: deadline passed",
                before={"state": Slot(2)},
                after={"state": Slot(3), "card_number": Slot(1), **extra},
            ),
            [(str(pk), number, state, targets[state]) for pk, state, number, _ in rows],
            object_id=Slot(0),
            meanwhile=move,
        )
        last = rows[-1]
        return (last[3], last[0]), len(rows)


def run_sweep(
    sweep: Sweep, now: datetime, *, chunk: int = 5000, progress: Progress | None = None
) -> SweepResult:
    require_aware(now)
    today = local_date(now)
    total = _due(sweep, today).count()
    done = 0
    after: Position | None = None
    while True:
        taken = _sweep_chunk(sweep, today, now, chunk, after)
        if taken is None:
            if after is None:
                break
            after = None  # one more pass from the start: see the module's docstring
            continue
        after, changed = taken
        done += changed
        if progress:
            progress(sweep.name, done, max(total, done))
    return SweepResult(sweep.name, sweep.rule, done)


def run_all(
    now: datetime, *, chunk: int = 5000, progress: Progress | None = None
) -> list[SweepResult]:
    return [run_sweep(sweep, now, chunk=chunk, progress=progress) for sweep in SWEEPS]
