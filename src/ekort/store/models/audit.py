from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    """One change: who, when, what, why, before and after; chained to the entry before it.

    `mac` is an HMAC over this entry's content and the previous entry's `mac` (see
    `ekort.domain.audit_chain`), so an edited, removed or inserted entry breaks the chain.
    Entries are append-only; on PostgreSQL a trigger refuses UPDATE and DELETE as well.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)  # username, or "job:<name>" for the deadline jobs
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    reason = models.CharField(max_length=500, blank=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only.")


class AuditHead(models.Model):
    """The chain's last link. Locked by every append, which also orders concurrent appends,
    and compared by `ekort audit verify` so that removing the newest entries is noticed."""

    seq = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit head at #{self.seq}"
