from .audit import AuditEntry, AuditHead
from .cards import Block, Card, CardNumberSequence, CardOrder, IdentityCheck, Letter
from .offices import CardOffice, OpeningException, OpeningInterval
from .people import Account, Organisation, Person, Unit

__all__ = [
    "Account",
    "AuditEntry",
    "AuditHead",
    "Block",
    "Card",
    "CardNumberSequence",
    "CardOffice",
    "CardOrder",
    "IdentityCheck",
    "Letter",
    "OpeningException",
    "OpeningInterval",
    "Organisation",
    "Person",
    "Unit",
]
