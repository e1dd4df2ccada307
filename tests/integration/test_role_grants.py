"""Roles are granted and withdrawn only through `services.role_grants`: by a security officer,
never on their own account (E15), or at the server's command line (`ekort roles`); every grant
and withdrawal, and every account made with roles, is an entry in the audit chain. The security
officer reads, and changes nothing but the roles."""

from __future__ import annotations

import dataclasses
import getpass
from io import StringIO

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from ekort.domain.access import Grant
from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.domain.vocabulary import Role
from ekort.services import audit, organisation, role_grants
from ekort.services.roles import Console, roles_of
from ekort.store.models import AuditEntry
from tests import instants as t
from tests.integration.test_card_services import CARD_SERVICES

pytestmark = pytest.mark.django_db

NOW = t.sthlm(2024, 2, 6, 10)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no cached roles


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_a_security_officer_grants_and_withdraws_a_role_in_the_trail(world):
    officer, erik = world.security_officer, world.holder
    assert role_grants.grant_role(actor=officer, user_id=erik.pk, role="issuer_admin", now=NOW)
    assert roles_of(fresh(erik)) == {Role.HOLDER, Role.ISSUER_ADMIN}
    (granted,) = entries("grant_role")
    assert (granted.actor, granted.object_type, granted.object_id) == (
        "sakerhet",
        "account",
        str(erik.pk),
    )
    assert granted.before == {"roles": ["holder"]}
    assert granted.after == {
        "user": "erik",
        "role": "issuer_admin",
        "roles": ["holder", "issuer_admin"],
    }

    assert role_grants.withdraw_role(actor=officer, user_id=erik.pk, role="issuer_admin", now=NOW)
    assert roles_of(fresh(erik)) == {Role.HOLDER}
    (withdrawn,) = entries("withdraw_role")
    assert withdrawn.after["roles"] == ["holder"] and withdrawn.seq > granted.seq
    assert audit.verify_trail() == []
    # Nothing to do is nothing written.
    assert not role_grants.withdraw_role(
        actor=officer, user_id=erik.pk, role="issuer_admin", now=NOW
    )
    assert not role_grants.grant_role(actor=officer, user_id=erik.pk, role="holder", now=NOW)
    assert AuditEntry.objects.filter(object_type="account").count() == 2


def test_a_permission_of_its_own_is_granted_the_same_way(world):
    officer = world.security_officer
    role_grants.grant_role(
        actor=officer, user_id=world.support.pk, role=Grant.PROTECTED_ADDRESSES, now=NOW
    )
    assert fresh(world.support).groups.filter(name="protected_addresses").exists()
    assert entries("grant_role")[0].after["role"] == "protected_addresses"


def test_nobody_changes_their_own_roles(world):
    officer = world.security_officer
    for change in (role_grants.grant_role, role_grants.withdraw_role):
        with pytest.raises(Refused) as refused:
            change(actor=officer, user_id=officer.pk, role="security_officer", now=NOW)
        assert refused.value.rule == "E15"
    with pytest.raises(Refused) as refused:
        role_grants.grant_role(actor=officer, user_id=officer.pk, role="issuer_admin", now=NOW)
    assert refused.value.rule == "E15"
    assert roles_of(fresh(officer)) == {Role.SECURITY_OFFICER}
    assert not AuditEntry.objects.filter(object_type="account").exists()


@pytest.mark.parametrize("name", ["issuer", "support", "id_admin", "orderer", "holder"])
def test_only_a_security_officer_grants_roles(world, name):
    actor = getattr(world, name)
    for change in (role_grants.grant_role, role_grants.withdraw_role):
        with pytest.raises(Refused) as refused:
            change(actor=actor, user_id=world.holder.pk, role="issuer_admin", now=NOW)
        assert refused.value.rule == "E10"
    with pytest.raises(Refused):
        role_grants.accounts(actor=actor)
    assert roles_of(fresh(world.holder)) == {Role.HOLDER}
    assert not AuditEntry.objects.filter(object_type="account").exists()


