"""Certificate records: the CAs, the certificates on cards, and the signed revocation status.

Private keys are not here: a CA row holds only a reference to its key in a key backend.
"""

from __future__ import annotations

from django.db import models

from .cards import Card


class CertificateAuthority(models.Model):
    class Role(models.TextChoices):
        ROOT = "root"
        ISSUING = "issuing"
        OCSP = "ocsp"  # the OCSP responder certificate of an issuing CA
        FOREIGN = "foreign"  # another region's issuer (additional certificates, R13)

    name = models.CharField(max_length=200, unique=True)
    role = models.CharField(max_length=10, choices=Role.choices)
    assurance_level = models.CharField(max_length=1, blank=True)  # "3" or "2" for issuing CAs
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    key_ref = models.CharField(max_length=200)  # "backend:label", see ekort.pki.keys.KeyRef
    certificate_der = models.BinaryField()
    # SHA-1 of the public key bit string and of the subject name: how OCSP requests name
    # their issuer (RFC 6960 CertID), so lookups need no parsing of certificates.
    key_sha1 = models.CharField(max_length=40, db_index=True)
    name_sha1 = models.CharField(max_length=40)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    crl_number = models.BigIntegerField(default=0)
    # Bumped whenever revocation status changes, so CRL and OCSP refreshes know what is new.
    status_revision = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class Certificate(models.Model):
    """A certificate issued to a card's key (or another region's certificate on the card)."""

    class Profile(models.TextChoices):
        AUTHENTICATION = "auth"  # SITHS eID (R11)
        SIGNATURE = "signature"  # downloaded by the holder (R12)
        ADDITIONAL = "additional"  # from another region (R13)

    class Status(models.TextChoices):
        # Issued with the card but not usable before activation (R8): relying parties see it
        # as revoked with reason certificateHold until the card is activated.
        ON_HOLD = "on_hold"
        VALID = "valid"
        REVOKED = "revoked"

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="certificates")
    # No index of its own: the unique (issuer, serial) constraint's index starts with it.
    issuer = models.ForeignKey(
        CertificateAuthority, on_delete=models.PROTECT, related_name="issued", db_index=False
    )
    profile = models.CharField(max_length=12, choices=Profile.choices)
    serial = models.CharField(max_length=40)  # lower-case hex, no leading zeros
    subject = models.CharField(max_length=500)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    der = models.BinaryField()
    status = models.CharField(max_length=10, choices=Status.choices)
    status_changed_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=30, blank=True)  # x509.ReasonFlags name
    on_card = models.BooleanField(default=True)  # False once removed from the card (R13)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "serial"], name="unique_serial_per_issuer")
        ]
        # No index on `status` or the other columns a revocation sets: then changing them
        # rewrites no index entry (a PostgreSQL HOT update, with the room migration 0008
        # leaves on each page), which made up most of a deadline sweep's certificate work. The
        # CRL, the one reader by status, reads its issuer's certificates in full anyway.

    def __str__(self) -> str:
        return f"{self.profile} certificate {self.serial}"


class OcspResponse(models.Model):
    """A signed OCSP response, made ahead of time so that answering is a lookup (RFC 6960)."""

    issuer = models.ForeignKey(CertificateAuthority, on_delete=models.CASCADE, related_name="+")
    serial = models.CharField(max_length=40)
    der = models.BinaryField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField(db_index=True)
    revision = models.BigIntegerField(db_index=True)  # a global counter: "what changed since"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "serial"], name="one_response_per_serial")
        ]

    def __str__(self) -> str:
        return f"OCSP response for {self.serial}"


class Crl(models.Model):
    issuer = models.ForeignKey(CertificateAuthority, on_delete=models.CASCADE, related_name="crls")
    number = models.BigIntegerField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField()
    der = models.BinaryField()
    entries = models.IntegerField()
    # The CA's status_revision the CRL reflects: a newer revision means a revocation since.
    status_revision = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "number"], name="crl_number")]

    def __str__(self) -> str:
        return f"CRL {self.number} of {self.issuer_id}"
