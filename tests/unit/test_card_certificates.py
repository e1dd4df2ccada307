"""Which certificates a card may carry (R11-R13): the domain's decisions, from plain facts."""

from __future__ import annotations

import pytest

from ekort.domain.card_certificates import (
    AdditionalChange,
    decide_additional_certificate,
    decide_certificate_holder,
    decide_signature_certificate,
)
from ekort.domain.deciders import deciders
from ekort.domain.errors import Refused

FOREIGN = "Region Uppsala Person ID 3 CA v1"


def test_each_rule_here_is_decided_by_one_function_of_this_module():
    found = deciders()
    module = "ekort.domain.card_certificates"
    assert found["R11"] == [f"{module}.decide_certificate_holder"]
    assert found["R12"] == [f"{module}.decide_signature_certificate"]
    assert found["R13"] == [f"{module}.decide_additional_certificate"]


def test_a_holder_without_an_hsa_id_cannot_be_named_in_the_certificate():
    assert decide_certificate_holder(has_hsa_id=True).allowed
    refused = decide_certificate_holder(has_hsa_id=False)
    assert (refused.allowed, refused.rule) == (False, "R11")
    assert refused.sv.endswith("Personen saknar HSA-id, som SITHS-certifikatet måste innehålla.")
    assert refused.en.endswith("The person has no HSA-id, which the SITHS certificate must carry.")
    with pytest.raises(Refused) as raised:
        refused.require()
    assert str(raised.value).startswith("R11: Only the SITHS eID is put on the card")


def test_one_signature_certificate_per_card():
    allowed = decide_signature_certificate(has_signature=False)
    assert (allowed.allowed, allowed.rule) == (True, "R12")
    refused = decide_signature_certificate(has_signature=True)
    assert (refused.allowed, refused.rule) == (False, "R12")
    assert refused.sv.endswith("Kortet har redan ett underskriftscertifikat.")
    assert refused.en.endswith("The card already has a signature certificate.")


@pytest.mark.parametrize(
    ("change", "has_additional", "allowed", "says"),
    [
        (AdditionalChange.ADD, False, True, ""),
        (AdditionalChange.ADD, True, False, "Remove or swap the additional certificate"),
        (AdditionalChange.SWAP, True, True, ""),
        (AdditionalChange.SWAP, False, True, ""),  # nothing to remove: the swap adds one
        (AdditionalChange.REMOVE, True, True, ""),
        (AdditionalChange.REMOVE, False, False, "The card has no additional certificate."),
    ],
)
def test_at_most_one_additional_certificate_remove_or_swap(change, has_additional, allowed, says):
    decision = decide_additional_certificate(change, has_additional=has_additional)
    assert (decision.allowed, decision.rule) == (allowed, "R13")
    assert says in decision.en


def test_an_additional_certificate_comes_from_an_issuer_ekort_knows():
    for change in (AdditionalChange.ADD, AdditionalChange.SWAP):
        known = decide_additional_certificate(
            change, has_additional=False, issuer=FOREIGN, foreign_issuers={FOREIGN}
        )
        assert known.allowed
        unknown = decide_additional_certificate(
            change, has_additional=False, issuer="Nowhere CA", foreign_issuers={FOREIGN}
        )
        assert (unknown.allowed, unknown.rule) == (False, "R13")
        assert unknown.sv.endswith("Okänd utfärdare: Nowhere CA.")
        assert unknown.en.endswith("Unknown issuer of additional certificates: Nowhere CA.")
    long_name = "X" * 200
    unknown = decide_additional_certificate(
        AdditionalChange.ADD, has_additional=False, issuer=long_name
    )
    assert f"{'X' * 80}." in unknown.en and "X" * 81 not in unknown.en
    # The issuer is checked before the count: an unknown one is named even with one there.
    both = decide_additional_certificate(
        AdditionalChange.ADD, has_additional=True, issuer="Nowhere CA", foreign_issuers=()
    )
    assert "Unknown issuer" in both.en
