"""The REST API (/api/v1/): tokens, a whole card journey, refusals, who sees what, hostile input
and the OpenAPI document; on the configured database.

A card that exists but is not the caller's is refused with E10 (403) by reads and actions
alike; an id that does not exist is 404.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from openapi_spec_validator import validate

from ekort.domain.access import Grant
from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.services import audit, clock, tokens
from ekort.store.models import ApiToken, AuditEntry, Card
from tests import factories
from tests import instants as t
from tests.integration.journeys import JPEG, PASSPORT, PIN

pytestmark = pytest.mark.django_db

API = "/api/v1"
DOCUMENT = {"kind": PASSPORT.kind, "number": PASSPORT.number, "expires_on": "2030-01-01"}


@pytest.fixture
def at(settings):
    """Run the API's clock from an instant (the API reads `clock.now()`, as the pages do)."""

    def move_to(instant: datetime) -> None:
        settings.EKORT_SIMULATED_NOW = instant.isoformat()
        clock.reset()

    move_to(t.NEW_PROCESS)
    yield move_to
    clock.reset()


class Caller:
    """The Django test client with one account's bearer token; keeps every response body."""

    seen: list[str] = []

    def __init__(self, client: Any, token: str | None) -> None:
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str, **query: Any) -> Any:
        response = self.client.get(API + path, query, **self.headers)
        Caller.seen.append(response.content.decode())
        return response

    def post(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body or {})
        response = self.client.post(
            API + path, data=data, content_type="application/json", **self.headers
        )
        Caller.seen.append(response.content.decode())
        return response


@pytest.fixture
def as_(client, world, at):
    Caller.seen = []

    def caller(user: Any) -> Caller:
        return Caller(client, tokens.issue_token(actor=user, name="test", now=t.NEW_PROCESS))

    return caller


