"""Every page a role can open, in Swedish and in English, speaks words: no code name, enum value,
policy period name, user name, raw timestamp or Python repr in the visible text (issue 15,
point 1).

The pages are those of the role x page matrix (page_walk: every URL of the resolver, its ids
filled in from a world where each role has something to look at); each one that answers 200
with HTML is read as a person would: the text nodes only, never tags, attribute values,
scripts or styles. The code words are collected from the code itself (every string value of an
enum in the domain and the store, the calendar's period names, the world's user names), so
that a value added later is checked without anyone remembering to list it.

A user name is the one thing a page may show on purpose: the security officer manages
accounts, and their pages name an account by its user name beside the person's full name,
marked `translate="no"` (HTML's "this is an identifier, not words").
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from ekort.domain.vocabulary import Role
from ekort.services import cards, print_queue
from ekort.services.policy import current_calendar
from ekort.store.models import Account, AuditEntry, CardOffice
from ekort.web.history_words import history_rows
from tests import factories
from tests import instants as t
from tests.integration import journeys
from tests.web import page_walk
from tests.web.page_walk import ROLES, Objects, every_route, expand, fill

objects = page_walk.objects  # the world, a fixture

LANGUAGES = ("sv", "en")
# Pages walked with a query too: a state the plain URL does not show.
WITH_QUERIES = {
    "rules": ("?at=2024-01-24", "?at=inte-ett-datum", "?at=2024-02-30"),
    "portal:security-audit": ("?handling=hand_out",),
}
# The people behind the world's staff accounts that belong to no person of the register; the
# user names are made unlike any word, so that finding one in a page is never a coincidence.
NAMES = {
    "idadmin": ("Ida", "Lindqvist"),
    "idadmin2": ("Jonas", "Berglund"),
    "support": ("Sara", "Stödberg"),
    "utgivare": ("Ulla", "Utfärdsson"),
    "sakerhet": ("Sven", "Säkersson"),
}
USER_NAME = "{}_konto"

# Code values that are ordinary words of the language they appear in: an English page may say
# "photo" or "order", a Swedish page "person" or "sent". Values with "_" or "-" never are.
ALSO_WORDS = {
    "sv": {"person", "personnummer", "sent", "kort"},
}

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
REPRS = re.compile(r"\bNone\b|\b(?:True|False)\b|<\w[\w.]*(?::| object at)|object at 0x")
MONTHS = {
    # A date written with the other language's month or weekday names.
    "sv": re.compile(
        r"\b(?:January|February|March|June|July|August|October|December|Monday|Tuesday"
        r"|Wednesday|Thursday|Friday|Saturday|Sunday|[ap]\.m\.)\b"
    ),
    "en": re.compile(
        r"\b(?:januari|februari|mars|maj|juni|juli|augusti|oktober|måndag|tisdag|onsdag"
        r"|torsdag|fredag|lördag|söndag)\b",
        re.IGNORECASE,
    ),
}


def _enum_values() -> set[str]:
    """Every string value of an enum (StrEnum, TextChoices) in the domain and the store."""
    values: set[str] = set()
    for package in ("ekort.domain", "ekort.store"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations" in info.name:
                continue
            module = importlib.import_module(info.name)
            for thing in vars(module).values():
                if isinstance(thing, type) and issubclass(thing, enum.Enum):
                    values |= {m.value for m in thing if isinstance(m.value, str)}
    return {v for v in values if re.search(r"[a-z]", v)}


@dataclass
class Words:
    """The code words one page must not show, by kind."""

    codes: set[str]  # with "_" or "-": code in any language
    plain: set[str]  # one English word: code on a Swedish page
    user_names: set[str]

    def found(self, text: str, language: str, *, names_allowed: bool) -> Iterator[str]:
        for word in self.codes | (self.plain - ALSO_WORDS["sv"] if language == "sv" else set()):
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
                yield word
        if not names_allowed:
            for name in self.user_names:
                if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text):
                    yield f"user name {name}"
        for pattern in (TIMESTAMP, REPRS, MONTHS[language]):
            yield from (f"{m.group(0)!r}" for m in pattern.finditer(text))


def code_words() -> Words:
    values = _enum_values() | {p.name for p in current_calendar().periods}
    codes = {v for v in values if "_" in v or "-" in v}
    plain = {v for v in values - codes if len(v) > 1}
    return Words(codes, plain, set(User.objects.values_list("username", flat=True)))


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class _Element:
    tag: str
    hidden: bool  # script, style: not text
    identifier: bool  # translate="no": a user name may stand here


@dataclass
class Text(HTMLParser):
    """The text nodes of a page, each with whether it stands in a translate="no" element."""

    nodes: list[tuple[str, bool]] = field(default_factory=list)
    stack: list[_Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        parent = self.stack[-1] if self.stack else _Element("", False, False)
        self.stack.append(
            _Element(
                tag,
                parent.hidden or tag in {"script", "style"},
                parent.identifier or ("translate", "no") in attrs,
            )
        )

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        where = self.stack[-1] if self.stack else _Element("", False, False)
        if data.strip() and not where.hidden:
            self.nodes.append((" ".join(data.split()), where.identifier))


def problems_in(html: str, words: Words, language: str) -> set[str]:
    parser = Text()
    parser.feed(html)
    parser.close()
    found = set()
    for text, identifier in parser.nodes:
        for word in words.found(text, language, names_allowed=identifier):
            found.add(f"{word} in {text[:120]!r}")
    return found


@pytest.fixture(autouse=True)
def named_staff(monkeypatch):
    """The world's staff accounts with user names unlike any word, and a name for those that
    belong to no person of the register (as an account made for a member of staff has)."""
    make = factories.staff

    def staff(username, *roles, person=None):
        user = make(USER_NAME.format(username), *roles, person=person)
        if username in NAMES:
            user.first_name, user.last_name = NAMES[username]
            user.save(update_fields=["first_name", "last_name"])
        return user

    monkeypatch.setattr(factories, "staff", staff)


OFFICE = "Kortkontoret Gävle sjukhus"


@dataclass
class More:
    """What the plain world does not show: a card checked against a driving licence, whose
    PIN/PUK letter was sent again by one member of staff and approved by another (E14), and a
    reserve card whose activation one ID administrator registered for a second to approve
    (E11)."""

    olles_photo_card: object
    gretas_card: object


@pytest.fixture
def more(w, objects: Objects) -> More:
    office = CardOffice.objects.create(
        name=OFFICE, town="Gävle", street_address="Lasarettsvägen 1", postal_code="80187"
    )
    Account.objects.filter(user__in=[w.id_admin, w.id_admin_2]).update(office=office)
    bo = User.objects.get(username=USER_NAME.format("bo"))
    bos_world = dataclasses.replace(w, orderer=bo)
    licence = cards.DocumentShown(
        kind="driving_licence", number="DL123456", expires_on=date(2031, 5, 1)
    )
    sent = journeys.sent(bos_world, "photo", t.NEW_PROCESS, t.NEW_PROCESS, person=objects.olle)
    activation = cards.Activation(licence, journeys.PIN)
    card = cards.activate(
        actor=w.id_admin, now=t.sthlm(2024, 2, 1, 13), activations={sent.pk: activation}
    ).one()
    letter = cards.order_pin_letter(
        actor=w.support, card_ids=[card.pk], now=t.sthlm(2024, 2, 2, 9)
    ).made[card.pk]
    print_queue.mark_printed(actor=w.issuer, letter_ids=[letter.pk], now=t.sthlm(2024, 2, 2, 15))
    again = print_queue.resend_letter(
        actor=w.support, letter_id=letter.pk, now=t.sthlm(2024, 2, 5, 9)
    )
    print_queue.approve_letter(actor=w.issuer, letter_id=again.pk, now=t.sthlm(2024, 2, 5, 10))
    greta = factories.person(given="Greta", family="Gran", manager=bo.account.person, unit=w.unit)
    gretas = journeys.sent(bos_world, "reserve", t.NEW_PROCESS, t.NEW_PROCESS, person=greta)
    cards.activate(
        actor=w.id_admin,
        now=t.sthlm(2024, 2, 6, 9),
        activations={gretas.pk: cards.Activation(journeys.PASSPORT)},
    ).one()
    return More(card, gretas)


def pages(objects: Objects, more: More, role: str) -> Iterator[str]:
    """The URL of every GET page of the walk, some with a query, and the pages of the
    cards `more` adds for the roles that open them."""
    for r in every_route():
        if r.route.startswith("api/"):
            continue
        url = expand(r.route, fill(objects, role, r.name, r.route))
        for query in ("", *WITH_QUERIES.get(r.name, ())):
            yield url + query
    for name in ("portal:support-card", "portal:office-card"):
        for card in (more.olles_photo_card, more.gretas_card):
            yield reverse(name, args=[card.pk])  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_speaks_words(client, objects, more, settings, role, language):
    user = objects.accounts[role]
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    words = code_words()
    read, wrong = 0, []
    for url in pages(objects, more, role):
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        assert f'<html lang="{language}"' in html, url
        read += 1
        wrong.extend(f"{url}: {problem}" for problem in sorted(problems_in(html, words, language)))
    assert read >= 3, f"{role} read only {read} pages"
    assert not wrong, f"{role}, {language}:\n" + "\n".join(wrong)


def test_the_check_finds_a_code_word_a_name_and_a_timestamp(db):
    """The check itself: it catches what it is for, in text only, and lets an account's user
    name stand where the page marks it as an identifier."""
    words = Words({"hand_out", "legacy-sis"}, {"photo"}, {"idadmin_konto"})
    page = (
        '<html><head><title>Regler</title><style>.hand_out {}</style></head><body data-x="photo">'
        "<p>Steg hand_out, period legacy-sis</p><p>Fotokort: photo</p>"
        "<script>var photo = 1;</script><p>Registrerad av idadmin_konto 2024-02-06T10:00</p>"
        '<p>Konto <span translate="no">idadmin_konto</span></p><p>None</p></body></html>'
    )
    found = problems_in(page, words, "sv")
    kinds = {p.split(" in ")[0] for p in found}
    assert kinds == {
        "hand_out",
        "legacy-sis",
        "photo",
        "user name idadmin_konto",
        "'2024-02-06T10:00'",
        "'None'",
    }
    assert not any("Konto" in p for p in found)  # the marked identifier is allowed
    # On an English page "photo" is a word.
    assert {p.split(" in ")[0] for p in problems_in(page, words, "en")} == kinds - {"photo"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_refusals_speak_words(client, w, objects, more, settings, language):
    """A refusal names the card type in words (E8; the lifecycle's E1 names the state and the
    actions in words too: tests/unit/test_lifecycle.py), and a holder reads the sentence
    without the rule's ID."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    words = code_words()
    refused = []
    client.force_login(w.orderer)  # Erik already holds a reserve card (E8)
    url = reverse("portal:order", args=[objects.erik.pk])
    refused.append(client.post(url, {"card_type": "reserve", "note": ""}))
    client.force_login(w.holder)  # no new PIN/PUK letter for a reserve card (R16)
    url = reverse("portal:pin", args=[objects.eriks_card.pk])
    refused.append(client.post(url))
    for response in refused:
        assert response.status_code == 409, response.content.decode()[-2000:]
        html = response.content.decode()
        assert not problems_in(html, words, language)
    sentences = [r.content.decode() for r in refused]
    already = "redan ett reservkort" if language == "sv" else "already has a reserve card"
    assert already in sentences[0]
    assert "regel R16" not in sentences[1] and "rule R16" not in sentences[1]


