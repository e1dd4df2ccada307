"""The Django admin as a read-only window on the records. Changes go through the services, which
check the rules and write the audit trail; the admin never edits, adds or deletes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
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
