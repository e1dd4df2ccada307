"""The audit trail's hash chain, in plain Python.

Each entry's MAC is HMAC-SHA256(key, previous MAC + canonical JSON of the entry). Editing an
entry changes its MAC; removing or inserting one breaks the link to the next; and without the
key nobody can recompute the chain to hide either. The chain starts from GENESIS.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64


def instant_text(value: datetime) -> str:
    """How an instant appears in the canonical JSON (UTC, ISO 8601). Putting this text in a
    payload instead of the datetime gives the same bytes, without converting it per entry."""
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
    """`entry_mac` of a payload already in canonical form (see `Template`)."""
    return hmac.digest(key, prev_mac.encode("ascii") + canonical_payload, "sha256").hex()


@dataclass(frozen=True)
class Slot:
    """A value left open in a `Template`: the `index`-th value of each row it renders."""

    index: int


_SLOT_OPEN, _SLOT_CLOSE = "\ue000", "\ue001"  # private-use characters: in no real payload


@dataclass(frozen=True)
class Template:
    """The canonical JSON of many payloads alike but for a few scalar values (a job's entries:
    the same action, actor and reason, each its own card): the fixed parts encoded once, the
    open values (`Slot`s) encoded per row. `render` gives the same bytes as `canonical` of the
    payload with the slots filled in (tests/domain/test_audit_chain.py holds it to that)."""

    pieces: tuple[str, ...]  # fixed JSON text around the slots
    slots: tuple[int, ...]  # which value goes between pieces[i] and pieces[i + 1]

    @classmethod
    def of(cls, payload: Any) -> Template:
        def mark(value: Any) -> Any:
            if isinstance(value, Slot):
                return f"{_SLOT_OPEN}{value.index}{_SLOT_CLOSE}"
            if isinstance(value, Mapping):
                return {k: mark(v) for k, v in value.items()}
            return value

        text = json.dumps(
            mark(payload),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=_json_default,
        )
        parts = text.split(f'"{_SLOT_OPEN}')
        pieces, slots = [parts[0]], []
        for part in parts[1:]:
            index, _, rest = part.partition(f'{_SLOT_CLOSE}"')
            slots.append(int(index))
            pieces.append(rest)
        return cls(tuple(pieces), tuple(slots))

    def render(self, values: Sequence[Any]) -> str:
        """The canonical JSON text with `values` in the slots (str, int, bool or None)."""
        return self.fill({slot: scalar_json(values[slot]) for slot in self.slots})

    def fill(self, texts: Sequence[str] | Mapping[int, str]) -> str:
        """`render` for values already encoded by `scalar_json`: when several templates take
        the same values (an entry's payload, and its `before` and `after`), each is encoded
        once."""
        pieces = self.pieces
        out = [pieces[0]]
        for i, slot in enumerate(self.slots):
            out.append(texts[slot])
            out.append(pieces[i + 1])
        return "".join(out)

    def fill_around(self, texts: Sequence[str], open_slot: int) -> tuple[str, str]:
        """The canonical JSON text before and after the one place of `open_slot`, the other
        slots filled from `texts` (as `fill`): `before + <that value's JSON> + after` is the
        whole text. For a value known only later (an entry's sequence number, known once the
        trail's head is locked), so that the rest is rendered earlier."""
        if self.slots.count(open_slot) != 1:
            raise ValueError(f"slot {open_slot} is not in the template exactly once")
        pieces = self.pieces
        out = [pieces[0]]
        cut = 0
        for i, slot in enumerate(self.slots):
            if slot == open_slot:
                cut = len(out)
            else:
                out.append(texts[slot])
            out.append(pieces[i + 1])
        return "".join(out[:cut]), "".join(out[cut:])


def scalar_json(value: Any) -> str:
    """A slot's value as canonical JSON text (a str, int, bool or None)."""
    if isinstance(value, str):
        return encode_basestring(value)  # what json.dumps uses, with ensure_ascii=False
    if type(value) is int:
        return str(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    raise TypeError(f"a template slot takes a str, int, bool or None, not {value!r}")


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
