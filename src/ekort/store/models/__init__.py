from .audit import AuditEntry, AuditHead
from .cards import Block, Card, CardNumberSequence, CardOrder, IdentityCheck, Letter
from .people import Account, Organisation, Person, Unit
from .offices import CardOffice, OpeningException, OpeningInterval

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
