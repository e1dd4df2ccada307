from __future__ import annotations

from django.conf import settings
from django.db import models

from ekort.domain.identifiers import IdentityKind

from .choices import choices


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    organisation_number = models.CharField(max_length=10, unique=True)

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="units")
    name = models.CharField(max_length=200)
    hsa_id = models.CharField(max_length=31, unique=True, null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    # Canonical 12 digits, no separator (IdentityNumber.digits). Never put it in a URL.
    identity_number = models.CharField(max_length=12, unique=True)
    identity_kind = models.CharField(max_length=20, choices=choices(IdentityKind))
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    hsa_id = models.CharField(max_length=31, unique=True, null=True, blank=True)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT)
    # The manager who may order cards for this person (E2).
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    protected_identity = models.BooleanField(default=False)  # skyddade personuppgifter
    street_address = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=6, blank=True)
    postal_town = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    # The last day of employment (Stockholm); from the next day every live card is blocked (E13).
    employment_ends = models.DateField(null=True, blank=True)
    # When the register last changed the name: a card produced before shows an old name.
    name_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["family_name", "given_name"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def has_registered_address(self) -> bool:
        return bool(self.street_address and self.postal_code and self.postal_town)


class Account(models.Model):
    """A staff account: a Django user, the person it belongs to and, for ID administrators,
    their card office. Roles are Django groups named after `ekort.domain.vocabulary.Role`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account"
    )
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT)
    office = models.ForeignKey("ekort.CardOffice", null=True, blank=True, on_delete=models.PROTECT)

    def __str__(self) -> str:
        return self.user.get_username()
