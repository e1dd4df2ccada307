"""The audit trail's hash chain, in plain Python.

Each entry's MAC is HMAC-SHA256(key, previous MAC + canonical JSON of the entry). Editing an
entry changes its MAC; removing or inserting one breaks the link to the next; and without the
key nobody can recompute the chain to hide either. The chain starts from GENESIS.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, NamedTuple, Protocol

GENESIS = "0" * 64


@lru_cache(maxsize=64)
def instant_text(value: datetime) -> str:
    """How an instant appears in the canonical JSON (UTC, ISO 8601). Remembered for the last
    few instants: the entries of one change share theirs (2.4 µs each, a fifth of an entry's
    rendering, before; equal instants in any zone give the same text)."""
    return value.astimezone(UTC).isoformat()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return instant_text(value)
    return str(value)


def canonical(payload: Mapping[str, Any]) -> bytes:
    """A byte string that is the same for the same content, whatever the database did to it:
    `json.dumps` with sorted keys, no spaces, text as it is (`_json`)."""
    return _json(payload).encode("utf-8")


def entry_mac(key: bytes, prev_mac: str, payload: Mapping[str, Any]) -> str:
    return canonical_mac(key, prev_mac, canonical(payload))


def canonical_mac(key: bytes, prev_mac: str, canonical_payload: bytes) -> str:
    """`entry_mac` of a payload already in canonical form (`EntryText.with_seq`)."""
    return hmac.digest(key, prev_mac.encode("ascii") + canonical_payload, "sha256").hex()


def _json_dumps(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def _c_json() -> Callable[[Any], str] | None:
    """`_json_dumps` without its per-call cost: the C encoder `json.dumps` itself builds for
    these options on every call (with a new `JSONEncoder`), made once. The same text for the
    same value (tests/unit/test_audit_chain.py); a value that holds itself recurses until
    Python stops it, where `json.dumps` would say so. 2.4 µs instead of 5.2 µs for a block's
    `after` on the benchmark machine, twice per audit entry."""
    if c_make_encoder is None:  # a Python without the C accelerator
        return None
    encode = c_make_encoder(
        None, _json_default, encode_basestring, None, ":", ",", True, False, True
    )

    def dumps(value: Any) -> str:
        if isinstance(value, str):
            return encode_basestring(value)  # as JSONEncoder.encode does for a str
        return "".join(encode(value, 0))

    return dumps


_json: Callable[[Any], str] = _c_json() or _json_dumps


class EntryText(NamedTuple):
    """An entry's canonical JSON before its sequence number is known, and its `before` and
    `after` as the JSON text that is stored.

    "seq" sorts after every other key of an entry, so the canonical text of the whole entry is
    `body` with `,"seq":N}` in place of its closing brace (`with_seq`): everything but the
    number is rendered before the trail's head is locked, and the head is held only for the
    MACs. `before` and `after` are rendered once, for the payload and for their columns.
    (A tuple: a sweep makes a million of these.)"""

    body: bytes
    before: str
    after: str

    def with_seq(self, seq: int) -> bytes:
        return _WITH_SEQ % (self.body[:-1], seq)


_WITH_SEQ = b'%b,"seq":%d}'  # an entry's body, its closing brace taken off, and its number


class Entry(Protocol):
    """What an audit entry says, its sequence number aside (`services.audit.Change`)."""

    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def object_type(self) -> str: ...
    @property
    def object_id(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def before(self) -> Mapping[str, Any]: ...
    @property
    def after(self) -> Mapping[str, Any]: ...


class _Fields(NamedTuple):
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    reason: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]


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
    """`canonical` of the entry's payload without "seq" (see `EntryText`)."""
    fields = _Fields(at, actor, action, object_type, object_id, reason, before, after)
    return entry_texts([fields])[0]


def entry_texts(entries: Iterable[Entry]) -> list[EntryText]:
    """`entry_text` of each entry: the keys written in the sorted order `canonical` puts them
    in (tests/unit/test_audit_chain.py holds it to that). A `before` or `after` that several
    entries share (the same object: a set's entries often do) is rendered once."""
    text = encode_basestring  # what json.dumps uses for a str, with ensure_ascii=False
    # By the mapping's id(), with the mapping kept, so that no id is reused meanwhile.
    rendered: dict[int, tuple[Mapping[str, Any], str]] = {}
    # The parts of the body around "after", "before" and "object_id", for the entry before:
    # a set's entries share their action, actor, instant, object type and reason.
    alike: tuple[Any, ...] = ()
    head = middle = tail = ""
    texts = []
    for entry in entries:
        fields = (entry.action, entry.actor, entry.at, entry.object_type, entry.reason)
        if fields != alike:
            alike = fields
            action, actor, at, object_type, reason = fields
            head = f'{{"action":{text(action)},"actor":{text(actor)},"after":'
            middle = f',"at":{text(instant_text(at))},"before":'
            tail = f',"object_type":{text(object_type)},"reason":{text(reason)}}}'
        before, after = entry.before, entry.after
        known = rendered.get(id(before))
        if known is None:
            known = rendered[id(before)] = (before, _json(before))
        before_text = known[1]
        known = rendered.get(id(after))
        if known is None:
            known = rendered[id(after)] = (after, _json(after))
        after_text = known[1]
        body = f'{head}{after_text}{middle}{before_text},"object_id":{text(entry.object_id)}{tail}'
        texts.append(EntryText(body.encode("utf-8"), before_text, after_text))
    return texts


def chain_macs(key: bytes, prev_mac: str, first_seq: int, texts: Iterable[EntryText]) -> list[str]:
    """The MACs of the entries numbered from `first_seq` with these texts, chained on from
    `prev_mac`: each `canonical_mac(key, previous, text.with_seq(seq))`, in one loop (the
    trail's head is locked while it runs)."""
    digest, with_seq = hmac.digest, _WITH_SEQ
    macs = []
    seq = first_seq
    for text in texts:
        prev_mac = digest(
            key, prev_mac.encode("ascii") + with_seq % (text.body[:-1], seq), "sha256"
        ).hex()
        macs.append(prev_mac)
        seq += 1
    return macs


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
