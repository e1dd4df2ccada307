from .api import ApiToken
from .audit import AuditEntry, AuditHead
from .bureau import BureauBatch, CardPhoto
from .cards import (
    Block,
    Card,
    CardNumberSequence,
    CardOrder,
    FourEyesApproval,
    IdentityCheck,
    Letter,
)
from .letters import LetterApproval
from .notices import Notice
from .offices import CardOffice, OpeningException, OpeningInterval
from .people import Account, Organisation, Person, Unit
from .pki import Certificate, CertificateAuthority, Crl, OcspResponse

__all__ = [
    "Account",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Block",
    "BureauBatch",
    "Card",
    "CardNumberSequence",
    "CardOffice",
    "CardOrder",
    "CardPhoto",
    "Certificate",
    "CertificateAuthority",
    "Crl",
    "FourEyesApproval",
    "IdentityCheck",
    "Letter",
    "LetterApproval",
    "Notice",
    "OcspResponse",
    "OpeningException",
    "OpeningInterval",
    "Organisation",
    "Person",
    "Unit",
]
