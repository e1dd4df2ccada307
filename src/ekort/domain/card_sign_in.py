"""Signing in with the card (E16): which certificate a member of staff may sign in with, and
with which of their roles.

The TLS-terminating proxy (nginx) asks the browser for a client certificate and verifies it
against ekort's CA chain; ekort then checks it once more against its own records
(`services.card_sign_in`) and asks `decide_card_sign_in` with what it found. Only an
authentication certificate (the SITHS eID, R11) that ekort issued, on an active card, neither
on hold nor revoked, valid now, naming the card's holder by HSA-id in the subject's
serialNumber, and a holder with one active account, signs in. The certificate's assurance level
limits the roles of the session (`roles_at`): the ID administrator's and the issuer's pages
(and every other staff role's) need assurance level 3; a holder's own pages take level 2 too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import Decision, decides
from .lifecycle import CardState
from .timekeeping import require_aware
from .vocabulary import AssuranceLevel, Role

AUTHENTICATION = "auth"  # the certificate profile a card signs in with (Certificate.Profile)

# The lowest assurance level of a sign-in certificate that gives each role. A role not listed
# (a role added later) needs level 3.
MINIMUM_LEVEL: Mapping[Role, AssuranceLevel] = {
    Role.HOLDER: AssuranceLevel.LOA2,
    Role.ORDERER: AssuranceLevel.LOA3,
    Role.ID_ADMIN: AssuranceLevel.LOA3,
    Role.SUPPORT: AssuranceLevel.LOA3,
    Role.ISSUER_ADMIN: AssuranceLevel.LOA3,
}


class Refusal(StrEnum):
    """Why a certificate does not sign in; each has its sentences in `SENTENCES`."""

    NO_CERTIFICATE = "no_certificate"
    CHANGED = "changed"  # a signed-in session's request came with another certificate
    FOREIGN = "foreign"  # not a certificate ekort issued from one of its issuing CAs
    UNVERIFIED = "unverified"  # ekort's own, but the proxy did not verify it
    NOT_AUTHENTICATION = "not_authentication"  # a signature or additional certificate
    BLOCKED = "blocked"
    REVOKED = "revoked"
    ON_HOLD = "on_hold"  # the card is not activated yet
    CARD_NOT_ACTIVE = "card_not_active"  # expired or cancelled
    OUTSIDE_VALIDITY = "outside_validity"
    WRONG_HOLDER = "wrong_holder"
    NO_ACCOUNT = "no_account"
    SEVERAL_ACCOUNTS = "several_accounts"
    NO_ROLE = "no_role"
    LEVEL_TOO_LOW = "level_too_low"


SENTENCES: Mapping[Refusal, tuple[str, str]] = {
    Refusal.NO_CERTIFICATE: (
        "Webbläsaren skickade inget certifikat. Sätt e-tjänstekortet i kortläsaren, välj "
        "kortets certifikat när webbläsaren frågar och försök igen.",
        "The browser sent no certificate. Put your card in the card reader, choose the card's "
        "certificate when the browser asks, and try again.",
    ),
    Refusal.CHANGED: (
        "Webbläsaren visade ett annat certifikat än det du loggade in med. Logga in igen.",
        "The browser presented another certificate than the one you signed in with. Sign in again.",
    ),
    Refusal.FOREIGN: (
        "Certifikatet är inte utfärdat av ekort. Logga in med det e-tjänstekort som regionen "
        "har gett dig.",
        "The certificate was not issued by ekort. Sign in with the card the region issued you.",
    ),
    Refusal.UNVERIFIED: (
        "Certifikatet kunde inte kontrolleras mot ekorts utfärdare. Kontakta "
        "e-tjänstekortsupporten.",
        "The certificate could not be verified against ekort's issuers. Contact the card "
        "support desk.",
    ),
    Refusal.NOT_AUTHENTICATION: (
        "Det är inte kortets legitimeringscertifikat. Välj legitimeringscertifikatet när "
        "webbläsaren frågar.",
        "This is not the card's authentication certificate. Choose the authentication "
        "certificate when the browser asks.",
    ),
    Refusal.BLOCKED: (
        "Kortet är spärrat och kan inte användas för att logga in.",
        "The card is blocked and cannot be used to sign in.",
    ),
    Refusal.REVOKED: (
        "Certifikatet är återkallat och kan inte användas för att logga in.",
        "The certificate is revoked and cannot be used to sign in.",
    ),
    Refusal.ON_HOLD: (
        "Kortet är inte aktiverat än. En id-administratör aktiverar det på ett kortkontor; "
        "tills dess kan det inte användas.",
        "The card is not activated yet. An ID administrator activates it at a card office; "
        "until then it cannot be used.",
    ),
    Refusal.CARD_NOT_ACTIVE: (
        "Kortet är inte längre giltigt.",
        "The card is no longer valid.",
    ),
    Refusal.OUTSIDE_VALIDITY: (
        "Certifikatet är inte giltigt nu (dess giltighetstid har gått ut eller inte börjat).",
        "The certificate is not valid now (its validity has ended or not begun).",
    ),
    Refusal.WRONG_HOLDER: (
        "Certifikatet anger inte kortinnehavarens HSA-id.",
        "The certificate does not name the card holder's HSA-id.",
    ),
    Refusal.NO_ACCOUNT: (
        "Kortets innehavare har inget aktivt konto i ekort.",
        "The card's holder has no active account in ekort.",
    ),
    Refusal.SEVERAL_ACCOUNTS: (
        "Kortets innehavare har flera konton i ekort; kontakta e-tjänstekortsupporten.",
        "The card's holder has several accounts in ekort; contact the card support desk.",
    ),
    Refusal.NO_ROLE: (
        "Kontot har ingen behörighet i ekort.",
        "The account holds no role in ekort.",
    ),
    Refusal.LEVEL_TOO_LOW: (
        "Dina behörigheter kräver ett kort på tillitsnivå 3; det här kortet har tillitsnivå 2.",
        "Your roles need a card at assurance level 3; this card is at assurance level 2.",
    ),
}


@dataclass(frozen=True)
class PresentedCertificate:
    """What ekort found for the certificate a browser presented through the proxy."""

    verified_by_proxy: bool  # the proxy verified it against ekort's CA chain
    ours: bool  # byte for byte a certificate ekort issued, from one of its issuing CAs
    profile: str = ""  # "auth", "signature" or "additional"
    status: str = ""  # "valid", "on_hold" or "revoked"
    card_state: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    level: AssuranceLevel | None = None  # the issuing CA's assurance level
    names_holder: bool = False  # the subject's serialNumber is the card holder's HSA-id
    accounts: int = 0  # the holder's active accounts
    roles: frozenset[Role] = frozenset()  # the roles of that account, if one
    # For a request of a session signed in with the card: the certificate and account it signed
    # in with (always true for a sign-in itself).
    same_as_session: bool = True


def minimum_level(role: Role) -> AssuranceLevel:
    return MINIMUM_LEVEL.get(role, AssuranceLevel.LOA3)


def roles_at(level: AssuranceLevel | None, held: frozenset[Role]) -> frozenset[Role]:
    """The roles of `held` that a sign-in certificate of assurance `level` gives."""
    if level is None:
        return frozenset()
    return frozenset(role for role in held if int(level) >= int(minimum_level(role)))


_NOT_YET_USABLE = {
    CardState.PRODUCED.value,
    CardState.AWAITING_PICKUP.value,
    CardState.SENT_INACTIVE.value,
}


def refusal_of(presented: PresentedCertificate | None, now: datetime) -> Refusal | None:
    """Why `presented` does not sign in at `now`, or None when it does (see the module)."""
    require_aware(now)
    if presented is None:
        return Refusal.NO_CERTIFICATE
    if not presented.same_as_session:
        return Refusal.CHANGED
    if not presented.ours:
        return Refusal.FOREIGN
    if presented.profile != AUTHENTICATION:
        return Refusal.NOT_AUTHENTICATION
    if presented.card_state == CardState.BLOCKED.value:
        return Refusal.BLOCKED
    if presented.status == "revoked":
        return Refusal.REVOKED
    if presented.status == "on_hold" or presented.card_state in _NOT_YET_USABLE:
        return Refusal.ON_HOLD
    if presented.card_state != CardState.ACTIVE.value or presented.status != "valid":
        return Refusal.CARD_NOT_ACTIVE
    starts, ends = presented.not_before, presented.not_after
    if starts is None or ends is None or not starts <= now <= ends:
        return Refusal.OUTSIDE_VALIDITY
    # One of ekort's own, byte for byte, and usable, but the proxy could not verify it against
    # the chain it was given (an outdated client-ca.pem after a CA renewal, say).
    if not presented.verified_by_proxy:
        return Refusal.UNVERIFIED
    if not presented.names_holder:
        return Refusal.WRONG_HOLDER
    if presented.accounts == 0:
        return Refusal.NO_ACCOUNT
    if presented.accounts > 1:
        return Refusal.SEVERAL_ACCOUNTS
    if not presented.roles:
        return Refusal.NO_ROLE
    if not roles_at(presented.level, presented.roles):
        return Refusal.LEVEL_TOO_LOW
    return None


@decides("E16")
def decide_card_sign_in(presented: PresentedCertificate | None, now: datetime) -> Decision:
    """May the holder of `presented` sign in with it at `now` (E16)? The reason of a refusal
    (`refusal_of`) in plain sentences; allowed, the level it signs in at."""
    refusal = refusal_of(presented, now)
    if refusal is not None:
        sv, en = SENTENCES[refusal]
        return Decision.refuse("E16", sv, en)
    level = presented.level.value if presented is not None and presented.level else "?"
    return Decision.allow(
        "E16",
        f"Inloggad med e-tjänstekortet (tillitsnivå {level}).",
        f"Signed in with the card (assurance level {level}).",
    )
