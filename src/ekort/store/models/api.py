"""API tokens: who may call the REST API. Only the SHA-256 digest of a token is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token for `/api/v1/`, acting as its user (with that user's roles).

    The token itself is shown once, when issued; the database keeps its SHA-256 `digest`, so
    a copy of the database does not give anyone API access. It works until `expires_at` (90
    days after it was issued, unless said otherwise). A revoked or expired token is kept, so
    that the audit trail's references to it stay meaningful.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the token
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"API token {self.name!r} of user {self.user_id}"
