"""What the database holds after `ekort demo`: the counts it prints, whether it built the demo
just now or found it there already."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from ekort.domain.identifiers import IdentityKind
from ekort.services import audit
from ekort.store.models import (
    AuditEntry,
    Block,
    Card,
    CardOffice,
    Letter,
    OpeningException,
    OpeningInterval,
    Organisation,
    Person,
    Unit,
)

from .region import ORGANISATION_NUMBER


@dataclass(frozen=True)
class Summary:
    """What the database holds after `ekort demo`."""

    organisation: str
    units: int
    offices: tuple[str, ...]  # towns
    opening_intervals: int
    opening_exceptions: int
    persons: int
    managers: int
    samordningsnummer: int
    protected: int
    cards: dict[tuple[str, str], int]  # (generation, state) -> count; generation "" if none yet
    letters: int
    blocks: dict[str, int]
    audit_entries: int
    audit_findings: int


def summarise() -> Summary:
    org = Organisation.objects.filter(organisation_number=ORGANISATION_NUMBER).first()
    by_state = Card.objects.values_list("generation", "state").annotate(n=Count("pk")).order_by()
    blocks = Block.objects.values_list("reason").annotate(n=Count("pk")).order_by()
    return Summary(
        organisation=org.name if org else "",
        units=Unit.objects.count(),
        offices=tuple(CardOffice.objects.order_by("town").values_list("town", flat=True)),
        opening_intervals=OpeningInterval.objects.count(),
        opening_exceptions=OpeningException.objects.count(),
        persons=Person.objects.count(),
        managers=Person.objects.filter(reports__isnull=False).distinct().count(),
        samordningsnummer=Person.objects.filter(
            identity_kind=IdentityKind.SAMORDNINGSNUMMER
        ).count(),
        protected=Person.objects.filter(protected_identity=True).count(),
        cards={(generation, state): n for generation, state, n in by_state},
        letters=Letter.objects.count(),
        blocks={reason: n for reason, n in blocks},
        audit_entries=AuditEntry.objects.count(),
        audit_findings=len(audit.verify_trail()),
    )