# --- People by name (issue 15, point 2) ------------------------------------------------------


def test_the_second_administrator_sees_who_registered_the_activation(client, w, more):
    """E11: the ID administrator who approves sees the one who registered, by name and card
    office, on the card and in the list of registrations waiting for approval."""
    client.force_login(w.id_admin_2)
    registered = f"Ida Lindqvist ({OFFICE})"
    card = client.get(reverse("portal:office-card", args=[more.gretas_card.pk])).content.decode()
    assert registered in card
    assert "Beställt av Bo Direktör." in card
    waiting = client.get(reverse("portal:office-find")).content.decode()
    assert registered in waiting


def test_support_sees_who_sent_a_letter_again_and_who_approved_it(client, w, more):
    client.force_login(w.support)
    page = client.get(reverse("portal:support-card", args=[more.olles_photo_card.pk]))
    text = page.content.decode()
    assert "Skickat igen av Sara Stödberg; godkänt av Ulla Utfärdsson" in text
    assert "Svenskt körkort" in text  # the identity document, in words


def test_a_history_names_staff_by_name_and_jobs_by_what_they_do(db, w):
    entries = [
        AuditEntry(actor=w.id_admin.username, action="activate", object_type="card", object_id=1),
        AuditEntry(actor="job:not_collected", action="block", object_type="card", object_id=1),
        AuditEntry(actor="console:root", action="grant_role", object_type="account", object_id=1),
        AuditEntry(
            actor=w.security_officer.username,
            action="grant_role",
            object_type="account",
            object_id=w.holder.pk,
            after={"user": w.holder.username, "role": Role.HOLDER.value},
        ),
    ]
    rows = history_rows(entries)
    assert [r.who for r in rows] == [
        "Ida Lindqvist",
        "Nattlig körning: kort som inte hämtades ut i tid (R3)",
        "Kommandot ekort på servern (root)",
        "Sven Säkersson",
    ]
    assert [r.account for r in rows] == [w.id_admin.username, "", "", w.security_officer.username]
    assert ("Konto", "Erik Eriksson") in [(f.label, f.after) for f in rows[3].facts]


def test_the_security_officer_sees_names_with_the_user_names_beside_them(client, w):
    client.force_login(w.security_officer)
    page = client.get(reverse("portal:security-accounts")).content.decode()
    assert "Ida Lindqvist" in page and "Erik Eriksson" in page
    assert f'<span class="hint" translate="no">{w.id_admin.username}</span>' in page


def test_an_empty_sign_in_form_gets_a_message(client, settings, db):
    for language, sentence in (
        ("sv", "Skriv ditt användarnamn och ditt lösenord."),
        ("en", "Enter your user name and your password."),
    ):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.post("/logga-in/", {"username": "", "password": ""})
        assert response.status_code == 200
        assert sentence in response.content.decode()
