"""Audit entries in the words of the support desk: who, what, when, and the facts before and
after.

Only known keys are shown, each with a label and its value put in words; anything else in an
entry is left out. Entries never hold a code, but a page must not trust that: a key nobody
listed here is not rendered, and what is rendered is escaped by the templates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ekort.domain.id_documents import DocumentKind
from ekort.domain.timekeeping import STOCKHOLM
from ekort.store.models import AuditEntry, Person, Unit

from .labels import BLOCK_REASONS, CARD_STATES, CARD_TYPES, staff_name
from .templatetags.ekort_i18n import pick

ACTIONS: dict[str, Any] = {
    "register_person": _("Personen registrerades"),
    "set_manager": _("Närmaste chef ändrades"),
    "update_person": _("Personuppgifterna ändrades"),
    "order": _("Kortet beställdes"),
    "cancel": _("Beställningen återkallades"),
    "photograph": _("Kortinnehavaren fotograferades"),
    "produce": _("Kortet tillverkades"),
    "bureau_delivered": _("Kortbyrån levererade kortet"),
    "send": _("Kortet skickades"),
    "hand_out": _("Kortet lämnades ut"),
    "hand_out_registered": _("Utlämning registrerades (väntar på andra id-administratören)"),
    "hand_out_withdrawn": _("Registrerad utlämning drogs tillbaka"),
    "activation_registered": _("Aktivering registrerades (väntar på andra id-administratören)"),
    "activation_withdrawn": _("Registrerad aktivering drogs tillbaka"),
    "activate": _("Kortet aktiverades"),
    "order_pin_letter": _("Pin/puk-brev beställdes"),
    "resend_letter": _("Brevet skickades igen"),
    "approve_letter": _("Utskicket godkändes av en andra person"),
    "unlock_pin": _("Pin-koden låstes upp"),
    "block": _("Kortet spärrades"),
    "expire": _("Kortets giltighetstid gick ut"),
    "letter_rendered": _("Brevet skrevs ut som PDF"),
    "letter_printed": _("Brevet markerades som utskrivet"),
    "letter_withdrawn": _("Brevet togs ur utskriftskön när kortet spärrades"),
    "signature_certificate": _("Underskriftscertifikat hämtades"),
    "add_additional": _("Tilläggscertifikat lades till"),
    "swap_additional": _("Tilläggscertifikat byttes"),
    "remove_additional": _("Tilläggscertifikat togs bort"),
    "create_account": _("Kontot skapades"),
    "grant_role": _("En behörighet gavs"),
    "withdraw_role": _("En behörighet togs tillbaka"),
    "issue_api_token": _("En API-nyckel skapades"),
    "revoke_api_token": _("En API-nyckel återkallades"),
    "notice_sent": _("E-postavisering skickades"),
    "card_sign_in": _("Inloggning med kortet"),
    "card_sign_in_refused": _("Inloggning med kortet nekades"),
    "card_session_ended": _("Inloggning med kortet avslutades"),
}

OBJECTS: dict[str, Any] = {
    "person": _("Person"),
    "card": _("Kort"),
    "letter": _("Brev"),
    "notice": _("Avisering"),
    "account": _("Konto"),
    "api_token": _("API-nyckel"),
}

# The roles (Role) and the permissions of their own (access.Grant), as the pages name them.
ROLE_NAMES: dict[str, Any] = {
    "holder": _("Kortinnehavare"),
    "orderer": _("Beställare (närmaste chef)"),
    "id_admin": _("Id-administratör"),
    "support": _("Kundtjänst (e-tjänstekortsupport)"),
    "issuer_admin": _("Utfärdaradministratör (ansvarig utgivare)"),
    "security_officer": _("Säkerhetsansvarig"),
    "protected_addresses": _("Skyddade personuppgifter: läsa adressen"),
}

LETTER_KINDS: dict[str, Any] = {
    "code_envelope": _("Kodkuvert"),
    "cover_letter": _("Följebrev"),
    "pin_puk_letter": _("Pin/puk-brev"),
}

GENERATIONS: dict[str, Any] = {
    "legacy": _("Äldre kort (liggande)"),
    "portrait-2024": _("Nytt kort (stående, 2024)"),
    "": _("Inte tillverkat"),
}

NOTICE_KINDS: dict[str, Any] = {
    "card_sent": _("Kortet har skickats – aktivera det i tid"),
    "pickup_deadline": _("Sista dag att hämta ut kortet närmar sig"),
    "activation_deadline": _("Sista dag att aktivera kortet närmar sig"),
    "card_expiring": _("Kortet slutar snart gälla"),
    "certificate_expiring": _("Ett certifikat slutar snart gälla"),
    "card_blocked": _("Kortet har spärrats"),
}

RECIPIENTS: dict[str, Any] = {
    "holder": _("Kortinnehavaren"),
    "manager": _("Närmaste chef"),
}

DELIVERY_PATHS: dict[str, Any] = {
    "code_envelope": _("Kodkuvert, hämtas på utlämningsställe"),
    "home": _("Skickas hem, aktiveras på kortkontor"),
}


# The scheduled jobs that act under their own rule, as the trail names them (`job:<name>`).
JOBS: dict[str, Any] = {
    "not_collected": _("Nattlig körning: kort som inte hämtades ut i tid (R3)"),
    "not_activated": _("Nattlig körning: kort som inte aktiverades i tid (R8)"),
    "expired": _("Nattlig körning: kort vars giltighetstid gick ut"),
    "notices": _("Nattlig körning: e-postaviseringar"),
}
# The keys whose values name an account by its user name, as the trail does.
ACCOUNT_KEYS = frozenset({"user", "resent_by"})


def _words(table: Mapping[str, Any]) -> Callable[[Any], str]:
    return lambda value: str(table.get(str(value), value))


def _yes_no(value: Any) -> str:
    return str(_("Ja") if value else _("Nej"))


def _when(value: Any) -> str:
    """An ISO date or instant from the trail, as a Stockholm date (and time)."""
    text = str(value)
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


def _document(value: Any) -> str:
    try:
        kind = DocumentKind(str(value))
    except ValueError:
        return str(value)
    return pick(kind.label_sv, kind.label_en)


def _roles(value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(str(ROLE_NAMES.get(str(v), v)) for v in values) or "–"


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(LETTER_KINDS.get(str(v), v)) for v in value)
    return str(value)


# The keys an entry's before/after may show: label and how to put the value in words.
KNOWN_KEYS: dict[str, tuple[Any, Callable[[Any], str]]] = {
    "state": (_("Status"), _words(CARD_STATES)),
    "card_number": (_("Kortnummer"), _plain),
    "card_type": (_("Korttyp"), _words(CARD_TYPES)),
    "assurance_level": (_("Tillitsnivå"), _plain),
    "generation": (_("Utförande"), _words(GENERATIONS)),
    "sis_marked": (_("SIS-märkt"), _yes_no),
    "valid_until": (_("Giltigt till"), _when),
    "delivery_path": (_("Leveranssätt"), _words(DELIVERY_PATHS)),
    "sent_at": (_("Skickat"), _when),
    "pickup_deadline": (_("Hämtas ut senast"), _when),
    "activation_deadline": (_("Aktiveras senast"), _when),
    "activated_at": (_("Aktiverat/utlämnat"), _when),
    "photographed_at": (_("Fotograferat"), _when),
    "closed_at": (_("Avslutat"), _when),
    "reason": (_("Skäl"), _words(BLOCK_REASONS)),
    "requested_by": (_("Begärt av"), _plain),
    "document_kind": (_("Id-handling"), _document),
    "certificates_released": (_("Certifikat som började gälla"), _plain),
    "pin_set": (_("Säkerhetskod satt"), _yes_no),
    "letters": (_("Brev"), _plain),
    "bureau_batch_id": (_("Tillverkningsorder nr"), _plain),
    "photo_deleted": (_("Fotot raderat"), _yes_no),
    "letter_id": (_("Brev nr"), _plain),
    "resent_letter_id": (_("Skickar igen brev nr"), _plain),
    "kind": (_("Brevtyp"), _words(LETTER_KINDS)),
    "card_id": (_("Kort nr"), _plain),
    "printed_at": (_("Utskrivet"), _when),
    "carries_puk": (_("Innehåller puk-kod"), _yes_no),
    "awaits_approval": (_("Väntar på godkännande"), _yes_no),
    "resent_by": (_("Skickat igen av"), _plain),
    "identity": (_("Personnummer"), _plain),  # stored masked (register_person)
    "hsa_id": (_("HSA-id"), _plain),
    "given_name": (_("Förnamn"), _plain),
    "family_name": (_("Efternamn"), _plain),
    "email": (_("E-postadress"), _plain),
    # Only that the address changed: the trail never holds one (people_register._shown).
    "address": (_("Folkbokföringsadress"), _words({"changed": _("Ändrad")})),
    "unit_id": (_("Enhet"), _plain),  # named by `_named`
    "employment_ends": (_("Sista anställningsdag"), _when),
    "manager_id": (_("Närmaste chef"), _plain),  # named by `_named`
    "protected_identity": (_("Skyddade personuppgifter"), _yes_no),
    "certificate_serial": (_("Certifikatets serienummer"), _plain),
    "user": (_("Konto"), _plain),
    "role": (_("Behörighet"), _roles),
    "roles": (_("Kontots behörigheter"), _roles),
    "superuser": (_("Superanvändare (Django-admin)"), _yes_no),
    "expires_at": (_("Gäller till"), _when),
    "notice": (_("Avisering"), _words(NOTICE_KINDS)),
    "recipient": (_("Till"), _words(RECIPIENTS)),
    "event_on": (_("Gäller dagen"), _when),
    "days_before": (_("Dagar före"), _plain),
}


@dataclass(frozen=True)
class Fact:
    label: str
    before: str  # "" when the entry has no value before
    after: str


@dataclass(frozen=True)
class HistoryRow:
    entry: AuditEntry
    what: str
    about: str
    facts: list[Fact]
    who: str  # the member of staff by name, or the job
    account: str  # the actor's user name when an account acted, else ""

    @property
    def at(self) -> datetime:
        return self.entry.at


# Names of what the trail holds by user name or number, by key: `_named` looks them up.
Named = Mapping[str, Mapping[str, str]]


def _value(key: str, facts: Mapping[str, Any], named: Named) -> str:
    if key not in facts or facts[key] is None:
        return ""
    if key in named:
        return named[key].get(str(facts[key]), str(facts[key]))
    return KNOWN_KEYS[key][1](facts[key])


def _sides(entry: AuditEntry) -> tuple[dict[str, Any], dict[str, Any]]:
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    return before, after


def facts_of(entry: AuditEntry, named: Named | None = None) -> list[Fact]:
    before, after = _sides(entry)
    named = named or {}
    rows = []
    for key, (label, _words_of) in KNOWN_KEYS.items():
        if key in before or key in after:
            old, new = _value(key, before, named), _value(key, after, named)
            if old or new:
                rows.append(Fact(str(label), old if old != new else "", new))
    return rows


def _not_an_account(actor: str) -> str:
    kind, _colon, name = actor.partition(":")
    if kind == "job":
        known = JOBS.get(name)
        if known is not None:
            return str(known)
        # The people register's runs are named after their source (`ekort people`):
        # people-import:FILE, people-sync:DIRECTORY.
        source = (
            name.split(":", 1)[1] if name.startswith(("people-import:", "people-sync:")) else name
        )
        return gettext("Inläsning från personregistret (%(source)s)") % {"source": source}
    if kind == "console":
        return gettext("Kommandot ekort på servern (%(login)s)") % {"login": name}
    return actor  # an account since removed: its user name is all the trail knows


def staff_names(user_names: Iterable[str]) -> dict[str, str]:
    """The accounts the trail names (by user name), as the pages name their staff
    (`labels.staff_name`): one query for a whole page of entries."""
    wanted = {name for name in user_names if name}
    users = (
        get_user_model()
        .objects.filter(username__in=wanted)
        .select_related("account__person", "account__office")
    )
    return {str(user.get_username()): staff_name(user) for user in users}


def _named(entries: list[AuditEntry]) -> dict[str, dict[str, str]]:
    """The accounts, units and managers a page of entries names by user name or number, in
    words: one query for each kind, however many entries."""

    def mentioned(*keys: str) -> set[str]:
        return {
            str(side[key])
            for entry in entries
            for side in _sides(entry)
            for key in keys
            if side.get(key)
        }

    accounts = staff_names(mentioned(*ACCOUNT_KEYS) | {entry.actor for entry in entries})
    units = Unit.objects.filter(pk__in=_numbers(mentioned("unit_id"))).values_list("pk", "name")
    managers = Person.objects.filter(pk__in=_numbers(mentioned("manager_id"))).values_list(
        "pk", "given_name", "family_name"
    )
    return {
        "actor": accounts,
        **dict.fromkeys(ACCOUNT_KEYS, accounts),
        "unit_id": {str(pk): name for pk, name in units},
        "manager_id": {str(pk): f"{given} {family}" for pk, given, family in managers},
    }


def _numbers(values: Iterable[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()]


def history_rows(entries: list[AuditEntry]) -> list[HistoryRow]:
    named = _named(entries)
    names = named["actor"]
    return [
        HistoryRow(
            entry=entry,
            what=str(ACTIONS.get(entry.action, entry.action)),
            about=f"{OBJECTS.get(entry.object_type, entry.object_type)} {entry.object_id}",
            facts=facts_of(entry, named),
            who=names.get(entry.actor) or _not_an_account(entry.actor),
            account=entry.actor if entry.actor in names else "",
        )
        for entry in entries
    ]
