"""E16: which certificate signs in, and with which roles (ekort.domain.card_sign_in)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from ekort.domain.card_sign_in import (
    PresentedCertificate,
    Refusal,
    decide_card_sign_in,
    refusal_of,
    roles_at,
)
from ekort.domain.vocabulary import AssuranceLevel, Role
from tests import instants as t

ISSUED = t.sthlm(2024, 2, 1, 10)
ENDS = t.sthlm(2029, 1, 31, 23, 59, 59)
NOW = t.sthlm(2024, 2, 6, 10)
STAFF = frozenset({Role.HOLDER, Role.ID_ADMIN})

GOOD = PresentedCertificate(
    verified_by_proxy=True,
    ours=True,
    profile="auth",
    status="valid",
    card_state="active",
    not_before=ISSUED,
    not_after=ENDS,
    level=AssuranceLevel.LOA3,
    names_holder=True,
    accounts=1,
    roles=STAFF,
)


def test_an_active_loa3_card_signs_in_with_every_role():
    decision = decide_card_sign_in(GOOD, NOW)
    assert decision.allowed and decision.rule == "E16"
    assert "tillitsnivå 3" in decision.sv
    assert roles_at(AssuranceLevel.LOA3, STAFF) == STAFF


def test_level_2_gives_the_holders_role_only():
    assert roles_at(AssuranceLevel.LOA2, STAFF) == {Role.HOLDER}
    assert roles_at(AssuranceLevel.LOA2, frozenset(Role) - {Role.HOLDER}) == frozenset()
    assert roles_at(None, STAFF) == frozenset()
    level_2 = dataclasses.replace(GOOD, level=AssuranceLevel.LOA2)
    assert decide_card_sign_in(level_2, NOW).allowed
    only_staff = dataclasses.replace(level_2, roles=frozenset({Role.ID_ADMIN}))
    assert refusal_of(only_staff, NOW) is Refusal.LEVEL_TOO_LOW


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"verified_by_proxy": False}, Refusal.UNVERIFIED),
        ({"ours": False}, Refusal.FOREIGN),
        ({"ours": False, "verified_by_proxy": False}, Refusal.FOREIGN),
        ({"verified_by_proxy": False, "card_state": "blocked"}, Refusal.BLOCKED),
        ({"profile": "signature"}, Refusal.NOT_AUTHENTICATION),
        ({"card_state": "blocked", "status": "revoked"}, Refusal.BLOCKED),
        ({"status": "revoked"}, Refusal.REVOKED),
        ({"status": "on_hold", "card_state": "sent_inactive"}, Refusal.ON_HOLD),
        ({"card_state": "produced"}, Refusal.ON_HOLD),
        ({"card_state": "expired"}, Refusal.CARD_NOT_ACTIVE),
        ({"names_holder": False}, Refusal.WRONG_HOLDER),
        ({"accounts": 0, "roles": frozenset()}, Refusal.NO_ACCOUNT),
        ({"accounts": 2, "roles": frozenset()}, Refusal.SEVERAL_ACCOUNTS),
        ({"roles": frozenset()}, Refusal.NO_ROLE),
        ({"same_as_session": False}, Refusal.CHANGED),
    ],
)
def test_each_refusal_names_its_reason(change, why):
    presented = dataclasses.replace(GOOD, **change)
    assert refusal_of(presented, NOW) is why
    decision = decide_card_sign_in(presented, NOW)
    assert not decision.allowed and decision.rule == "E16" and decision.sv and decision.en


def test_no_certificate():
    assert refusal_of(None, NOW) is Refusal.NO_CERTIFICATE


def test_the_certificate_is_valid_from_its_first_to_its_last_second():
    assert refusal_of(GOOD, ISSUED) is None
    assert refusal_of(GOOD, ENDS) is None
    assert refusal_of(GOOD, ISSUED - timedelta(seconds=1)) is Refusal.OUTSIDE_VALIDITY
    assert refusal_of(GOOD, ENDS + timedelta(seconds=1)) is Refusal.OUTSIDE_VALIDITY


def test_a_role_added_later_needs_level_3():
    assert roles_at(AssuranceLevel.LOA3, frozenset(Role)) == frozenset(Role)
    assert roles_at(AssuranceLevel.LOA2, frozenset(Role)) == {Role.HOLDER}
