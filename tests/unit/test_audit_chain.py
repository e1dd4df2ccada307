"""The audit chain's canonical text. `entry_text(...).with_seq(n)` must give the very bytes
`canonical` gives for the whole entry, or `ekort audit verify` would report entries written by
`services.audit.append` as edited."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ekort.domain.audit_chain import GENESIS, canonical, canonical_mac, entry_mac, entry_text

AT = datetime(2024, 5, 1, 0, 5, tzinfo=UTC)

AWKWARD = [
    "9752000000000015",
    'quote " and backslash \\ and tab \t and newline \n',
    "åäö Östersund ✓ \u2028 \x01",
    "",
    "\ue000 private use \ue001",
]

scalars = st.one_of(st.text(), st.integers(), st.booleans(), st.none())
facts = st.dictionaries(st.text(), st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=5)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def payload(seq: int, **fields: object) -> dict:
    return {"seq": seq, **fields}


@given(
    seq=st.integers(min_value=1, max_value=10**12),
    at=instants,
    actor=st.text(),
    action=st.text(),
    object_id=st.text(),
    reason=st.text(),
    before=facts,
    after=facts,
)
def test_entry_text_with_its_sequence_number_is_the_canonical_payload(
    seq, at, actor, action, object_id, reason, before, after
):
    fields = {
        "at": at,
        "actor": actor,
        "action": action,
        "object_type": "card",
        "object_id": object_id,
        "reason": reason,
        "before": before,
        "after": after,
    }
    text = entry_text(**fields)
    assert text.with_seq(seq) == canonical(payload(seq, **fields))


def json_dumps(payload: dict) -> bytes:
    """What `canonical` is defined as, spelled out with `json.dumps` (`canonical` builds the
    same C encoder once, not per call)."""

    def default(value: object) -> str:
        return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)

    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default
    ).encode("utf-8")


@given(seq=st.integers(), at=instants, before=facts, after=facts, value=scalars)
def test_canonical_is_json_dumps_with_sorted_keys_and_no_spaces(seq, at, before, after, value):
    payload = {"seq": seq, "at": at, "before": before, "after": after, "value": value}
    assert canonical(payload) == json_dumps(payload)
    cet = timezone(timedelta(hours=1))
    later = {"at": at.astimezone(cet), "after": {"closed_at": at.astimezone(cet)}}
    assert canonical(later) == json_dumps(later)


def test_awkward_text_and_instants_in_other_zones_render_as_canonical_does():
    cet = timezone(timedelta(hours=1))
    for value in AWKWARD:
        fields = {
            "at": datetime(2024, 1, 24, 10, tzinfo=cet),
            "actor": value,
            "action": "block",
            "object_type": "card",
            "object_id": value,
            "reason": value,
            "before": {"state": value},
            "after": {"state": "blocked", "closed_at": AT, "card_number": value},
        }
        text = entry_text(**fields)
        assert text.with_seq(7) == canonical(payload(7, **fields))


def test_before_and_after_are_stored_as_the_json_the_payload_holds():
    text = entry_text(
        at=AT,
        actor="a",
        action="block",
        object_type="card",
        object_id="1",
        reason="",
        before={"state": "active"},
        after={"state": "blocked", "closed_at": AT},
    )
    assert text.before == '{"state":"active"}'
    assert text.after == '{"closed_at":"2024-05-01T00:05:00+00:00","state":"blocked"}'
    assert text.before.encode() in text.body and text.after.encode() in text.body


def test_the_mac_is_an_hmac_sha256_over_the_previous_mac_and_the_canonical_text():
    key = b"k" * 32
    body = canonical(payload(1, at=AT, actor="a"))
    expected = hmac.new(key, GENESIS.encode() + body, hashlib.sha256).hexdigest()
    assert canonical_mac(key, GENESIS, body) == expected
    assert entry_mac(key, GENESIS, payload(1, at=AT, actor="a")) == expected
