"""Writing and verifying the audit trail.

Appends lock the single AuditHead row, so concurrent writers take turns and the chain stays a
chain. Call `record` inside the transaction that makes the change it describes: the entry and the
change commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from ekort.domain.audit_chain import (
    GENESIS,
    ChainedEntry,
    Finding,
    Slot,
    Template,
    canonical_mac,
    entry_mac,
    instant_text,
    scalar_json,
    verify,
)
from ekort.store.bulk import encoder_around, insert_encoded, insert_rows
from ekort.store.models import AuditEntry, AuditHead


@dataclass(frozen=True)
class Change:
    actor: str
    action: str
    object_type: str
    object_id: str
    at: datetime
    reason: str = ""
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)


def _key() -> bytes:
    return settings.EKORT_AUDIT_KEY.encode("utf-8")


def _payload(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
    }


def _locked_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # First entry ever: create the head. get_or_create races are settled by the primary key.
        head, _ = AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "mac": GENESIS})
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def record_many(changes: Sequence[Change]) -> list[AuditEntry]:
    """Append entries for `changes`, in order, in the caller's transaction."""
    if not changes:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit entries must be written inside the change's transaction")
    key = _key()
    head = _locked_head()
    entries: list[AuditEntry] = []
    seq, prev = head.seq, head.mac
    for change in changes:
        seq += 1
        entry = AuditEntry(
            seq=seq,
            at=change.at,
            actor=change.actor,
            action=change.action,
            object_type=change.object_type,
            object_id=change.object_id,
            reason=change.reason,
            before=dict(change.before),
            after=dict(change.after),
            prev_mac=prev,
        )
        entry.mac = entry_mac(key, prev, _payload(entry))
        prev = entry.mac
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    head.seq, head.mac = seq, prev
    head.save(update_fields=["seq", "mac"])
    return entries


_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "reason",
    "before",
    "after",
    "prev_mac",
    "mac",
)


# `append_alike`'s column order: each entry's own values, then those alike for all of them.
_ALIKE_COLUMNS = (
    "seq",
    "object_id",
    "before",
    "after",
    "at",
    "actor",
    "action",
    "object_type",
    "reason",
    "prev_mac",
    "mac",
)


