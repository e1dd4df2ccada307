"""What every page's template gets: the clock (for the simulated-time banner), the
navigation for the signed-in account's roles, and the region and support desk that the header
and footer name. One context processor, registered in settings as `clock_context`."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext

from ekort.domain.access import SEE_EXPIRING
from ekort.domain.vocabulary import Role
from ekort.letters.render import SUPPORT_EMAIL, SUPPORT_PHONE
from ekort.services import clock
from ekort.services.roles import roles_of


def navigation(request: HttpRequest) -> list[tuple[str, str]]:
    """(label, url) per section the account may open, in the order of the menu."""
    roles = roles_of(getattr(request, "user", None))
    items: list[tuple[str, str]] = []
    if Role.HOLDER in roles:
        items.append((gettext("Mina sidor"), reverse("portal:mine")))
    if Role.ORDERER in roles:
        items.append((gettext("Mina medarbetare"), reverse("portal:staff")))
    if Role.ID_ADMIN in roles:
        items.append((gettext("Id-administration"), reverse("portal:office-find")))
    if roles & {Role.SUPPORT, Role.ISSUER_ADMIN}:
        items.append((gettext("Kundtjänst"), reverse("portal:support-find")))
        items.append((gettext("Översikt"), reverse("portal:support-overview")))
    if roles & SEE_EXPIRING.roles.keys():
        items.append((gettext("Kort som går ut"), reverse("portal:renewals")))
    if Role.ISSUER_ADMIN in roles:
        items.append((gettext("Utskriftskö"), reverse("portal:issuer-queue")))
        items.append((gettext("Utfärdare och spärrlistor"), reverse("portal:issuer-authorities")))
        items.append((gettext("API-nycklar"), reverse("portal:issuer-tokens")))
    if Role.SECURITY_OFFICER in roles:
        items.append((gettext("Behörigheter"), reverse("portal:security-accounts")))
        items.append((gettext("Granskning"), reverse("portal:security-audit")))
    items.append((gettext("Kortkontor"), reverse("portal:offices")))
    items.append((gettext("Regler"), reverse("rules")))
    return items


def clock_context(request: HttpRequest) -> dict[str, object]:
    return {
        "ekort_now": clock.now(),
        "ekort_simulated": clock.is_simulated(),
        "ekort_nav": navigation(request),
        # Staff read a refusal with its rule's ID beside the sentence; a holder, the sentence.
        "ekort_staff": bool(roles_of(getattr(request, "user", None)) - {Role.HOLDER}),
        # Whose service this is and whom to call, in the header and footer of every page: the
        # region named in settings (EKORT_CA_REGION) and the support desk (R18).
        "ekort_region": settings.EKORT_CA["region"],
        "ekort_support": {"email": SUPPORT_EMAIL, "phone": SUPPORT_PHONE},
    }