def test_unknown_roles_and_accounts_change_nothing(world):
    officer = world.security_officer
    with pytest.raises(InvalidInput) as invalid:
        role_grants.grant_role(actor=officer, user_id=world.holder.pk, role="superuser", now=NOW)
    assert "superuser" not in str(invalid.value)
    with pytest.raises(NotFound):
        role_grants.grant_role(actor=officer, user_id=987654, role="holder", now=NOW)
    assert not AuditEntry.objects.filter(object_type="account").exists()


def test_an_account_made_with_roles_is_in_the_trail(world):
    user = organisation.create_user(
        actor=Console("ekort demo"),
        username="ny",
        password_hash=make_password(None),
        roles=[Role.SUPPORT, Role.HOLDER],
        now=NOW,
    )
    assert roles_of(user) == {Role.SUPPORT, Role.HOLDER}
    made = list(AuditEntry.objects.filter(object_id=str(user.pk), object_type="account"))
    assert [(e.action, e.actor) for e in made] == [
        ("create_account", "console:ekort demo"),
        ("grant_role", "console:ekort demo"),
        ("grant_role", "console:ekort demo"),
    ]
    assert made[-1].after["roles"] == ["holder", "support"]
    with pytest.raises(Refused) as refused:
        organisation.create_user(
            actor=world.issuer, username="x", password_hash="!", roles=[Role.ISSUER_ADMIN], now=NOW
        )
    assert refused.value.rule == "E10" and not User.objects.filter(username="x").exists()


def test_the_command_line_grants_the_first_security_officer(world):
    out = StringIO()
    call_command("roles", "grant", "--user", "support", "--role", "security_officer", stdout=out)
    assert "Granted security_officer for support" in out.getvalue()
    (granted,) = entries("grant_role")
    assert granted.actor == f"console:{getpass.getuser()}"
    assert Role.SECURITY_OFFICER in roles_of(fresh(world.support))
    listed = StringIO()
    call_command("roles", "list", "--user", "support", stdout=listed)
    assert listed.getvalue().strip() == "support: support, security_officer"
    call_command("roles", "withdraw", "--user", "support", "--role", "security_officer", stdout=out)
    assert len(entries("withdraw_role")) == 1
    with pytest.raises(CommandError, match="no such role"):
        call_command("roles", "grant", "--user", "support", "--role", "king", stdout=out)
    with pytest.raises(CommandError, match="no user"):
        call_command("roles", "grant", "--user", "nobody", "--role", "holder", stdout=out)


def test_the_security_officer_writes_nothing_but_the_roles(world):
    """Every card service, run by a security officer standing in for every account of the
    world, is refused with E10 and writes nothing."""
    from tests.integration import journeys

    card = journeys.activated(world, "photo", t.NEW_PROCESS, t.sthlm(2024, 2, 1, 10))
    officer = world.security_officer
    everyone_the_officer = dataclasses.replace(
        world,
        orderer=officer,
        id_admin=officer,
        id_admin_2=officer,
        support=officer,
        issuer=officer,
        holder=officer,
    )
    before = AuditEntry.objects.count()
    for name, service in CARD_SERVICES.items():
        with pytest.raises(Refused) as refused:
            service(everyone_the_officer, card.pk, NOW)
        assert refused.value.rule == "E10", name
    assert AuditEntry.objects.count() == before


def test_the_trail_reads_newest_first_by_action_or_actor(world):
    from ekort.services import history

    officer = world.security_officer
    role_grants.grant_role(actor=officer, user_id=world.holder.pk, role="support", now=NOW)
    role_grants.grant_role(actor=officer, user_id=world.orderer.pk, role="support", now=NOW)
    assert [e.object_id for e in history.trail(action="grant_role")] == [
        str(world.orderer.pk),
        str(world.holder.pk),
    ]
    assert history.trail(actor="nobody").count() == 0
    assert len(role_grants.grant_history(actor=officer, user_id=world.holder.pk)) == 1