def _refusal(response: Any, status: int, rule: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["rule"] == rule and body["sv"] and body["en"]


def _order(as_: Any, w: Any, card_type: str = "photo", person_id: int | None = None) -> int:
    response = as_(w.orderer).post(
        "/orders", {"person_id": person_id or w.employee.pk, "card_type": card_type}
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def _photo() -> dict[str, str]:
    return {"photo_base64": base64.b64encode(JPEG).decode()}


def _sent(as_: Any, w: Any, card_type: str = "photo") -> int:
    card_id = _order(as_, w, card_type)
    if card_type == "photo":
        assert as_(w.id_admin).post(f"/cards/{card_id}/photograph", _photo()).status_code == 200
    assert as_(w.issuer).post(f"/cards/{card_id}/produce").status_code == 200
    assert as_(w.issuer).post(f"/cards/{card_id}/send").status_code == 200
    return card_id


# --- tokens ---


def test_no_bad_or_revoked_token_is_401(client, world, at):
    token = tokens.issue_token(actor=world.support, name="crm", now=t.NEW_PROCESS)
    good = Caller(client, token)
    assert good.get("/letters").status_code == 403  # authenticated; support is not issuer
    assert ApiToken.objects.get().last_used_at is not None

    for caller in (
        Caller(client, None),
        Caller(client, "ekort_not-a-token"),
        Caller(client, token + "x"),
        Caller(client, token.upper()),
    ):
        response = caller.get(f"/cards/{1}")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    basic = client.get(f"{API}/blocks", HTTP_AUTHORIZATION=f"Basic {token}")
    assert basic.status_code == 401

    record = ApiToken.objects.get()
    tokens.revoke_token(actor=world.support, token_id=record.pk, now=t.NEW_PROCESS)
    assert good.get("/blocks").status_code == 401


def test_tokens_are_stored_as_digests_and_inactive_users_are_out(client, world, at):
    token = tokens.issue_token(actor=world.id_admin, name="kiosk", now=t.NEW_PROCESS)
    assert token.startswith("ekort_") and len(token) > 40
    record = ApiToken.objects.get()
    assert record.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(list(AuditEntry.objects.values("before", "after", "reason")))
    assert tokens.authenticate(token, now=t.NEW_PROCESS) == world.id_admin
    world.id_admin.is_active = False
    world.id_admin.save()
    assert tokens.authenticate(token, now=t.NEW_PROCESS) is None
    assert Caller(client, token).get("/blocks").status_code == 401


def test_only_an_issuer_admin_issues_tokens_for_others(world):
    other = tokens.issue_token(
        actor=world.issuer, user_id=world.holder.pk, name="for erik", now=t.NEW_PROCESS
    )
    assert tokens.authenticate(other, now=t.NEW_PROCESS) == world.holder
    with pytest.raises(Refused) as refused:
        tokens.issue_token(
            actor=world.holder, user_id=world.issuer.pk, name="steal", now=t.NEW_PROCESS
        )
    assert refused.value.rule == "E10"


def test_a_token_for_an_account_that_is_no_longer_active_is_refused_and_none_made(world):
    world.holder.is_active = False
    world.holder.save()
    with pytest.raises(NotFound, match=f"no active account with id {world.holder.pk}"):
        tokens.issue_token(
            actor=world.issuer, user_id=world.holder.pk, name="for erik", now=t.NEW_PROCESS
        )
    assert not ApiToken.objects.exists()
    assert not AuditEntry.objects.filter(action="issue_api_token").exists()


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        (None, "must be text"),
        (42, "must be text"),
        ("  \t ", "1-100 printable characters"),
        ("x" * 101, "1-100 printable characters"),
        ("crm\x07", "1-100 printable characters"),
    ],
)
def test_a_token_needs_a_name_of_1_to_100_printable_characters(world, name, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        tokens.issue_token(actor=world.support, name=name, now=t.NEW_PROCESS)
    assert not ApiToken.objects.exists()
    tokens.issue_token(actor=world.support, name="  crm \n kiosk  ", now=t.NEW_PROCESS)
    assert ApiToken.objects.get().name == "crm kiosk"  # its white space made single spaces


def test_the_command_prints_a_token_once_and_revokes(client, world, at):
    out = StringIO()
    call_command("api-token", "--user", "utgivare", "--name", "print shop", stdout=out)
    token = out.getvalue().strip()
    assert Caller(client, token).get("/letters").status_code == 200
    record = ApiToken.objects.get(name="print shop")
    call_command("api-token", "--user", "utgivare", "--revoke", str(record.pk), stdout=StringIO())
    assert Caller(client, token).get("/letters").status_code == 401


def test_a_token_expires_after_90_days_by_default(client, world, at):
    from datetime import timedelta

    token = tokens.issue_token(actor=world.support, name="crm", now=t.NEW_PROCESS)
    record = ApiToken.objects.get()
    assert record.expires_at == t.NEW_PROCESS + timedelta(days=90)
    last_second = record.expires_at - timedelta(seconds=1)
    assert tokens.authenticate(token, now=last_second) == world.support
    assert tokens.authenticate(token, now=record.expires_at) is None
    at(record.expires_at)
    response = Caller(client, token).get("/blocks")
    assert response.status_code == 401 and token not in response.content.decode()
    (issued,) = AuditEntry.objects.filter(action="issue_api_token")
    assert datetime.fromisoformat(issued.after["expires_at"]) == record.expires_at


def test_the_lifetime_is_set_per_token_or_for_all(settings, world):
    from datetime import timedelta

    tokens.issue_token(actor=world.support, name="short", now=t.NEW_PROCESS, days=7)
    settings.EKORT_API_TOKEN_DAYS = 30
    tokens.issue_token(actor=world.support, name="default", now=t.NEW_PROCESS)
    lives = {r.name: r.expires_at - r.created_at for r in ApiToken.objects.all()}
    assert lives == {"short": timedelta(days=7), "default": timedelta(days=30)}
    for days in (0, -1, 367, "90"):
        with pytest.raises(InvalidInput):
            tokens.issue_token(actor=world.support, name="bad", now=t.NEW_PROCESS, days=days)
    assert ApiToken.objects.count() == 2


def test_an_issuer_admin_lists_and_revokes_every_token(world):
    from datetime import timedelta

    later = t.NEW_PROCESS + timedelta(days=100)
    tokens.issue_token(actor=world.support, name="old", now=t.NEW_PROCESS)
    tokens.issue_token(actor=world.holder, name="app", now=later - timedelta(days=1))
    listed = tokens.list_tokens(actor=world.issuer, now=later)
    assert [(row.record.name, row.state) for row in listed] == [
        ("app", tokens.TokenState.LIVE),
        ("old", tokens.TokenState.EXPIRED),
    ]
    assert {row.record.user.get_username() for row in listed} == {"erik", "support"}
    for someone in (world.support, world.holder, world.id_admin):
        with pytest.raises(Refused) as refused:
            tokens.list_tokens(actor=someone, now=later)
        assert refused.value.rule == "E10"
    app = ApiToken.objects.get(name="app")
    tokens.revoke_token(actor=world.issuer, token_id=app.pk, now=later)
    listed = tokens.list_tokens(actor=world.issuer, now=later)
    assert listed[0].state == tokens.TokenState.REVOKED
    (revoked,) = AuditEntry.objects.filter(action="revoke_api_token")
    assert (revoked.actor, revoked.after["user"]) == ("utgivare", "erik")


def test_the_command_sets_the_lifetime_and_lists_tokens(world):
    from datetime import timedelta

    call_command(
        "api-token", "--user", "utgivare", "--name", "bureau", "--days", "14", stdout=StringIO()
    )
    record = ApiToken.objects.get(name="bureau")
    assert record.expires_at - record.created_at == timedelta(days=14)
    out = StringIO()
    call_command("api-token", "--user", "utgivare", "--list", stdout=out)
    listed = out.getvalue()
    assert "bureau" in listed and "utgivare" in listed and "live" in listed
    assert record.digest not in listed


# --- a whole journey ---


def test_full_journey_over_the_api(as_, world):
    orderer, id_admin, issuer = as_(world.orderer), as_(world.id_admin), as_(world.issuer)
    holder = as_(world.holder)

    card_id = _order(as_, world)
    assert holder.get(f"/cards/{card_id}").json()["state"] == "ordered"
    assert id_admin.post(f"/cards/{card_id}/photograph", _photo()).json()["state"] == (
        "photographed"
    )
    produced = issuer.post(f"/cards/{card_id}/produce").json()
    assert produced["state"] == "produced" and produced["generation"] == "portrait-2024"
    sent = issuer.post(f"/cards/{card_id}/send").json()
    assert (sent["state"], sent["activation_deadline"]) == ("sent_inactive", "2024-04-30")

    queue = issuer.get("/letters").json()
    assert [(q["kind"], q["card_id"]) for q in queue] == [("cover_letter", card_id)]

    activated = id_admin.post(f"/cards/{card_id}/activate", {"document": DOCUMENT, "pin": PIN})
    assert activated.status_code == 200, activated.content
    assert activated.json()["state"] == "active"

    letter = holder.post(f"/cards/{card_id}/pin-letter")
    assert letter.status_code == 201 and letter.json()["kind"] == "pin_puk_letter"
    unlocked = id_admin.post(f"/cards/{card_id}/unlock-pin", {"new_pin": "518306"})
    assert unlocked.status_code == 200

    blocked = holder.post(
        f"/cards/{card_id}/block", {"reason": "lost", "requested_by": "the holder"}
    )
    assert blocked.status_code == 200
    assert blocked.json()["state"] == "blocked"
    assert blocked.json()["block"]["reason"] == "lost"
    assert holder.get("/blocks", card_id=card_id).json()[0]["requested_by"] == "the holder"

    # No reason: refused; a reason that blocks at once, unconfirmed: refused, nothing changed.
    assert orderer.post(f"/cards/{card_id}/replace", {"note": "x"}).status_code == 422
    unconfirmed = orderer.post(f"/cards/{card_id}/replace", {"reason": "lost"})
    assert unconfirmed.status_code == 422 and "confirm_block" in unconfirmed.content.decode()
    assert orderer.post(f"/cards/{card_id}/replace", {"reason": "bored"}).status_code == 422
    replaced = orderer.post(
        f"/cards/{card_id}/replace",
        {"reason": "lost", "note": "lost on the bus", "confirm_block": True},
    )
    assert replaced.status_code == 201
    assert replaced.json()["replaces_card_id"] == card_id
    mine = holder.get(f"/persons/{world.employee.pk}/cards").json()
    assert [(c["id"], c["state"]) for c in mine] == [
        (card_id, "blocked"),
        (replaced.json()["id"], "ordered"),
    ]
    assert audit.verify_trail() == []


def test_the_pin_appears_in_no_response_and_no_audit_entry(as_, world):
    card_id = _sent(as_, world)
    id_admin = as_(world.id_admin)
    # Refused or malformed PINs are not echoed either.
    too_simple = id_admin.post(
        f"/cards/{card_id}/activate", {"document": DOCUMENT, "pin": "777777"}
    )
    _refusal(too_simple, 409, "E6")
    for bad in ("40291", "40a918", "4029183375029183"):
        response = id_admin.post(f"/cards/{card_id}/activate", {"document": DOCUMENT, "pin": bad})
        assert response.status_code == 422
        assert bad not in response.content.decode()
    too_long = "4" * 40
    response = id_admin.post(f"/cards/{card_id}/activate", {"document": DOCUMENT, "pin": too_long})
    assert response.status_code == 422 and too_long not in response.content.decode()
    ok = id_admin.post(f"/cards/{card_id}/activate", {"document": DOCUMENT, "pin": PIN})
    assert ok.status_code == 200
    id_admin.post(f"/cards/{card_id}/unlock-pin", {"new_pin": "518306"})

    for secret in (PIN, "777777", "518306"):
        assert not any(secret in body for body in Caller.seen), secret
    trail = json.dumps(list(AuditEntry.objects.values("before", "after", "reason")))
    assert PIN not in trail and "518306" not in trail and "777777" not in trail


def test_legacy_hand_out_over_the_api(as_, world, at):
    at(t.LEGACY_COMPANY)
    card_id = _sent(as_, world)
    assert as_(world.id_admin).get(f"/cards/{card_id}").json()["state"] == "awaiting_pickup"
    handed = as_(world.id_admin).post(f"/cards/{card_id}/hand-out", {"document": DOCUMENT})
    assert handed.status_code == 200 and handed.json()["state"] == "active"


def test_four_eyes_hand_out_over_the_api(as_, world, at):
    # A reserve card at assurance level 3: one ID administrator registers, another approves (E11).
    at(t.RESERVE_ONLY)
    card_id = _sent(as_, world, "reserve")
    first, second = as_(world.id_admin), as_(world.id_admin_2)
    registered = first.post(f"/cards/{card_id}/hand-out", {"document": DOCUMENT})
    assert registered.status_code == 200, registered.content
    body = registered.json()
    assert body["state"] == "awaiting_pickup"
    assert body["pending_approval"]["registered_by"] == "idadmin"
    assert body["pending_approval"]["document_kind"] == "passport"
    assert body["pending_approval"]["document_expires_on"] == "2030-01-01"
    assert PASSPORT.number not in registered.content.decode()  # orderers read cards too
    _refusal(first.post(f"/cards/{card_id}/approve-hand-out"), 409, "E11")
    _refusal(as_(world.support).post(f"/cards/{card_id}/approve-hand-out"), 403, "E10")
    approved = second.post(f"/cards/{card_id}/approve-hand-out")
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "active" and approved.json()["pending_approval"] is None
    _refusal(first.post(f"/cards/{card_id}/approve-hand-out"), 409, "E1")


def test_withdraw_a_registered_hand_out_over_the_api(as_, world, at):
    at(t.RESERVE_ONLY)
    card_id = _sent(as_, world, "reserve")
    admin = as_(world.id_admin)
    _refusal(admin.post(f"/cards/{card_id}/withdraw-hand-out", {}), 409, "E11")
    assert admin.post(f"/cards/{card_id}/hand-out", {"document": DOCUMENT}).status_code == 200
    withdrawn = as_(world.id_admin_2).post(
        f"/cards/{card_id}/withdraw-hand-out", {"reason": "fel nummer"}
    )
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["state"] == "awaiting_pickup"
    assert withdrawn.json()["pending_approval"] is None


def test_four_eyes_activation_over_the_api(as_, world):
    # A reserve card sent home inactive at assurance level 3: one ID administrator registers the
    # document without a PIN, another approves while the holder types it (E11, R9).
    card_id = _sent(as_, world, "reserve")
    first, second = as_(world.id_admin), as_(world.id_admin_2)
    with_pin = first.post(f"/cards/{card_id}/activate", {"document": DOCUMENT, "pin": PIN})
    _refusal(with_pin, 409, "E11")
    assert "chosen when a second ID administrator approves" in with_pin.json()["en"]
    assert first.get(f"/cards/{card_id}").json()["pending_approval"] is None
    registered = first.post(f"/cards/{card_id}/activate", {"document": DOCUMENT})
    assert registered.status_code == 200, registered.content
    body = registered.json()
    assert body["state"] == "sent_inactive" and body["activated_at"] is None
    assert body["pending_approval"]["purpose"] == "activation"
    assert body["pending_approval"]["registered_by"] == "idadmin"
    assert PASSPORT.number not in registered.content.decode()  # orderers read cards too
    pins = {"pin": PIN, "pin_repeat": PIN}
    _refusal(first.post(f"/cards/{card_id}/approve-activation", pins), 409, "E11")
    _refusal(as_(world.support).post(f"/cards/{card_id}/approve-activation", pins), 403, "E10")
    differ = second.post(
        f"/cards/{card_id}/approve-activation", {"pin": PIN, "pin_repeat": "739165"}
    )
    assert differ.status_code == 422 and "739165" not in differ.content.decode()
    assert second.post(f"/cards/{card_id}/approve-activation", {"pin": PIN}).status_code == 422
    approved = second.post(f"/cards/{card_id}/approve-activation", pins)
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "active" and approved.json()["pending_approval"] is None
    _refusal(second.post(f"/cards/{card_id}/approve-activation", pins), 409, "E1")
    assert not any(PIN in body for body in Caller.seen)
    assert "739165" not in json.dumps(list(AuditEntry.objects.values("before", "after")))


def test_withdraw_a_registered_activation_over_the_api(as_, world):
    card_id = _sent(as_, world, "reserve")
    admin = as_(world.id_admin)
    assert admin.post(f"/cards/{card_id}/activate", {"document": DOCUMENT}).status_code == 200
    withdrawn = as_(world.id_admin_2).post(
        f"/cards/{card_id}/withdraw-hand-out", {"reason": "fel nummer"}
    )
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["state"] == "sent_inactive"
    assert withdrawn.json()["pending_approval"] is None


def test_a_one_administrator_activation_still_needs_its_pin(as_, world):
    card_id = _sent(as_, world)
    response = as_(world.id_admin).post(f"/cards/{card_id}/activate", {"document": DOCUMENT})
    assert response.status_code == 422


def test_cancel_an_order(as_, world):
    card_id = _order(as_, world, "reserve")
    cancelled = as_(world.orderer).post(f"/cards/{card_id}/cancel", {"reason": "not needed"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"


# --- refusals ---


def test_each_refusal_names_its_rule(as_, world, at):
    orderer, issuer, support = as_(world.orderer), as_(world.issuer), as_(world.support)
    stranger = factories.person(given="Sven", family="Främling")
    _refusal(orderer.post("/orders", {"person_id": stranger.pk, "card_type": "photo"}), 409, "E2")

    card_id = _order(as_, world)
    _refusal(
        orderer.post("/orders", {"person_id": world.employee.pk, "card_type": "photo"}), 409, "E8"
    )
    _refusal(issuer.post(f"/cards/{card_id}/produce"), 409, "E1")
    _refusal(issuer.post(f"/cards/{card_id}/send"), 409, "E1")

    reserve = _sent(as_, world, "reserve")
    block = {"reason": "stolen", "requested_by": "the holder"}
    assert support.post(f"/cards/{reserve}/block", block).status_code == 200
    _refusal(support.post(f"/cards/{reserve}/block", block), 409, "E9")

    at(t.DURING_FREEZE)
    _refusal(
        orderer.post("/orders", {"person_id": world.manager.pk, "card_type": "photo"}), 409, "E2"
    )
    other = factories.person(given="Ny", family="Anställd", manager=world.manager)
    _refusal(orderer.post("/orders", {"person_id": other.pk, "card_type": "photo"}), 409, "R4")


def test_role_refusals_are_403_with_e10(as_, world):
    card_id = _order(as_, world, "reserve")
    holder, orderer, support = as_(world.holder), as_(world.orderer), as_(world.support)
    _refusal(holder.post(f"/cards/{card_id}/produce"), 403, "E10")
    _refusal(orderer.get("/letters"), 403, "E10")
    _refusal(holder.get("/blocks"), 403, "E10")
    _refusal(holder.post("/persons/search", {"hsa_id": world.employee.hsa_id}), 403, "E10")
    person = {"identity_number": factories.identity_number(), "given_name": "A", "family_name": "B"}
    _refusal(orderer.post("/persons", person), 403, "E10")
    _refusal(
        support.post(f"/cards/{card_id}/activate", {"document": DOCUMENT, "pin": PIN}), 403, "E10"
    )


def test_a_holder_cannot_see_another_persons_card(as_, world):
    colleague = factories.person(given="Kollega", family="Annan", manager=world.manager)
    theirs = _order(as_, world, "reserve", person_id=colleague.pk)
    mine = _order(as_, world, "reserve")
    holder = as_(world.holder)
    assert holder.get(f"/cards/{mine}").status_code == 200
    _refusal(holder.get(f"/cards/{theirs}"), 403, "E10")
    _refusal(holder.get(f"/persons/{colleague.pk}/cards"), 403, "E10")
    _refusal(holder.get(f"/persons/{colleague.pk}"), 403, "E10")
    _refusal(holder.get("/blocks", card_id=theirs), 403, "E10")
    _refusal(
        holder.post(f"/cards/{theirs}/block", {"reason": "lost", "requested_by": "me"}), 403, "E10"
    )
    assert holder.get("/cards/987654").status_code == 404
    # The orderer sees the persons she manages, staff see everyone.
    assert as_(world.orderer).get(f"/cards/{theirs}").status_code == 200
    assert as_(world.support).get(f"/cards/{theirs}").status_code == 200


# --- persons ---


def test_identity_number_search_is_in_the_body(as_, world):
    id_admin, orderer = as_(world.id_admin), as_(world.orderer)
    number = world.employee.identity_number
    found = id_admin.post("/persons/search", {"identity_number": f"{number[:8]}-{number[8:]}"})
    assert found.status_code == 200
    assert [(p["id"], p["identity_number"]) for p in found.json()] == [(world.employee.pk, number)]
    # An orderer finds the persons she manages, with the number masked, and no one else.
    assert orderer.post("/persons/search", {"identity_number": number}).json()[0][
        "identity_number"
    ] == (f"{number[:8]}-****")
    stranger = factories.person(given="Sven", family="Främling")
    assert (
        orderer.post("/persons/search", {"identity_number": stranger.identity_number}).json() == []
    )
    assert id_admin.post("/persons/search", {"hsa_id": world.employee.hsa_id}).json()[0]["id"] == (
        world.employee.pk
    )
    card_id = _sent(as_, world, "reserve")
    card_number = Card.objects.get(pk=card_id).number
    assert id_admin.post("/persons/search", {"card_number": card_number}).json()[0]["id"] == (
        world.employee.pk
    )
    assert id_admin.post("/persons/search", {"identity_number": "19850312-0000"}).status_code == 422
    assert id_admin.post("/persons/search", {}).status_code == 422
    both = {"identity_number": number, "hsa_id": world.employee.hsa_id}
    assert id_admin.post("/persons/search", both).status_code == 422
    # Never in a URL: a query string is not read.
    assert id_admin.get("/persons/search", identity_number=number).status_code == 405


def test_register_a_person_and_protected_addresses(as_, world):
    number = factories.identity_number("19900214")
    created = as_(world.support).post(
        "/persons",
        {
            "identity_number": number,
            "given_name": "Skyddad",
            "family_name": "Person",
            "street_address": "Hemligvägen 2",
            "postal_code": "803 20",
            "postal_town": "Gävle",
            "manager_id": world.manager.pk,
            "protected_identity": True,
        },
    )
    assert created.status_code == 201, created.content
    person_id = created.json()["id"]
    entry = AuditEntry.objects.get(action="register_person")
    assert number not in json.dumps(entry.after)

    assert as_(world.orderer).get(f"/persons/{person_id}").json()["address"] is None
    # Staff see a protected address only with the permission of its own, and never in a list.
    for staff in (world.support, world.issuer, world.id_admin):
        assert as_(staff).get(f"/persons/{person_id}").json()["address"] is None
        factories.grant(staff, Grant.PROTECTED_ADDRESSES)
        shown = as_(staff).get(f"/persons/{person_id}").json()
        assert shown["address"]["street_address"] == "Hemligvägen 2"
    [listed] = as_(world.support).post("/persons/search", {"identity_number": number}).json()
    assert listed["address"] is None
    assert as_(world.orderer).get(f"/persons/{world.employee.pk}").json()["address"] is not None


# --- hostile input ---


def test_hostile_input_is_refused_plainly(as_, world):
    orderer, id_admin = as_(world.orderer), as_(world.id_admin)
    huge = 10**30
    assert orderer.get(f"/cards/{huge}").status_code in (404, 422)
    assert orderer.post("/orders", {"person_id": huge, "card_type": "photo"}).status_code == 422
    assert orderer.post("/orders", {"person_id": -1, "card_type": "photo"}).status_code == 422
    nul = {"person_id": world.employee.pk, "card_type": "photo", "note": "a\x00b"}
    assert orderer.post("/orders", nul).status_code == 422
    assert (
        orderer.post("/orders", {"person_id": world.employee.pk, "card_type": "gold"}).status_code
        == 422
    )
    unparsable = orderer.post("/orders", raw="{not json")
    assert unparsable.status_code == 400 and set(unparsable.json()) == {"detail"}
    assert orderer.post("/orders", raw="[]").status_code in (400, 422)
    card_id = _order(as_, world)
    for photo in ("not base64!!", base64.b64encode(b"GIF89a....").decode()):
        assert (
            id_admin.post(f"/cards/{card_id}/photograph", {"photo_base64": photo}).status_code
            == 422
        )
    long_note = {"person_id": world.employee.pk, "card_type": "reserve", "note": "x" * 501}
    assert orderer.post("/orders", long_note).status_code == 422
    assert Card.objects.count() == 1


def test_no_error_repeats_personal_input(as_, world, client):
    """Whatever a caller typed (an identity number, an HSA-id, a name, a document), no error
    repeats it: errors travel to logs and tickets further than the person who typed it."""
    support, orderer, id_admin = as_(world.support), as_(world.orderer), as_(world.id_admin)
    card_id = _sent(as_, world, "reserve")
    typed = {
        "wrong check digit": ("/persons/search", {"identity_number": "199001011235"}),
        "short form, wrong check digit": ("/persons/search", {"identity_number": "900101-1235"}),
        "no such date": ("/persons/search", {"identity_number": "19900231-1234"}),
        "a day in the future": ("/persons/search", {"identity_number": "20990101-1234"}),
        "not a number at all": ("/persons/search", {"identity_number": "Kalle Anka 1234"}),
        "a bad HSA-id": ("/persons/search", {"hsa_id": "SE2321000198-kalle.anka"}),
        "a bad card number": ("/persons/search", {"card_number": "9752210000123457"}),
        "a bad identity number to register": (
            "/persons",
            {"identity_number": "199001011235", "given_name": "Kalle", "family_name": "Anka"},
        ),
        "someone's HSA-id taken": (
            "/persons",
            {
                "identity_number": factories.identity_number("19910101"),
                "given_name": "Kalle",
                "family_name": "Anka",
                "hsa_id": world.employee.hsa_id,
            },
        ),
        "someone's identity number taken": (
            "/persons",
            {
                "identity_number": world.employee.identity_number,
                "given_name": "Kalle",
                "family_name": "Anka",
            },
        ),
        "a document kind": (
            f"/cards/{card_id}/activate",
            {"document": {"kind": "Kalle Ankas pass", "number": "AB1234567"}},
        ),
        "a document number": (
            f"/cards/{card_id}/activate",
            {"document": {"kind": "passport", "number": "Kalle-Anka-1234"}},
        ),
    }
    for what, (path, body) in typed.items():
        caller = id_admin if "activate" in path else support
        response = caller.post(path, body)
        assert response.status_code in (400, 409, 422), (what, response.status_code)
        text = response.content.decode()
        for value in _personal_values(body):
            assert value not in text, f"{what}: {text}"
    card_type = orderer.post("/orders", {"person_id": world.employee.pk, "card_type": "Kalle"})
    assert card_type.status_code == 422 and "Kalle" not in card_type.content.decode()
    reason = {"reason": "Kalle Anka lost it", "requested_by": "Kalle Anka"}
    blocked = support.post(f"/cards/{card_id}/block", reason)
    assert blocked.status_code == 422 and "Kalle" not in blocked.content.decode()
    at = client.get(f"{API}/rules", {"at": "Kalle Anka 19900101"})
    assert at.status_code == 422 and "Kalle" not in at.content.decode()


def _personal_values(body: Any) -> list[str]:
    """Every string of a body worth hiding, and the digits of the identity numbers in it."""
    values: list[str] = []
    for value in body.values():
        if isinstance(value, dict):
            values += _personal_values(value)
        elif isinstance(value, str) and len(value) >= 4 and value not in ("Kalle", "passport"):
            values.append(value)
            digits = "".join(c for c in value if c.isdigit())
            if len(digits) >= 10:
                values += [digits, digits[-10:]]
    return values


# --- rules and the OpenAPI document ---


def test_rules_for_a_date_are_public(client, db):
    response = client.get(f"{API}/rules", {"at": "2024-01-24"})
    assert response.status_code == 200
    report = response.json()
    assert report["period"]["name"] and any(row["rule"] == "R4" for row in report["rules"])
    assert client.get(f"{API}/rules", {"at": "den tjugofjärde"}).status_code == 422


EXPECTED_PATHS = {
    "/api/v1/persons/search": "post",
    "/api/v1/persons": "post",
    "/api/v1/persons/{person_id}": "get",
    "/api/v1/persons/{person_id}/cards": "get",
    "/api/v1/orders": "post",
    "/api/v1/cards/{card_id}": "get",
    "/api/v1/cards/{card_id}/cancel": "post",
    "/api/v1/cards/{card_id}/replace": "post",
    "/api/v1/renewals": "get",
    "/api/v1/cards/{card_id}/photograph": "post",
    "/api/v1/cards/{card_id}/produce": "post",
    "/api/v1/cards/{card_id}/send": "post",
    "/api/v1/cards/{card_id}/hand-out": "post",
    "/api/v1/cards/{card_id}/approve-hand-out": "post",
    "/api/v1/cards/{card_id}/withdraw-hand-out": "post",
    "/api/v1/cards/{card_id}/activate": "post",
    "/api/v1/cards/{card_id}/approve-activation": "post",
    "/api/v1/cards/{card_id}/block": "post",
    "/api/v1/cards/{card_id}/pin-letter": "post",
    "/api/v1/cards/{card_id}/unlock-pin": "post",
    "/api/v1/letters": "get",
    "/api/v1/letters/{letter_id}/pdf": "get",
    "/api/v1/letters/mark-printed": "post",
    "/api/v1/cards/{card_id}/certificates": "get",
    "/api/v1/cards/{card_id}/signature-certificate": "post",
    "/api/v1/cards/{card_id}/additional-certificate": "post",
    "/api/v1/cards/{card_id}/additional-certificate/swap": "post",
    "/api/v1/cards/{card_id}/additional-certificate/remove": "post",
    "/api/v1/blocks": "get",
    "/api/v1/rules": "get",
}


def test_openapi_document(client, db):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)
    for path, method in EXPECTED_PATHS.items():
        assert method in document["paths"].get(path, {}), path
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    # Each field says what it takes: enums for the vocabularies, patterns for the forms.
    schemas = document["components"]["schemas"]
    assert set(schemas["CardType"]["enum"]) == {"photo", "reserve"}
    assert (
        "lost" in schemas["BlockReason"]["enum"] and "passport" in schemas["DocumentKind"]["enum"]
    )
    search = schemas["PersonSearchIn"]
    assert (search["minProperties"], search["maxProperties"]) == (1, 1)
    assert search["properties"]["identity_number"]["format"] == "personnummer"
    assert search["properties"]["hsa_id"]["pattern"].startswith("^SE")
    assert schemas["UnlockPinIn"]["properties"]["new_pin"]["pattern"] == "^[0-9]{6,8}$"
    # A body that does not parse is a documented 400, wherever a body is taken.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "400" in operation["responses"], f"{method.upper()} {path}"
    # No identity number in any URL: no path or query parameter names one.
    for path, operations in document["paths"].items():
        assert "identity" not in path and "personnummer" not in path
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter["name"].lower()
                assert not any(word in name for word in ("identity", "personnummer", "pnr")), path
