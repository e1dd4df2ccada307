"""The audit trail's hash chain, in plain Python.

Each entry's MAC is HMAC-SHA256(key, previous MAC + canonical JSON of the entry). Editing an
entry changes its MAC; removing or inserting one breaks the link to the next; and without the
key nobody can recompute the chain to hide either. The chain starts from GENESIS.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64


def instant_text(value: datetime) -> str:
    """How an instant appears in the canonical JSON (UTC, ISO 8601)."""
    return value.astimezone(UTC).isoformat()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return instant_text(value)
    return str(value)


def canonical(payload: Mapping[str, Any]) -> bytes:
    """A byte string that is the same for the same content, whatever the database did to it."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode("utf-8")


def entry_mac(key: bytes, prev_mac: str, payload: Mapping[str, Any]) -> str:
    return canonical_mac(key, prev_mac, canonical(payload))


def canonical_mac(key: bytes, prev_mac: str, canonical_payload: bytes) -> str:
    """`entry_mac` of a payload already in canonical form (`EntryText.with_seq`)."""
    return hmac.digest(key, prev_mac.encode("ascii") + canonical_payload, "sha256").hex()


def _json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


@dataclass(frozen=True)
class EntryText:
    """An entry's canonical JSON before its sequence number is known, and its `before` and
    `after` as the JSON text that is stored.

    "seq" sorts after every other key of an entry, so the canonical text of the whole entry is
    `body` with `,"seq":N}` in place of its closing brace (`with_seq`): everything but the
    number is rendered before the trail's head is locked, and the head is held only for the
    MACs. `before` and `after` are rendered once, for the payload and for their columns."""

    body: bytes
    before: str
    after: str

    def with_seq(self, seq: int) -> bytes:
        return b'%b,"seq":%d}' % (self.body[:-1], seq)


def entry_text(
    *,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    reason: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> EntryText:
    """`canonical` of the entry's payload without "seq" (see `EntryText`): its keys written in
    the sorted order `canonical` puts them in (tests/unit/test_audit_chain.py holds it to that)."""
    text = encode_basestring  # what json.dumps uses for a str, with ensure_ascii=False
    before_text, after_text = _json(before), _json(after)
    body = (
        f'{{"action":{text(action)},"actor":{text(actor)},"after":{after_text},'
        f'"at":{text(instant_text(at))},"before":{before_text},"object_id":{text(object_id)},'
        f'"object_type":{text(object_type)},"reason":{text(reason)}}}'
    )
    return EntryText(body.encode("utf-8"), before_text, after_text)


@dataclass(frozen=True)
class ChainedEntry:
    seq: int
    prev_mac: str
    mac: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.problem}"


def verify(
    key: bytes,
    entries: Iterable[ChainedEntry],
    *,
    head_seq: int,
    head_mac: str,
    anchors: Mapping[int, str] | None = None,
) -> list[Finding]:
    """Every break in the chain, in order. An empty list means the trail is intact.

    `anchors` are (seq -> MAC) pairs recorded outside the database earlier (`ekort audit
    anchor`). They catch what the chain alone cannot: the newest entries removed together with
    the head row set back to an older, genuine link.
    """
    findings: list[Finding] = []
    pending = dict(anchors or {})
    expected_seq, expected_prev = 1, GENESIS
    for entry in entries:
        if entry.seq != expected_seq:
            problem = (
                f"entries {expected_seq}..{entry.seq - 1} are missing (removed)"
                if entry.seq > expected_seq
                else f"sequence number repeats or goes back (expected {expected_seq})"
            )
            findings.append(Finding(entry.seq, problem))
        if entry.prev_mac != expected_prev:
            findings.append(
                Finding(entry.seq, "does not link to the entry before it (inserted or reordered)")
            )
        if not hmac.compare_digest(entry.mac, entry_mac(key, entry.prev_mac, entry.payload)):
            findings.append(Finding(entry.seq, "content does not match its MAC (edited)"))
        anchored = pending.pop(entry.seq, None)
        if anchored is not None and not hmac.compare_digest(anchored, entry.mac):
            findings.append(Finding(entry.seq, "differs from the anchor recorded for it"))
        expected_seq, expected_prev = entry.seq + 1, entry.mac
    for seq in sorted(pending):
        findings.append(Finding(seq, "an anchor was recorded for it but the entry is gone"))
    last_seq = expected_seq - 1
    if last_seq != head_seq or expected_prev != head_mac:
        findings.append(
            Finding(
                last_seq,
                f"the chain ends at entry {last_seq} but the head records entry {head_seq} "
                "(entries removed from the end, or the head was changed)",
            )
        )
    return findings
