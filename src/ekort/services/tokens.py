"""API tokens: issued once in clear, stored only as a SHA-256 digest, expiring, revocable.

A token acts as its user, with that user's role groups: the API checks nothing the services do
not check. The token is 256 random bits (`secrets.token_urlsafe(32)`) behind the prefix
"ekort_", so that a leaked token is recognisable to secret scanners. A digest of that much
randomness needs no salt or slow hash: it cannot be guessed, only stolen, and the database does
not hold what a thief would need. A token works for `EKORT_API_TOKEN_DAYS` days (90 unless set),
or as many as it was issued for (1-366); an issuer administrator lists every token and revokes
any (`list_tokens`, `revoke_token`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from ekort.domain.errors import InvalidInput, NotFound
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import Role
from ekort.store.models import ApiToken

from . import audit
from .roles import actor_label, require_role, roles_of

PREFIX = "ekort_"
# The prefix and 43 characters of URL-safe base64; anything much longer is not a token of ours
# and is refused before it is hashed.
_MAX_TOKEN_LENGTH = 100
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_DAYS = 366


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _name(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("The token's name must be text.")
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > 100 or not cleaned.isprintable():
        raise InvalidInput("Give the token a name of 1-100 printable characters.")
    return cleaned


def _lifetime(days: object) -> timedelta:
    """The token's days, or the configured default (`EKORT_API_TOKEN_DAYS`)."""
    if days is None:
        days = settings.EKORT_API_TOKEN_DAYS
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"A token works for 1-{MAX_DAYS} days; give a whole number of days.")
    return timedelta(days=days)


def _audit(actor: Any, action: str, token: ApiToken, now: datetime) -> None:
    audit.append(
        [
            audit.Change(
                actor=actor_label(actor),
                action=action,
                object_type="api_token",
                object_id=str(token.pk),
                at=now,
                # Never the token, nor its digest: the trail is read by more people than the API.
                after={
                    "user": token.user.get_username(),
                    "name": token.name,
                    "expires_at": token.expires_at.isoformat(),
                },
            ),
        ]
    )


def issue_token(
    *,
    actor: Any,
    name: object,
    now: datetime,
    user_id: int | None = None,
    days: object = None,
) -> str:
    """A new token for `actor` (any account with a role), or, for an issuer administrator,
    for another account, working for `days` days from `now` (default `EKORT_API_TOKEN_DAYS`).
    Returns the token in clear: the only time it is ever seen."""
    require_aware(now)
    label = _name(name)
    lifetime = _lifetime(days)
    if user_id is None or user_id == actor.pk:
        require_role(actor, *Role)
        user = actor
    else:
        require_role(actor, Role.ISSUER_ADMIN)
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise NotFound(f"There is no active account with id {user_id}.")
    token = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        record = ApiToken.objects.create(
            user=user,
            name=label,
            digest=digest_of(token),
            created_at=now,
            expires_at=now + lifetime,
        )
        _audit(actor, "issue_api_token", record, now)
    return token


def revoke_token(*, actor: Any, token_id: int, now: datetime) -> ApiToken:
    """Revoke a token: its owner may, and so may an issuer administrator. Someone else's
    token is reported as not found, so that token ids cannot be probed."""
    require_aware(now)
    with transaction.atomic():
        record = (
            ApiToken.objects.select_for_update().select_related("user").filter(pk=token_id).first()
        )
        mine = record is not None and record.user_id == actor.pk
        if record is None or not (mine or Role.ISSUER_ADMIN in roles_of(actor)):
            raise NotFound(f"There is no API token with id {token_id}.")
        if not record.revoked:
            record.revoked = True
            record.save(update_fields=["revoked"])
            _audit(actor, "revoke_api_token", record, now)
        return record


class TokenState(StrEnum):
    LIVE = "live"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class TokenRow:
    """A token as the issuer administrator's list shows it: never the token or its digest."""

    record: ApiToken
    state: TokenState


def state_of(record: ApiToken, now: datetime) -> TokenState:
    if record.revoked:
        return TokenState.REVOKED
    return TokenState.LIVE if now < record.expires_at else TokenState.EXPIRED


def list_tokens(*, actor: Any, now: datetime, limit: int = 500) -> list[TokenRow]:
    """Every token, the newest first, with whose it is and whether it works at `now`: for an
    issuer administrator (E10)."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN)
    records = ApiToken.objects.select_related("user").order_by("-created_at", "-pk")[:limit]
    return [TokenRow(record, state_of(record, now)) for record in records]


def authenticate(token: object, *, now: datetime) -> Any | None:
    """The active user a live token belongs to at `now`, or None: unknown, revoked and
    expired tokens alike. The token's last use is recorded.

    The lookup is by digest, so the time it takes says nothing about how much of a guessed
    token was right; the final comparison is constant-time as well.
    """
    require_aware(now)
    if (
        not isinstance(token, str)
        or not token.startswith(PREFIX)
        or len(token) > _MAX_TOKEN_LENGTH
        or not _URLSAFE.issuperset(token[len(PREFIX) :])
    ):
        return None
    digest = digest_of(token)
    record = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest, revoked=False, expires_at__gt=now)
        .first()
    )
    if record is None or not hmac.compare_digest(record.digest, digest):
        return None
    user = record.user
    if not user.is_active:
        return None
    ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return user
