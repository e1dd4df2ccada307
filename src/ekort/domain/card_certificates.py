"""Which certificates a card may carry (R11-R13), decided from plain facts about the card.

R11: only the SITHS eID is put on the card at production, and it names the holder by HSA-id,
so a holder without one gets no card certificate. R12: the holder downloads a signature
certificate in self-service, choosing its code there (the code goes to the chip; nothing here
sees it); one per card. R13: at most one additional certificate from another region at a time;
the holder removes it or swaps it for another.

Services call these and `.require()` the answer; the holder's pages ask the same functions to
show or hide their forms.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from .errors import Decision, decides
from .rulebook import rule


@decides("R11")
def decide_certificate_holder(*, has_hsa_id: bool) -> Decision:
    """May the holder be named in the card's SITHS certificate? Only with an HSA-id (R11)."""
    r11 = rule("R11")
    if not has_hsa_id:
        return Decision.refuse(
            "R11",
            f"{r11.sv} Personen saknar HSA-id, som SITHS-certifikatet måste innehålla.",
            f"{r11.en} The person has no HSA-id, which the SITHS certificate must carry.",
        )
    return Decision.allow("R11", r11.sv, r11.en)


@decides("R12")
def decide_signature_certificate(*, has_signature: bool) -> Decision:
    """May the holder download a signature certificate to the card? One per card (R12):
    `has_signature` is whether one is on the card now (on hold or valid, not removed)."""
    r12 = rule("R12")
    if has_signature:
        return Decision.refuse(
            "R12",
            f"{r12.sv} Kortet har redan ett underskriftscertifikat.",
            f"{r12.en} The card already has a signature certificate.",
        )
    return Decision.allow("R12", r12.sv, r12.en)


class AdditionalChange(StrEnum):
    """What the holder does with the additional certificate (R13)."""

    ADD = "add"
    SWAP = "swap"  # the one on the card is removed as the new one is added
    REMOVE = "remove"


@decides("R13")
def decide_additional_certificate(
    change: AdditionalChange,
    *,
    has_additional: bool,
    issuer: str | None = None,
    foreign_issuers: Collection[str] = (),
) -> Decision:
    """May the holder make `change` to the card's additional certificate (R13)?

    `has_additional` is whether one is on the card now (on hold or valid, not removed).
    Adding is refused while there is one: remove or swap it. A swap never leaves more than
    one, so it is allowed with one there or none (then it adds). Removing needs one there.
    When adding or swapping, `issuer` names the other region's issuer asked for, and it must
    be one of `foreign_issuers`, the issuers ekort knows; a page asking whether to offer the
    form passes none.
    """
    r13 = rule("R13")
    if issuer is not None and change != AdditionalChange.REMOVE and issuer not in foreign_issuers:
        return Decision.refuse(
            "R13",
            f"{r13.sv} Okänd utfärdare: {issuer[:80]}.",
            f"{r13.en} Unknown issuer of additional certificates: {issuer[:80]}.",
        )
    if change == AdditionalChange.ADD and has_additional:
        return Decision.refuse(
            "R13",
            f"{r13.sv} Ta bort eller byt det tilläggscertifikat som redan finns på kortet.",
            f"{r13.en} Remove or swap the additional certificate already on the card.",
        )
    if change == AdditionalChange.REMOVE and not has_additional:
        return Decision.refuse(
            "R13",
            f"{r13.sv} Kortet har inget tilläggscertifikat.",
            f"{r13.en} The card has no additional certificate.",
        )
    return Decision.allow("R13", r13.sv, r13.en)
