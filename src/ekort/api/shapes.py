"""How persons, cards, blocks, letters and certificates are shown in the API's answers.

Who may see what is decided in `ekort.services.visibility`; this module only shapes what the
caller may see: identity numbers in full for staff and masked for others, and the address of a
person with protected identity left out for those who may not read it.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ekort.domain.identifiers import mask_identity_number
from ekort.services import visibility
from ekort.store.models import Block, Card, Certificate, FourEyesApproval, Letter, Person


def masked(identity_number: str) -> str:
    return mask_identity_number(identity_number)


def person_out(actor: Any, person: Person, *, listed: bool = False) -> dict[str, Any]:
    """A person as the API shows one; `listed` in a list, which never holds a protected
    address, whoever asks."""
    staff = visibility.is_staff(actor)
    address = None
    if not (listed and person.protected_identity) and visibility.may_see_address(
        actor, person.protected_identity
    ):
        address = {
            "street_address": person.street_address,
            "postal_code": person.postal_code,
            "postal_town": person.postal_town,
        }
    return {
        "id": person.pk,
        "identity_number": person.identity_number if staff else masked(person.identity_number),
        "identity_kind": person.identity_kind,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "hsa_id": person.hsa_id,
        "unit_id": person.unit_id,
        "manager_id": person.manager_id,
        "protected_identity": person.protected_identity,
        "address": address,
    }


def block_out(block: Block) -> dict[str, Any]:
    return {
        "card_id": block.card_id,
        "reason": block.reason,
        "requested_by": block.requested_by,
        "registered_by": block.registered_by.get_username() if block.registered_by else None,
        "registered_at": block.registered_at,
        "note": block.note,
    }


def pending_approval_out(approval: FourEyesApproval | None) -> dict[str, Any] | None:
    if approval is None:
        return None
    check = approval.identity_check
    return {
        "purpose": approval.purpose,
        "registered_by": approval.registered_by.get_username(),
        "registered_at": approval.registered_at,
        "document_kind": check.document_kind,
        "document_expires_on": check.document_expires_on,
    }


def card_out(card: Card) -> dict[str, Any]:
    block = Block.objects.select_related("registered_by").filter(card_id=card.pk).first()
    pending = (
        FourEyesApproval.objects.select_related("registered_by", "identity_check")
        .filter(card_id=card.pk, outcome="")
        .first()
    )
    order = card.order
    return {
        "id": card.pk,
        "person_id": card.person_id,
        "card_type": card.card_type,
        "state": card.state,
        "assurance_level": card.assurance_level,
        "number": card.number,
        "generation": card.generation,
        "sis_marked": card.sis_marked,
        "ordered_at": order.ordered_at,
        "ordered_by": order.ordered_by.get_username(),
        "replaces_card_id": order.replaces_id,
        "photographed_at": card.photographed_at,
        "produced_at": card.produced_at,
        "valid_until": card.valid_until,
        "delivery_path": card.delivery_path,
        "sent_at": card.sent_at,
        "pickup_deadline": card.pickup_deadline,
        "activation_deadline": card.activation_deadline,
        "activated_at": card.activated_at,
        "closed_at": card.closed_at,
        "block": None if block is None else block_out(block),
        "pending_approval": pending_approval_out(pending),
    }


def letter_ref_out(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.pk,
        "kind": letter.kind,
        "card_id": letter.card_id,
        "queued_at": letter.queued_at,
    }


def letter_out(letter: Letter) -> dict[str, Any]:
    """A letter in the print queue's list: the address of a person with protected personal
    data is never in a list (empty here; it is on the letter's PDF only)."""
    protected = letter.person.protected_identity
    return {
        **letter_ref_out(letter),
        "person_id": letter.person_id,
        "recipient_name": letter.recipient_name,
        "street_address": "" if protected else letter.street_address,
        "postal_code": "" if protected else letter.postal_code,
        "postal_town": "" if protected else letter.postal_town,
        "printed_at": letter.printed_at,
    }


def certificate_out(certificate: Certificate) -> dict[str, Any]:
    der = bytes(certificate.der)
    return {
        "id": certificate.pk,
        "card_id": certificate.card_id,
        "profile": certificate.profile,
        "issuer": certificate.issuer.name,
        "serial": certificate.serial,
        "subject": certificate.subject,
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "status": certificate.status,
        "on_card": certificate.on_card,
        "revoked_at": certificate.revoked_at,
        "revocation_reason": certificate.revocation_reason,
        "pem": x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode("ascii"),
    }
