"""The audit chain's `Template`: the canonical JSON of a job's entries, the fixed parts encoded
once. It must give the very bytes `canonical` gives, or `ekort audit verify` would report the
job's entries as edited."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from ekort.domain.audit_chain import (
    GENESIS,
    Slot,
    Template,
    canonical,
    canonical_mac,
    entry_mac,
    scalar_json,
)

AT = datetime(2024, 5, 1, 0, 5, tzinfo=UTC)

AWKWARD = [
    "9752000000000015",
    'quote " and backslash \\ and tab \t and newline \n',
    "åäö Östersund ✓ \u2028 \x01",
    "",
    "\ue000 not a slot \ue001",
]


def payload_with(object_id: object, number: object, state: object, seq: object) -> dict:
    return {
        "seq": seq,
        "at": AT,
        "actor": "job:not_activated",
        "action": "block",
        "object_type": "card",
        "object_id": object_id,
        "reason": "R8: deadline passed",
        "before": {"state": state},
        "after": {"state": "blocked", "card_number": number, "reason": "not_activated"},
    }


@pytest.mark.parametrize("text", AWKWARD)
def test_a_template_renders_the_canonical_bytes(text):
    template = Template.of(payload_with(Slot(0), Slot(1), Slot(2), Slot(-1)))
    for row in [("17", text, "sent_inactive", 3), (text, None, True, 10**12)]:
        filled = payload_with(*row)
        assert template.render(row).encode("utf-8") == canonical(filled)


@pytest.mark.parametrize("text", AWKWARD)
def test_rendered_around_the_sequence_number_the_parts_join_to_the_canonical_bytes(text):
    template = Template.of(payload_with(Slot(0), Slot(1), Slot(2), Slot(-1)))
    row = ("17", text, "sent_inactive")
    before, after = template.fill_around([scalar_json(value) for value in row], -1)
    for seq in (1, 10**12):
        assert f"{before}{seq}{after}".encode() == canonical(payload_with(*row, seq))


def test_rendering_around_needs_the_open_slot_once():
    with pytest.raises(ValueError, match="exactly once"):
        Template.of({"seq": Slot(1)}).fill_around(['"x"'], 0)
    with pytest.raises(ValueError, match="exactly once"):
        Template.of({"a": Slot(0), "b": Slot(0)}).fill_around(['"x"'], 0)


def test_a_template_without_slots_is_the_canonical_text():
    payload = payload_with("17", "x", "sent_inactive", 3)
    assert Template.of(payload).render(()).encode("utf-8") == canonical(payload)


def test_a_slot_takes_only_scalars():
    template = Template.of({"after": Slot(0)})
    with pytest.raises(TypeError):
        template.render(({"state": "blocked"},))


def test_the_mac_is_the_same_hmac_sha256_as_before():
    # Trails written before the templates must still verify: same key, same bytes, same MAC.
    payload = payload_with("17", AWKWARD[1], "sent_inactive", 3)
    expected = hmac.new(b"key", GENESIS.encode() + canonical(payload), hashlib.sha256).hexdigest()
    assert entry_mac(b"key", GENESIS, payload) == expected
    assert canonical_mac(b"key", GENESIS, canonical(payload)) == expected