def append_many(changes: Iterable[Change]) -> int:
    """Like `record_many`, for the set-based jobs: the same entries and the same chain (each
    MAC over the same canonical payload), written in bulk without a model instance per entry.
    Returns how many were appended."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit entries must be written inside the change's transaction")
    key = _key()
    head = _locked_head()
    seq, prev = head.seq, head.mac
    times: dict[datetime, str] = {}  # a job's entries share their instant: convert it once
    rows = []
    for change in changes:
        seq += 1
        at = change.at
        at_text = times.get(at)
        if at_text is None:
            at_text = times[at] = instant_text(at)
        before, after = dict(change.before), dict(change.after)
        payload = {
            "seq": seq,
            "at": at_text,
            "actor": change.actor,
            "action": change.action,
            "object_type": change.object_type,
            "object_id": change.object_id,
            "reason": change.reason,
            "before": before,
            "after": after,
        }
        mac = entry_mac(key, prev, payload)
        rows.append(
            (
                seq,
                at,
                change.actor,
                change.action,
                change.object_type,
                change.object_id,
                change.reason,
                json.dumps(before),
                json.dumps(after),
                prev,
                mac,
            )
        )
        prev = mac
    if not rows:
        return 0
    insert_rows(AuditEntry, _COLUMNS, rows)
    head.seq, head.mac = seq, prev
    head.save(update_fields=["seq", "mac"])
    return len(rows)


def append_alike(
    change: Change,
    rows: Iterable[Sequence[Any]],
    *,
    object_id: Slot | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> int:
    """`append_many` for a job's entries, alike but for a few values: one entry per row, each
    `change` with the `Slot(i)`s among the values of its `before` and `after` filled with the
    row's i-th item (a str, int, bool or None); `object_id`, a slot too, names the object (else
    `change.object_id`). The same entries and MACs as `append_many` gives for the filled-in
    changes (`audit verify` cannot tell them apart); the fixed parts are encoded once.

    `meanwhile`, if given, is the change's own database work: it is called first (in this
    thread and transaction) while the entries are rendered in another thread. The trail's head
    is locked only after it, so that jobs in several processes do their work side by side and
    take turns only for the chain itself: the MACs and writing the entries."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit entries must be written inside the change's transaction")
    payload = Template.of(
        {
            "seq": Slot(-1),  # each row gets its sequence number appended: its last item
            "at": instant_text(change.at),
            "actor": change.actor,
            "action": change.action,
            "object_type": change.object_type,
            "object_id": object_id or change.object_id,
            "reason": change.reason,
            "before": change.before,
            "after": change.after,
        }
    )
    before, after = Template.of(change.before), Template.of(change.after)
    encode, join = encoder_around()
    # The columns alike for every entry are encoded once (`_ALIKE_COLUMNS`).
    alike = encode((change.at, change.actor, change.action, change.object_type, change.reason))
    listed = list(rows)

    def rendered() -> list[tuple[bytes, bytes, Any]]:
        # Everything but the sequence number and the MACs, which need the locked head: pure
        # computation (no database), so that it can run while the database works. Each row's
        # values are encoded as JSON once, for the payload, `before` and `after` alike.
        out = []
        for row in listed:
            texts = [scalar_json(value) for value in row]
            head_text, tail_text = payload.fill_around(texts, -1)
            name = change.object_id if object_id is None else row[object_id.index]
            own = encode((name, before.fill(texts), after.fill(texts)))
            out.append((head_text.encode("utf-8"), tail_text.encode("utf-8"), own))
        return out

    if meanwhile is None:
        parts = rendered()
    else:
        # Rendering is Python's work and `meanwhile` mostly the database's (waiting for it
        # releases the GIL), so the two overlap.
        with ThreadPoolExecutor(max_workers=1) as pool:
            rendering = pool.submit(rendered)
            meanwhile()
            parts = rendering.result()
    if not parts:
        return 0
    key = _key()
    head = _locked_head()
    seq, prev = head.seq, head.mac
    lines = []
    for head_bytes, tail_bytes, own in parts:
        seq += 1
        mac = canonical_mac(key, prev, b"%b%d%b" % (head_bytes, seq, tail_bytes))
        lines.append(join(seq, (own, alike), (prev, mac)))
        prev = mac
    insert_encoded(AuditEntry, _ALIKE_COLUMNS, lines)
    head.seq, head.mac = seq, prev
    head.save(update_fields=["seq", "mac"])
    return len(lines)


def record(change: Change) -> AuditEntry:
    return record_many([change])[0]


def _chained(batch: int = 5000) -> Iterator[ChainedEntry]:
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=batch):
        yield ChainedEntry(entry.seq, entry.prev_mac, entry.mac, _payload(entry))


def verify_trail(anchors: Mapping[int, str] | None = None) -> list[Finding]:
    """Every edited, removed or inserted entry. Reads in one snapshot on PostgreSQL."""
    connection = transaction.get_connection()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            # One snapshot for the head and the entries, so that appends running meanwhile
            # are not mistaken for tampering.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = AuditHead.objects.filter(pk=1).first()
        head_seq, head_mac = (head.seq, head.mac) if head else (0, GENESIS)
        return verify(_key(), _chained(), head_seq=head_seq, head_mac=head_mac, anchors=anchors)


def current_anchor() -> str:
    """The head as `SEQ:MAC`, to be kept outside the database (a log, a ticket, paper)."""
    head = AuditHead.objects.filter(pk=1).first()
    return f"{head.seq}:{head.mac}" if head else f"0:{GENESIS}"


def parse_anchor(text: str) -> tuple[int, str]:
    seq, _, mac = text.strip().partition(":")
    if not seq.isdigit() or len(mac) != 64 or any(c not in "0123456789abcdef" for c in mac):
        raise ValueError(f"An anchor looks like 1234:<64 hex digits>, not {text[:80]!r}.")
    return int(seq), mac


def history(object_type: str, object_id: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=object_type, object_id=object_id))


def entry_count() -> int:
    return AuditEntry.objects.count()
