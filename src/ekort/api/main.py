"""The API object: authentication, error mapping and the routers.

Errors are JSON with a fixed shape:

- a rule refuses (`Refused`): 409 `{"rule", "sv", "en"}`; the account's roles refuse (rule
  E10): 403 with the same body,
- a body that does not parse as JSON: 400 `{"detail"}`,
- input that cannot be understood (`InvalidInput`, or a schema violation): 422 `{"detail"}`,
- an unknown id: 404 `{"detail"}`; no token, or a bad, expired or revoked one: 401 `{"detail"}`.

Nothing a caller sent is echoed in an error: schema errors carry where and what, not the
value (django-ninja drops pydantic's `input`), and the services' own sentences never quote an
identity number, an HSA-id, a name or anything else typed, so a mistyped PIN or personnummer
never comes back.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.services import clock, tokens

from . import cards, persons, queues, selfservice


class BearerToken(HttpBearer):
    """`Authorization: Bearer ekort_...`. Unlike ninja's own parsing, nothing of a malformed
    header is ever logged: it may be a token pasted in the wrong place."""

    def __call__(self, request: HttpRequest) -> Any | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        return tokens.authenticate(token, now=clock.now())


api = NinjaAPI(
    title="ekort API",
    version="1",
    description=__doc__ or "",
    urls_namespace="api-v1",
    auth=BearerToken(),
    # The Swagger page would load its scripts from a CDN unless "ninja" is an installed app;
    # the OpenAPI document itself is enough for clients and generators.
    docs_url=None,
)


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    status = 403 if exc.rule == "E10" else 409
    return api.create_response(
        request, {"rule": exc.rule, "sv": exc.sv, "en": exc.en}, status=status
    )


@api.exception_handler(InvalidInput)
def _invalid(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=422)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "A valid API token is needed (Authorization: Bearer ...)."}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="ekort"'
    return response


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": "The request body is too large."}, status=413)


api.add_router("/persons", persons.router, tags=["persons"])
api.add_router("/", cards.router, tags=["cards"])
api.add_router("/", queues.router, tags=["letters, blocks and rules"])
api.add_router("/", selfservice.router, tags=["certificates (self-service)"])
