"""The Django admin as a read-only window on the records. Changes go through the services, which
check the rules and write the audit trail; the admin never edits, adds or deletes.

That holds for Django's own users and groups too: a role is a group, so an admin that could
edit them could make anyone an issuer administrator, outside the audit trail. Roles are granted
and withdrawn only by `services.role_grants` (the security officer's page, `ekort roles`);
permissions are not in the admin at all. Nor does it delete sign-in throttling's records
(django-axes), which would lift a lock outside the audit trail.
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest

from . import models


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Card)
class CardAdmin(ReadOnlyAdmin):
    list_display = ("number", "card_type", "state", "generation", "person", "activation_deadline")
    list_filter = ("state", "card_type", "generation")
    search_fields = ("number", "person__family_name", "person__hsa_id")


@admin.register(models.Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("family_name", "given_name", "hsa_id", "unit", "protected_identity")
    search_fields = ("family_name", "given_name", "hsa_id")
    exclude = ("identity_number",)  # shown masked in the portal, never in lists


@admin.register(models.AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")


for model in (
    models.CardOffice,
    models.Block,
    models.Letter,
    models.IdentityCheck,
    models.CardOrder,
    models.Organisation,
    models.Unit,
):
    admin.site.register(model, ReadOnlyAdmin)


class ReadOnlyUserAdmin(ReadOnlyAdmin, UserAdmin):
    """Accounts and their groups (roles), to read. No password hash is shown, and the password
    form is refused with every other change."""

    list_display = ("username", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser", "groups")
    fieldsets = (
        (None, {"fields": ("username", "is_active", "is_staff", "is_superuser")}),
        ("Roles", {"fields": ("groups",)}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = (
        "username",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "last_login",
        "date_joined",
    )


class ReadOnlyGroupAdmin(ReadOnlyAdmin, GroupAdmin):
    readonly_fields = ("name", "permissions")


for auth_model, auth_admin in ((User, ReadOnlyUserAdmin), (Group, ReadOnlyGroupAdmin)):
    if admin.site.is_registered(auth_model):
        admin.site.unregister(auth_model)
    admin.site.register(auth_model, auth_admin)


class ReadOnlyAccessAttemptAdmin(ReadOnlyAdmin, AccessAttemptAdmin):
    """Sign-in throttling's counts (django-axes), to read: deleting one would lift an account's
    or an address's lock outside the audit trail. `ekort axes_reset_username` lifts a lock on
    the server (docs/operations.md)."""

    actions = ()


class ReadOnlyAccessLogAdmin(ReadOnlyAdmin, AccessLogAdmin):
    """Who signed in and out, when and from where, to read."""

    actions = ()


class ReadOnlyAccessFailureLogAdmin(ReadOnlyAdmin, AccessFailureLogAdmin):
    """Failed sign-ins, to read."""

    actions = ()


# axes registers its own admins (axes.admin, imported above) that delete; these replace them.
for axes_model, axes_admin in (
    (AccessAttempt, ReadOnlyAccessAttemptAdmin),
    (AccessLog, ReadOnlyAccessLogAdmin),
    (AccessFailureLog, ReadOnlyAccessFailureLogAdmin),
):
    if admin.site.is_registered(axes_model):
        admin.site.unregister(axes_model)
    admin.site.register(axes_model, axes_admin)
