"""The Django admin is a read-only window on the records: its superuser cannot add or change
users, groups or permissions, and so cannot make anyone an issuer administrator (issue 12).
Roles are granted only by the audited service (`services.role_grants`)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User

from ekort.domain.vocabulary import Role
from ekort.store.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin", password=None)


def test_the_admin_cannot_add_a_user_or_make_one_an_issuer(client, superuser, w):
    client.force_login(superuser)
    issuers = Group.objects.get(name=Role.ISSUER_ADMIN.value)
    users_before = User.objects.count()
    assert client.get("/admin/auth/user/add/").status_code == 403
    added = client.post(
        "/admin/auth/user/add/",
        {"username": "mallory", "password1": "S3cret-enough!", "password2": "S3cret-enough!"},
    )
    assert added.status_code == 403
    assert User.objects.count() == users_before
    holder = w.holder
    changed = client.post(
        f"/admin/auth/user/{holder.pk}/change/",
        {"username": holder.username, "groups": [issuers.pk], "is_active": "on"},
    )
    assert changed.status_code == 403
    assert not holder.groups.filter(pk=issuers.pk).exists()
    assert client.get(f"/admin/auth/user/{holder.pk}/password/").status_code == 403
    assert client.post(f"/admin/auth/user/{holder.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=holder.pk).exists()
    assert not AuditEntry.objects.filter(object_type="account").exists()


def test_the_admin_cannot_change_groups_or_permissions(client, superuser, w):
    client.force_login(superuser)
    issuers = Group.objects.get(name=Role.ISSUER_ADMIN.value)
    assert client.get("/admin/auth/group/add/").status_code == 403
    assert client.post("/admin/auth/group/add/", {"name": "issuer_admin2"}).status_code == 403
    permission = Permission.objects.first()
    renamed = client.post(
        f"/admin/auth/group/{issuers.pk}/change/",
        {"name": "renamed", "permissions": [permission.pk]},
    )
    assert renamed.status_code == 403
    issuers.refresh_from_db()
    assert issuers.name == Role.ISSUER_ADMIN.value and not issuers.permissions.exists()
    assert (
        client.post(f"/admin/auth/group/{issuers.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Group.objects.filter(pk=issuers.pk).exists()
    assert client.get("/admin/auth/permission/").status_code == 404  # not in the admin at all


def test_the_admin_still_reads_accounts_and_groups(client, superuser, w):
    client.force_login(superuser)
    users = client.get("/admin/auth/user/")
    assert users.status_code == 200 and w.issuer.username in users.content.decode()
    assert client.get(f"/admin/auth/user/{w.issuer.pk}/change/").status_code == 200
    page = client.get(f"/admin/auth/user/{w.issuer.pk}/change/").content.decode()
    assert 'name="username"' not in page and "pbkdf2" not in page and "md5$" not in page
    assert client.get("/admin/auth/group/").status_code == 200


def test_the_admin_cannot_lift_a_lockout_or_delete_sign_in_records(client, superuser, w):
    """Sign-in throttling's records (django-axes) are read-only too: deleting an attempt would
    lift an account's or an address's lock outside the trail, and deleting the sign-in log would
    hide who signed in. A lock is lifted on the server (`ekort axes_reset_username`)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for attempt in range(5):
        client.post("/logga-in/", {"username": w.holder.username, "password": f"fel-{attempt}"})
    (attempt,) = AccessAttempt.objects.all()
    assert attempt.failures_since_start == 5
    client.force_login(superuser)
    (log,) = AccessLog.objects.all()  # the superuser's own sign-in
    # ekort does not keep this log (AXES_ENABLE_ACCESS_FAILURE_LOG), but its admin is there.
    failure = AccessFailureLog.objects.create(
        username=w.holder.username, ip_address="192.0.2.1", user_agent="x", locked_out=True
    )
    pages = {"accessattempt": attempt.pk, "accesslog": log.pk, "accessfailurelog": failure.pk}
    for model, pk in pages.items():
        assert client.get(f"/admin/axes/{model}/").status_code == 200, model
        deleted = client.post(f"/admin/axes/{model}/{pk}/delete/", {"post": "yes"})
        assert deleted.status_code == 403, model
        bulk = client.post(
            f"/admin/axes/{model}/",
            {"action": "delete_selected", "_selected_action": [pk], "post": "yes"},
        )
        assert bulk.status_code in (200, 302), model
    cleaned = client.post(
        "/admin/axes/accessattempt/",
        {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk]},
    )
    assert cleaned.status_code in (200, 302)
    assert AccessAttempt.objects.get(pk=attempt.pk).failures_since_start == 5
    assert AccessLog.objects.filter(pk=log.pk).exists()
    assert AccessFailureLog.objects.filter(pk=failure.pk).exists()
