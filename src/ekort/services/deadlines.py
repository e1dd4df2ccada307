"""The deadline jobs: block cards not collected in time (R3) or not activated in time (R8),
and expire cards whose validity ran out.

Each sweep works on sets, not rows: it takes a chunk of due cards with FOR UPDATE SKIP LOCKED,
moves them in one UPDATE, writes their block records and audit entries in bulk, and commits.
Running it again finds nothing left to do (idempotent); two runs at once split the work between
them instead of doing it twice (on SQLite the IMMEDIATE transactions take turns instead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from ekort.domain.lifecycle import LIVE_STATES, CardAction, CardState, next_state
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import BlockReason
from ekort.store.bulk import insert_rows, with_ids
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
    due: Callable[[date], Q]


SWEEPS: tuple[Sweep, ...] = (
    Sweep(
        "not_collected",
        "R3",
        frozenset({CardState.AWAITING_PICKUP}),
        CardAction.BLOCK,
        BlockReason.NOT_COLLECTED,
        lambda today: Q(pickup_deadline__lt=today),
    ),
    Sweep(
        "not_activated",
        "R8",
        frozenset({CardState.SENT_INACTIVE}),
        CardAction.BLOCK,
        BlockReason.NOT_ACTIVATED,
        lambda today: Q(activation_deadline__lt=today),
    ),
    Sweep(
        "expired",
        "validity",
        LIVE_STATES,
        CardAction.EXPIRE,
        None,
        lambda today: Q(valid_until__lt=today),
    ),
)


@dataclass
class SweepResult:
    name: str
    rule: str
    changed: int


def _due(sweep: Sweep, today: date) -> QuerySet[Card]:
    return Card.objects.filter(sweep.due(today), state__in=sweep.source_states)


def _sweep_chunk(sweep: Sweep, today: date, now: datetime, chunk: int) -> int:
    with transaction.atomic():
        rows = list(
            _due(sweep, today)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", "state", "number")[:chunk]
        )
        if not rows:
            return 0
        ids = [pk for pk, _, _ in rows]
        by_source: dict[str, list[int]] = {}
        for pk, state, _ in rows:
            by_source.setdefault(state, []).append(pk)
        for state, pks in by_source.items():
            target = next_state(CardState(state), sweep.action)  # the lifecycle table decides
            with_ids(Card.objects.filter(state=state), "id", pks).update(
                state=target, closed_at=now
            )
        actor = f"job:{sweep.name}"
        if sweep.reason is not None:
            # Same transaction as the blocks. Responses of certificates that were on hold (and
            # so already answered "revoked") are re-signed by the publisher, not per chunk:
            # see `revoke_cards`.
            revoke_cards(ids, sweep.reason, now, resign_held=False)
            note = f"Deadline passed ({sweep.rule})."
            insert_rows(
                Block,
                ("card_id", "reason", "requested_by", "registered_at", "note"),
                [(pk, sweep.reason.value, actor, now, note) for pk in ids],
            )
        after_state = next_state(CardState(rows[0][1]), sweep.action).value
        reason = f"{sweep.rule}: deadline passed"
        extra = {"reason": sweep.reason.value} if sweep.reason else {}
        audit.append_many(
            audit.Change(
                actor=actor,
                action=sweep.action.value,
                object_type="card",
                object_id=str(pk),
                at=now,
                reason=reason,
                before={"state": state},
                after={"state": after_state, "card_number": number, **extra},
            )
            for pk, state, number in rows
        )
        return len(rows)


def run_sweep(
    sweep: Sweep, now: datetime, *, chunk: int = 5000, progress: Progress | None = None
) -> SweepResult:
    require_aware(now)
    today = local_date(now)
    total = _due(sweep, today).count()
    done = 0
    while True:
        changed = _sweep_chunk(sweep, today, now, chunk)
        if not changed:
            break
        done += changed
        if progress:
            progress(sweep.name, done, max(total, done))
    return SweepResult(sweep.name, sweep.rule, done)


def run_all(
    now: datetime, *, chunk: int = 5000, progress: Progress | None = None
) -> list[SweepResult]:
    return [run_sweep(sweep, now, chunk=chunk, progress=progress) for sweep in SWEEPS]
